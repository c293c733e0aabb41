"""A game bound to its file: commands are checked, applied, then saved in one transaction.

The session is what the web server and the terminal talk to. It owns the lock (web requests
arrive on several threads), the clock (injectable, so tests can move time), the join tokens
(checked against the hashes in the file; known in clear only from the secrets file), and the
rule that the file and the game in memory never disagree. An accepted command is first
applied to the game in memory, because a played turn's state is only known once the turn is
played; then the log entry and, for a played turn, the state it produced are written in one
transaction. A command that fails to apply is therefore never saved, and if saving fails the
game in memory is rebuilt from the file, so that no command stays applied without being
recorded. If even the file cannot be read back, the session refuses every further command.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

from sim.classroom import replies
from sim.classroom.config import ClassroomConfig, classroom_for, load_game_config
from sim.classroom.game import Entry, Game, Setup, TurnRecord
from sim.classroom.keys import (
    Secrets,
    new_code,
    new_token,
    normal_code,
    read_secrets,
    secrets_path,
    write_secrets,
)
from sim.classroom.store import GameFileError, GameStore, hashed
from sim.scenario.config import Scenario
from sim.scenario.errors import WargameError

Clock = Callable[[], float]


class ReplayError(WargameError):
    """A saved game that no longer replays to the state it reached (the model has changed)."""


def _upgrade(store: GameStore, db: str | Path) -> None:
    """A game file of format 1 kept its tokens in clear: move them to a secrets file beside it
    (written first, so that they are never lost), then keep only their hashes in the file."""
    legacy = store.legacy_tokens()
    if legacy is None:
        return
    facilitator, teams = legacy
    keys = Secrets(facilitator, teams, {a: new_code() for a in teams})
    write_secrets(db, keys)
    hashes = {a: (hashed(keys.teams[a]), hashed(keys.codes[a])) for a in teams}
    store.upgrade(hashed(facilitator), hashes)


def _new_keys(actors: list[str]) -> tuple[Secrets, dict[str, tuple[str, str]]]:
    """Fresh tokens and codes, and their hashes per team (token, code)."""
    keys = Secrets(new_token(), {a: new_token() for a in actors}, {a: new_code() for a in actors})
    return keys, {a: (hashed(keys.teams[a]), hashed(keys.codes[a])) for a in actors}


def replay(setup: Setup, entries: Sequence[Entry], states: dict[int, dict[str, Any]]) -> Game:
    """Rebuild a game from its log, checking each played turn against the stored state."""
    game = Game(setup)
    for entry in entries:
        record = game.apply(entry)
        if record is not None and record.turn in states and states[record.turn] != record.state:
            raise ReplayError(
                f"the saved game no longer replays to the same state at turn {record.turn}: "
                "it was played with another version of the model"
            )
    return game


class GameSession:
    """One game, its file and its tokens."""

    def __init__(
        self,
        store: GameStore,
        game: Game,
        facilitator_hash: str,
        team_hashes: dict[str, tuple[str, str]],
        keys: Secrets | None,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.game = game
        self.facilitator_hash = facilitator_hash
        #: actor -> (hash of its token, hash of its join code)
        self.team_hashes = team_hashes
        #: the tokens in clear, when this process made them or could read the secrets file
        self.keys = keys
        self.clock = clock
        #: bumped by every saved command: live pages compare it to know when to look again
        self.revision = 0
        self.lock = threading.RLock()
        #: why no command is accepted any more (the file could not be read back), if so
        self.broken: str | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def create(
        cls,
        db: str | Path,
        config: str | Path,
        overrides: Sequence[str] = (),
        *,
        seed: int | None = None,
        actors: Sequence[str] | None = None,
        clock: Clock = time.time,
    ) -> GameSession:
        """Start a new game of `config` in the file `db` (":memory:" for none).

        Everything is checked, the game built, before the file is written: a game that cannot
        start leaves no file behind.
        """
        scenario, path = load_game_config(config, overrides)
        classroom = classroom_for(scenario, actors)
        seed = scenario.experiment.seed if seed is None else seed
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise WargameError(f"--seed: expected a whole number >= 0 (got {seed!r})")
        seed = int(seed)
        setup = Setup(scenario, classroom, seed, path, tuple(overrides))
        try:
            game = Game(setup)
        except (ValueError, TypeError, OverflowError) as exc:
            raise WargameError(f"cannot start the game: {exc}") from None
        memory = str(db) == ":memory:"
        new_file = not memory and not Path(db).exists()
        store = GameStore(db, create=True)
        keys, hashes = _new_keys([t.actor for t in classroom.teams])
        try:
            store.create(
                {
                    "config": path,
                    "overrides": list(overrides),
                    "seed": seed,
                    "scenario": scenario.model_dump(mode="json", by_alias=True),
                    "classroom": classroom.model_dump(mode="json"),
                    "facilitator_hash": hashed(keys.facilitator),
                    "created": clock(),
                },
                [(t.actor, t.name, *hashes[t.actor]) for t in classroom.teams],
            )
            if not memory:
                write_secrets(db, keys)
        except Exception as exc:
            store.close()
            if new_file:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            if isinstance(exc, WargameError):
                raise
            raise GameFileError(f"could not write the game file {db}: {exc}") from None
        return cls(store, game, hashed(keys.facilitator), hashes, keys, clock)

    @classmethod
    def open(cls, db: str | Path, clock: Clock = time.time) -> GameSession:
        """Resume the game in `db` exactly where it was, by replaying its log."""
        store = GameStore(db)
        try:
            _upgrade(store, db)
            setup = cls._setup(store)
            game = replay(setup, store.entries(), store.states())
            hashes = {a: (token, code) for a, _, token, code in store.teams()}
            facilitator = store.meta()["facilitator_hash"]
            keys = read_secrets(db)
        except WargameError:
            store.close()
            raise
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            store.close()
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise GameFileError(f"{db}: damaged game file ({first})") from None
        if keys is not None and (
            hashed(keys.facilitator) != facilitator
            or any(hashed(keys.teams.get(a, "")) != h[0] for a, h in hashes.items())
        ):
            store.close()
            raise GameFileError(f"{secrets_path(db)} holds the secrets of another game")
        return cls(store, game, facilitator, hashes, keys, clock)

    def reissue(self) -> None:
        """Give the game new links and codes (the old ones stop working), e.g. when its secrets
        file was lost. Run it with the server stopped: a running server knows the old ones."""
        keys, hashes = _new_keys(list(self.game.seats))
        with self.lock:
            self.store.replace_keys(hashed(keys.facilitator), hashes)
            write_secrets(self.store.path, keys)
            self.keys, self.team_hashes = keys, hashes
            self.facilitator_hash = hashed(keys.facilitator)

    @staticmethod
    def _setup(store: GameStore) -> Setup:
        meta = store.meta()
        return Setup(
            scenario=Scenario.model_validate(meta["scenario"]),
            classroom=ClassroomConfig.model_validate(meta["classroom"]),
            seed=int(meta["seed"]),
            config_path=meta["config"],
            overrides=tuple(meta["overrides"]),
        )

    def rebuild(self) -> Game:
        """The game as the file has it (after a failed save, or to check a replay)."""
        return replay(self._setup(self.store), self.store.entries(), self.store.states())

    # ------------------------------------------------------------------ tokens

    @property
    def facilitator_token(self) -> str:
        """The facilitator's token in clear (known only with the secrets)."""
        return self.keys.facilitator if self.keys else ""

    @property
    def team_tokens(self) -> dict[str, str]:
        """Each team's token in clear (empty without the secrets)."""
        return dict(self.keys.teams) if self.keys else {}

    @property
    def team_codes(self) -> dict[str, str]:
        return dict(self.keys.codes) if self.keys else {}

    def team_for(self, token: str) -> str | None:
        """The actor whose team holds this join token, its hash compared in constant time."""
        digest = hashed(token)
        found = None
        for actor, (expected, _) in self.team_hashes.items():
            if secrets.compare_digest(digest, expected):
                found = actor
        return found

    def team_for_code(self, code: str) -> str | None:
        """The actor whose team was given this short join code."""
        digest = hashed(normal_code(code))
        found = None
        for actor, (_, expected) in self.team_hashes.items():
            if secrets.compare_digest(digest, expected):
                found = actor
        return found

    def is_facilitator(self, token: str) -> bool:
        return secrets.compare_digest(hashed(token), self.facilitator_hash)

    # ------------------------------------------------------------------ commands

    def _run(self, check: Callable[[float], Entry]) -> TurnRecord | None:
        with self.lock:
            now = self.clock()
            self._tick(now)
            return self._commit(check(now))

    def _commit(self, entry: Entry) -> TurnRecord | None:
        """Apply an accepted entry, then save it (with the state of a played turn) at once."""
        if self.broken is not None:
            raise WargameError(self.broken)
        try:
            record = self.game.apply(entry)
            self.store.append(entry, record.state if record else None)
        except Exception as exc:
            try:
                self.game = self.rebuild()
            except Exception as reread:
                self.broken = (
                    f"the game file {self.store.path} could not be read back after a failed "
                    f"save ({reread}); nothing more is accepted: restart to resume from the file"
                )
                raise WargameError(self.broken) from exc
            if isinstance(exc, WargameError):
                raise
            raise WargameError(f"could not save the game to {self.store.path}: {exc}") from exc
        self.revision += 1
        return record

    def _tick(self, now: float) -> TurnRecord | None:
        due = self.game.due(now)
        return self._commit(due) if due is not None else None

    def tick(self) -> TurnRecord | None:
        """Play the turn if its deadline has passed and late teams get the model's move."""
        with self.lock:
            return self._tick(self.clock())

    def start(self, timed: bool = True) -> None:
        self._run(lambda now: self.game.check_start(now, timed))

    def submit(
        self, actor: str, moves: dict[str, str], turn: int | None = None, rationale: str = ""
    ) -> None:
        """A team's move for `turn` (by default the turn open when the move arrives), with the
        team's reason for it if it gave one."""
        with self.lock:
            meant = self.game.current if turn is None else turn
            self._run(lambda now: self.game.check_move(actor, moves, meant, now, rationale))

    def message(self, sender: str, to: str, text: str) -> str | None:
        """Send a message; an actor the model plays answers a private one at once. Returns the
        answer, if any."""
        with self.lock:
            self._run(lambda now: self.game.check_message(sender, to, text, now))
            if not self.game.answers(to, sender):
                return None
            answer = replies.reply(self.game, to, sender, text)
            self._run(lambda now: self.game.check_message(to, sender, answer, now, model=True))
            return answer

    def rule(self, variable: str, value: str, note: str) -> None:
        """The white cell overrides the adjudication: a state value set, with a note."""
        self._run(lambda now: self.game.check_ruling(variable, value, note, now))

    def extend(self, minutes: float | str) -> None:
        self._run(lambda now: self.game.check_extend(minutes, now))

    def close(self, force: bool = False) -> TurnRecord | None:
        return self._run(lambda now: self.game.check_close(now, force))

    def inject(self, event: str) -> None:
        self._run(lambda now: self.game.check_inject(event, now))

    def set_context(self, name: str, value: float | str, note: str = "") -> None:
        self._run(lambda now: self.game.check_context(name, value, now, note))

    def handover(self, actor: str, model_plays: bool) -> None:
        self._run(lambda now: self.game.check_handover(actor, model_plays, now))

    def pause(self) -> None:
        self._run(lambda now: self.game.check_pause(now))

    def resume(self) -> None:
        self._run(lambda now: self.game.check_resume(now))
