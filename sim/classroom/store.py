"""The game file: one SQLite database per game, written one transaction per accepted command.

What is stored is what the game is rebuilt from: the scenario (its path, the overrides and the
validated scenario itself, so a later edit of the YAML cannot change a game in progress), the
seed, the teams with their join tokens, and the log of accepted commands. After each played
turn the state it produced is stored beside the log entry, in the same transaction, so that a
replay can prove it reached the same state.

The file holds no secret: tokens and join codes are stored as SHA-256 hashes (a token carries
256 random bits, so a plain hash cannot be reversed), and the file is created readable by its
owner only. The tokens themselves live in a separate secrets file beside it (see
`sim.classroom.secrets`), from which the links can be printed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.classroom.game import Entry
from sim.scenario.errors import WargameError

FORMAT = 2

_TEAMS = """
CREATE TABLE IF NOT EXISTS teams (
    actor TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    position INTEGER NOT NULL
)"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
{_TEAMS};
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    turn INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    turn INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL REFERENCES log(seq),
    state TEXT NOT NULL
);
"""


def hashed(secret: str) -> str:
    """The SHA-256 hex digest a token or join code is stored and compared as."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_private(path: str | Path) -> None:
    """Create `path` empty and readable by its owner only (0600), or make an existing file so.

    SQLite gives its -wal and -shm files the permissions of the database file.
    """
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


class GameFileError(WargameError):
    """A game file that cannot be opened or does not hold a game."""


TABLES = frozenset({"meta", "teams", "log", "turns"})


class GameStore:
    """A game's SQLite file. Thread-safe: the web server calls it from several threads.

    `create=True` makes the tables of a new game (in a new or empty file); otherwise the file
    must already hold a game, and is not changed by being opened.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        memory = self.path == ":memory:"
        if not create and not memory and not Path(self.path).is_file():
            raise GameFileError(f"{self.path}: no such game file")
        if create and not memory and not Path(self.path).exists():
            try:
                create_private(self.path)
            except OSError as exc:
                why = exc.strerror or exc
                raise GameFileError(f"cannot create the game file {self.path}: {why}") from None
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise GameFileError(f"cannot open {self.path}: {exc}") from None
        try:
            self._check_tables(create)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            if create:
                self._db.executescript(_SCHEMA)
        except (sqlite3.Error, GameFileError) as exc:
            self._db.close()
            if isinstance(exc, GameFileError):
                raise
            if create and "unable to open" in str(exc):
                raise GameFileError(f"cannot create the game file {self.path}: {exc}") from None
            raise GameFileError(f"{self.path}: not a readable game file ({exc})") from None

    def _check_tables(self, create: bool) -> None:
        """Never write into a database that is not a game's, nor read one as a game."""
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {name for (name,) in rows}
        if create and tables and not tables >= TABLES:
            raise GameFileError(f"{self.path} holds another database, not a game")
        if not create and not tables >= TABLES:
            raise GameFileError(f"{self.path} does not hold a game")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """Reads under the lock; a damaged file is a one-line `GameFileError`."""
        with self._lock:
            try:
                yield self._db
            except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
                raise GameFileError(f"{self.path}: damaged game file ({exc})") from None

    # ------------------------------------------------------------------ writing

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; `BEGIN IMMEDIATE` takes the write lock up front."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def create(self, meta: dict[str, Any], teams: list[tuple[str, str, str, str]]) -> None:
        """Write a new game's setup: meta values and (actor, name, token hash, code hash) per
        team."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = 'format'").fetchone():
                raise GameFileError(f"{self.path} already holds a game")
            rows = [("format", json.dumps(FORMAT))]
            rows += [(key, json.dumps(value)) for key, value in meta.items()]
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
            db.executemany(
                "INSERT INTO teams (actor, name, token_hash, code_hash, position) "
                "VALUES (?, ?, ?, ?, ?)",
                [(a, name, token, code, i) for i, (a, name, token, code) in enumerate(teams)],
            )

    def legacy_tokens(self) -> tuple[str, dict[str, str]] | None:
        """The tokens in clear of a game file of format 1 (before tokens were hashed), or None."""
        with self._reading() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None or json.loads(row[0]) != 1:
                return None
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            teams = db.execute("SELECT actor, token FROM teams").fetchall()
        return json.loads(meta["facilitator_token"]), {actor: token for actor, token in teams}

    def upgrade(self, facilitator_hash: str, teams: dict[str, tuple[str, str]]) -> None:
        """Rewrite a format-1 file to this format: hashes in place of the tokens, then VACUUM so
        that no page of the file keeps a token, and the file readable by its owner only."""
        with self._transaction() as db:
            rows = db.execute("SELECT actor, name, position FROM teams").fetchall()
            db.execute("DROP TABLE teams")
            db.execute(_TEAMS)
            db.executemany(
                "INSERT INTO teams (actor, name, token_hash, code_hash, position) "
                "VALUES (?, ?, ?, ?, ?)",
                [(a, name, *teams[a], position) for a, name, position in rows],
            )
            db.execute("DELETE FROM meta WHERE key = 'facilitator_token'")
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('facilitator_hash', ?)",
                (json.dumps(facilitator_hash),),
            )
            db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (json.dumps(FORMAT),))
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if self.path != ":memory:":
            os.chmod(self.path, 0o600)

    def replace_keys(self, facilitator_hash: str, teams: dict[str, tuple[str, str]]) -> None:
        """New token and code hashes for the facilitator and each team (the old ones stop
        working)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'facilitator_hash'",
                (json.dumps(facilitator_hash),),
            )
            db.executemany(
                "UPDATE teams SET token_hash = ?, code_hash = ? WHERE actor = ?",
                [(token, code, actor) for actor, (token, code) in teams.items()],
            )

    def set_meta(self, key: str, value: Any) -> None:
        """Record one value about the game beside its setup (e.g. where it is served)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def append(self, entry: Entry, state: dict[str, Any] | None = None) -> int:
        """Save one accepted command, and the state it produced if it played a turn."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO log (turn, kind, payload, at) VALUES (?, ?, ?, ?)",
                (entry.turn, entry.kind, json.dumps(entry.payload), entry.at),
            )
            seq = int(cursor.lastrowid or 0)
            if state is not None:
                db.execute(
                    "INSERT INTO turns (turn, seq, state) VALUES (?, ?, ?)",
                    (entry.turn, seq, json.dumps(state)),
                )
        return seq

    def backup_to(self, path: str | Path) -> None:
        """Copy the whole game to a new file (a save under a new name)."""
        target_path = Path(path)
        if target_path.exists():
            raise GameFileError(f"{path} already exists")
        try:
            create_private(target_path)
            with self._lock:
                target = sqlite3.connect(str(path))
                try:
                    self._db.backup(target)
                finally:
                    target.close()
        except (sqlite3.Error, OSError) as exc:
            target_path.unlink(missing_ok=True)
            raise GameFileError(f"cannot save the game to {path}: {exc}") from None

    # ------------------------------------------------------------------ reading

    def holds_game(self) -> bool:
        with self._reading():
            row = self._db.execute("SELECT 1 FROM meta WHERE key = 'format'").fetchone()
        return row is not None

    def meta(self) -> dict[str, Any]:
        with self._reading():
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
            meta = {key: json.loads(value) for key, value in rows}
        if "format" not in meta:
            raise GameFileError(f"{self.path} does not hold a game")
        if meta["format"] != FORMAT:
            raise GameFileError(f"{self.path}: game file format {meta['format']} is not supported")
        return meta

    def teams(self) -> list[tuple[str, str, str, str]]:
        """(actor, name, token hash, code hash) of each team, in the scenario's order."""
        with self._reading():
            rows = self._db.execute(
                "SELECT actor, name, token_hash, code_hash FROM teams ORDER BY position"
            ).fetchall()
        return [(a, n, t, c) for a, n, t, c in rows]

    def entries(self) -> list[Entry]:
        with self._reading():
            rows = self._db.execute(
                "SELECT turn, kind, payload, at FROM log ORDER BY seq"
            ).fetchall()
            return [Entry(kind, turn, json.loads(payload), at) for turn, kind, payload, at in rows]

    def states(self) -> dict[int, dict[str, Any]]:
        """The stored state after each played turn."""
        with self._reading():
            rows = self._db.execute("SELECT turn, state FROM turns").fetchall()
            return {turn: json.loads(state) for turn, state in rows}
