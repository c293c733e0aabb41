"""A classroom game: one crisis model, the teams playing some of its actors, the clock, the log.

Every change to a game is a log entry, and `Game.apply` is the only way state changes. The
engine's dice are addressed by seed, turn and purpose rather than drawn from a shared
generator, so replaying the saved entries in order rebuilds the game exactly. Commands are
split in two: `check_*` decides whether a command is acceptable now and returns the entry it
would apply (or raises `Rejected` with a message for the user), then the caller applies the
entry and saves it (see `sim.classroom.session`). A refused command therefore never changes
anything.

A team's move is checked twice: when it is submitted, against the state then, and by the engine
when the turn is played, after the turn's events have landed. A move the events made impossible
is refused there: the model moves for the team, and the turn's record says so (`Act.refused`).

Messages between teams, to the white cell and to the public are log entries too, so the game
file holds the whole conversation with the turn each message was sent in; they change no state
of the crisis. A white-cell ruling (an override of the adjudication) sets a state value between
turns; its note is logged and shown to everyone.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sim.analysis import formatting as fmt
from sim.analysis.labels import Labels, readable, rung_label, sentence
from sim.classroom.advisor import top_choices
from sim.classroom.config import INJECT_FIELDS, ClassroomConfig
from sim.classroom.record import (
    TurnRecord,
    build_acts,
    digest,
    end_id,
    hormuz_label,
    visible_support,
)
from sim.classroom.rulings import RULINGS, ruling_value
from sim.engine.model import CrisisModel
from sim.engine.world import Hormuz
from sim.scenario.config import ContextName, Inject, Scenario
from sim.scenario.errors import WargameError

CONTEXT_NAMES: tuple[str, ...] = typing.get_args(ContextName)

MENU_TITLES = {"main": "main move", "oil_purchases": "oil purchases"}


def menu_title(menu: str) -> str:
    return MENU_TITLES.get(menu, readable(menu))


#: a precondition's comparison, in words
CONDITION_WORDS = {
    ">=": "at least",
    "<=": "at most",
    ">": "above",
    "<": "below",
    "==": "at",
    "!=": "not at",
}
#: precondition variables that are yes/no flags (1 or 0)
FLAG_VARIABLES = frozenset({"war", "leader_killed"})


def condition_text(condition, labels: Labels) -> str:
    """An action's precondition as players read it: `escalation at least rung 4 limited
    strikes`, `Israel strike at least 0.2`; the rules' notation (`escalation >= 4`) is for
    scenario files."""
    words = CONDITION_WORDS[condition.op]
    variable, value = condition.variable, condition.value
    whole = float(value).is_integer()
    ladders = {"escalation": labels.escalation_ladder, "own_support": labels.support_ladder}
    ladder = ladders.get(variable)  # a variable that counts rungs of a ladder
    if ladder and whole:
        return f"{readable(variable)} {words} rung {rung_label(ladder, int(value))}"
    if variable == "hormuz" and whole and int(value) in iter(Hormuz):
        return f"the Strait of Hormuz {words} {Hormuz(int(value)).name.lower()}"
    if variable in FLAG_VARIABLES and condition.op == "==" and value in (0, 1):
        return readable(variable) if value else f"no {readable(variable)}"
    return f"{readable(variable)} {words} {fmt.number(value)}"


#: the white cell, as a sender or recipient of messages
WHITE_CELL = "white_cell"
#: the recipient of a public statement (every team and the board)
PUBLIC = "public"
#: the longest message or rationale accepted, in characters
MAX_TEXT = 2000
#: the longest extension of a turn's clock at once, in minutes
MAX_EXTENSION = 120.0


class Rejected(WargameError):
    """A move or command that cannot be accepted now; the game is unchanged."""


class Phase(StrEnum):
    WAITING = "waiting"  # the next turn has not been started by the facilitator
    OPEN = "open"  # teams are submitting their moves
    ENDED = "ended"  # the crisis is over


@dataclass(frozen=True)
class Setup:
    """What a game starts from; with the log it determines everything else."""

    scenario: Scenario
    classroom: ClassroomConfig
    seed: int
    config_path: str
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One accepted command, as stored in the game file and replayed on restart."""

    kind: str
    turn: int
    payload: dict[str, Any]
    at: float


@dataclass(frozen=True)
class Message:
    """A message in a channel: team to team, to or from the white cell, or a public statement."""

    seq: int
    turn: int
    sender: str  # a team's actor, WHITE_CELL, or an actor the model plays (its answer)
    to: str  # an actor, WHITE_CELL or PUBLIC
    text: str
    at: float
    model: bool = False  # a rule-based answer from an actor the model plays

    @property
    def visibility(self) -> str:
        return "public" if self.to == PUBLIC else "private"

    def visible_to(self, viewer: str | None) -> bool:
        """The facilitator reads everything; the board (None) public statements only; a team
        public statements and its own threads."""
        if viewer == "facilitator" or self.to == PUBLIC:
            return True
        return viewer is not None and viewer in (self.sender, self.to)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "turn": self.turn,
            "from": self.sender,
            "to": self.to,
            "visibility": self.visibility,
            "text": self.text,
            "at": self.at,
            "model": self.model,
        }


@dataclass
class Seat:
    """A team and the actor it plays."""

    actor: str
    name: str
    label: str
    model_plays: bool = False  # the facilitator handed the team to the model


@dataclass
class Game:
    """The state of a classroom game; see the module docstring for how it changes."""

    setup: Setup
    model: CrisisModel = field(init=False)
    seats: dict[str, Seat] = field(init=False)
    paused: bool = False
    opened: bool = False  # teams may submit for the current turn
    deadline: float | None = None
    remaining: float | None = None  # seconds left on the clock while paused
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    rationales: dict[str, str] = field(default_factory=dict)  # why, with the pending moves
    messages: list[Message] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.model = CrisisModel(self.setup.scenario, rng=self.setup.seed, record_decisions=True)
        #: the words for the scenario's actors, moves, factors and rungs
        self.labels = Labels.from_scenario(self.setup.scenario)
        self.seats = {
            team.actor: Seat(team.actor, team.name, self.model.actors[team.actor].label)
            for team in self.setup.classroom.teams
        }
        #: the state and the visible support before the first turn (turn 0 of the board's map)
        self.initial_state = digest(self.model.world)
        self.initial_support = visible_support(self.model.world)

    # ------------------------------------------------------------------ reading

    @property
    def classroom(self) -> ClassroomConfig:
        return self.setup.classroom

    @property
    def played(self) -> int:
        """Turns adjudicated so far."""
        return self.model.turn

    @property
    def current(self) -> int:
        """The turn being prepared or played."""
        return self.model.turn + 1

    @property
    def ended(self) -> bool:
        return not bool(self.model.world.active[0])

    @property
    def phase(self) -> Phase:
        if self.ended:
            return Phase.ENDED
        return Phase.OPEN if self.opened else Phase.WAITING

    @property
    def horizon(self) -> int:
        return self.setup.scenario.horizon

    def end_state(self) -> str | None:
        """How the crisis ended, in words (None while it runs)."""
        state = end_id(self.model.world)
        return None if state is None else self.labels.category(state)

    def end_id(self) -> str | None:
        """How the crisis ended, as the outcome records name it (None while it runs)."""
        return end_id(self.model.world)

    def past_deadline(self, now: float) -> bool:
        return self.opened and self.deadline is not None and now >= self.deadline

    def seconds_left(self, now: float) -> float | None:
        if self.paused:
            return self.remaining
        if not self.opened or self.deadline is None:
            return None
        return max(0.0, self.deadline - now)

    def waiting_for(self) -> list[str]:
        """Team actors that still have to submit this turn."""
        return [a for a, s in self.seats.items() if a not in self.pending and not s.model_plays]

    def digest(self) -> dict[str, Any]:
        return digest(self.model.world)

    # ------------------------------------------------------------------ checks

    def _check_running(self) -> None:
        if self.ended:
            raise Rejected(f"The game is over ({self.end_state()}).")

    def check_start(self, now: float, timed: bool = True) -> Entry:
        self._check_running()
        if self.paused:
            raise Rejected("The game is paused; resume it first.")
        if self.opened:
            raise Rejected(f"Turn {self.current} is already open.")
        minutes = self.classroom.deadline_minutes
        deadline = now + 60.0 * minutes if timed and minutes else None
        return Entry("start", self.current, {"deadline": deadline}, now)

    def check_move(
        self,
        actor: str,
        moves: Mapping[str, str],
        turn: int | None,
        now: float,
        rationale: str = "",
    ) -> Entry:
        """A team's move for the current turn: every menu of its actor, each action feasible."""
        seat = self.seats.get(actor)
        if seat is None:
            raise Rejected(f"No team plays '{actor}' in this game.")
        self._check_running()
        if turn is not None and turn < self.current:
            why = ""
            moved = self.turns[turn - 1].model_moved if 1 <= turn <= len(self.turns) else {}
            if actor in moved:
                why = f" and the model moved for {seat.label} ({moved[actor]})"
            raise Rejected(
                f"Too late: turn {turn} is closed{why}. Your move was not counted; "
                f"this is turn {self.current} now."
            )
        if turn is not None and turn > self.current:
            raise Rejected(f"Turn {turn} has not started yet.")
        if self.paused:
            raise Rejected("The game is paused; wait for the facilitator.")
        if not self.opened:
            raise Rejected(f"Turn {self.current} has not started yet; wait for the facilitator.")
        if seat.model_plays:
            raise Rejected("The facilitator has handed your team to the model for now.")
        if self.past_deadline(now) and self.classroom.late_policy == "model_moves":
            raise Rejected(
                f"Too late: the deadline for turn {self.current} has passed; "
                f"the model moves for {seat.label} this turn."
            )
        chosen = self._check_actions(actor, moves)
        reason = _text(rationale, "The reason", required=False)
        payload = {"actor": actor, "moves": chosen} | ({"rationale": reason} if reason else {})
        return Entry("move", self.current, payload, now)

    def _check_actions(self, actor_id: str, moves: Mapping[str, str]) -> dict[str, str]:
        actor = self.model.actors[actor_id]
        for name in moves:
            if name not in actor.menus:
                raise Rejected(f"{actor.label} has no menu '{name}'.")
        chosen = {}
        for name, menu in actor.menus.items():
            action = (moves.get(name) or "").strip()
            if not action:
                raise Rejected(f"Choose an action for {actor.label}'s {menu_title(name)}.")
            if action not in menu.actions:
                raise Rejected(
                    f"'{action}' is not an action of {actor.label} ({menu_title(name)})."
                )
            if not self.feasible(actor_id, name)[menu.index(action)]:
                reason = self.why_not(actor_id, name, action)
                what = sentence(self.labels.action(action))
                raise Rejected(f"{what} is not possible now: {reason}.")
            chosen[name] = action
        return chosen

    def feasible(self, actor_id: str, menu: str) -> list[bool]:
        actor = self.model.actors[actor_id]
        return actor.feasible(actor.menus[menu], self.model.world)[0].tolist()

    def why_not(self, actor_id: str, menu_name: str, action: str) -> str:
        """Why an action is unavailable, in the terms of its preconditions."""
        world = self.model.world
        menu = self.model.actors[actor_id].menus[menu_name]
        failing = [
            condition_text(c, self.labels)
            for c in menu.conditions[menu.index(action)]
            if not c.holds(world, actor_id)[0]
        ]
        if failing:
            return "needs " + " and ".join(failing)
        if menu.levels[menu.index(action)] >= 0:
            step = self.setup.scenario.dynamics.support.max_step_up
            return f"support climbs at most {step} rungs a turn"
        return "its conditions do not hold"

    def needs(self, actor_id: str, menu_name: str, action: str) -> str:
        """What an action requires, whatever the state: its preconditions, or the support rule."""
        menu = self.model.actors[actor_id].menus[menu_name]
        index = menu.index(action)
        conditions = [condition_text(c, self.labels) for c in menu.conditions[index]]
        if conditions:
            return "it needs " + " and ".join(conditions)
        if menu.levels[index] >= 0:
            step = self.setup.scenario.dynamics.support.max_step_up
            return f"support climbs at most {step} rungs a turn"
        return "its conditions no longer held"

    def check_inject(self, event_name: str, now: float) -> Entry:
        """Fire one of the scenario's events at the start of the turn about to be played."""
        self._check_running()
        event = self.classroom.event(event_name)
        if event is None:
            names = ", ".join(e.name for e in self.classroom.events) or "none"
            raise Rejected(f"Unknown event '{event_name}' (the scenario's events: {names}).")
        if any(p.get("event") == event.name for p in self.scheduled):
            raise Rejected(f"'{event.name}' is already scheduled for turn {self.current}.")
        payload = {"event": event.name, "public": event.public}
        payload |= event.model_dump(mode="json", include=set(INJECT_FIELDS))
        return Entry("inject", self.current, payload, now)

    def check_context(self, name: str, value: float | str, now: float, note: str = "") -> Entry:
        """Set a context value (Taiwan tension, sanctions...) from the start of the next turn."""
        self._check_running()
        if name not in CONTEXT_NAMES:
            raise Rejected(f"Unknown context value '{name}' (one of: {', '.join(CONTEXT_NAMES)}).")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise Rejected(f"Expected a number from 0 to 1 for {name}, got '{value}'.") from None
        if not 0.0 <= number <= 1.0:
            raise Rejected(f"Expected a number from 0 to 1 for {name}, got {number:g}.")
        words = sentence(self.labels.parameter(f"context.{name}"))
        note = note.strip() or f"{words} is now {number:.2f}"
        payload = {
            "event": None,
            "note": note,
            "public": True,
            "actor": None,
            "action": None,
            "effects": {},
            "context": {name: number},
        }
        return Entry("inject", self.current, payload, now)

    def check_handover(self, actor: str, model_plays: bool, now: float) -> Entry:
        """Let the model play a team (or give the team back its actor)."""
        self._check_running()
        seat = self.seats.get(actor)
        if seat is None:
            raise Rejected(f"No team plays '{actor}' in this game.")
        if seat.model_plays == model_plays:
            state = "already plays" if model_plays else "does not play"
            raise Rejected(f"The model {state} team {seat.name}.")
        return Entry("handover", self.current, {"actor": actor, "model_plays": model_plays}, now)

    # ------------------------------------------------------------------ channels

    def recipients(self, sender: str) -> list[str]:
        """Whom `sender` (a team's actor or the white cell) may write to."""
        if sender == WHITE_CELL:
            return [*self.seats, PUBLIC]
        others = [a for a in self.model.actors if a != sender]
        return [*others, WHITE_CELL, PUBLIC]

    def answers(self, recipient: str, sender: str) -> bool:
        """Whether `recipient` answers a private message of `sender` by the model's rules: it
        is an actor no team plays (or one handed to the model), and `sender` is a team."""
        seat = self.seats.get(recipient)
        return (
            sender in self.seats
            and recipient in self.model.actors
            and (seat is None or seat.model_plays)
        )

    def check_message(
        self, sender: str, to: str, text: str, now: float, model: bool = False
    ) -> Entry:
        self._check_running()
        if model:
            if sender not in self.model.actors or to not in self.seats:
                raise Rejected("Only an actor the model plays answers a team.")
        elif sender != WHITE_CELL and sender not in self.seats:
            raise Rejected(f"No team plays '{sender}' in this game.")
        elif to not in self.recipients(sender):
            raise Rejected(
                f"Unknown recipient '{to}': write to a team or actor, {WHITE_CELL} or {PUBLIC}."
            )
        body = _text(text, "The message")
        payload = {"from": sender, "to": to, "text": body, "model": model}
        payload["visibility"] = "public" if to == PUBLIC else "private"
        return Entry("message", self.current, payload, now)

    def check_ruling(self, variable: str, value: str, note: str, now: float) -> Entry:
        """Override the adjudication: set one state value before the next turn, with a note."""
        self._check_running()
        if variable not in RULINGS:
            raise Rejected(f"Unknown state value '{variable}' (one of: {', '.join(RULINGS)}).")
        why = _text(note, "The note for the log")
        world = self.model.world
        ladder = len(self.setup.scenario.ladders.escalation)
        try:
            number = ruling_value(variable, str(value).strip(), ladder)
        except ValueError as exc:
            raise Rejected(str(exc)) from None
        previous = getattr(world, variable)[0].item()
        payload = {"variable": variable, "value": number, "previous": previous, "note": why}
        return Entry("ruling", self.current, payload, now)

    def check_extend(self, minutes: float | str, now: float) -> Entry:
        """Give the teams more time on this turn's clock (running or paused)."""
        self._check_running()
        try:
            number = float(minutes)
        except (TypeError, ValueError):
            number = float("nan")
        if not 0.0 < number <= MAX_EXTENSION:
            raise Rejected(f"Expected a number of minutes from 0 to {MAX_EXTENSION:g}.")
        seconds = 60.0 * number
        if self.paused and self.remaining is not None:
            return Entry("extend", self.current, {"remaining": self.remaining + seconds}, now)
        if not self.paused and self.opened and self.deadline is not None:
            return Entry("extend", self.current, {"deadline": self.deadline + seconds}, now)
        raise Rejected("No clock is running: the turn is not open or has no deadline.")

    def check_pause(self, now: float) -> Entry:
        self._check_running()
        if self.paused:
            raise Rejected("The game is already paused.")
        return Entry("pause", self.current, {"remaining": self.seconds_left(now)}, now)

    def check_resume(self, now: float) -> Entry:
        self._check_running()
        if not self.paused:
            raise Rejected("The game is not paused.")
        left = self.remaining
        return Entry(
            "resume", self.current, {"deadline": None if left is None else now + left}, now
        )

    def check_close(self, now: float, force: bool = False) -> Entry:
        """Close the turn and play it; the model moves for teams without a move."""
        self._check_running()
        if not self.opened:
            raise Rejected(f"Turn {self.current} has not started.")
        if self.paused:
            raise Rejected("The game is paused; resume it first.")
        missing = self.waiting_for()
        if missing and self.classroom.late_policy == "wait" and not force:
            names = ", ".join(self.seats[a].name for a in missing)
            raise Rejected(
                f"Waiting for {names}: let the model play them, or close the turn anyway."
            )
        late = "did not submit by the deadline" if self.past_deadline(now) else "did not submit"
        model_moved = {
            actor: "handed to the model" if seat.model_plays else late
            for actor, seat in self.seats.items()
            if seat.model_plays or actor in missing
        }
        return Entry("close", self.current, {"model_moved": model_moved}, now)

    def due(self, now: float) -> Entry | None:
        """The automatic close once the deadline passes, if late teams get the model's move."""
        if (
            self.phase is Phase.OPEN
            and not self.paused
            and self.past_deadline(now)
            and self.classroom.late_policy == "model_moves"
        ):
            return self.check_close(now)
        return None

    # ------------------------------------------------------------------ applying

    def apply(self, entry: Entry) -> TurnRecord | None:
        """Change the game by one accepted entry; returns the record of a turn it played."""
        if entry.turn != self.current:
            raise ValueError(f"entry for turn {entry.turn} applied in turn {self.current}")
        handler = getattr(self, f"_apply_{entry.kind}")
        record = handler(entry) if entry.kind == "message" else handler(entry.payload)
        self.entries.append(entry)
        return record

    def _apply_start(self, payload: dict) -> None:
        self.opened = True
        self.deadline = payload["deadline"]

    def _apply_move(self, payload: dict) -> None:
        self.pending[payload["actor"]] = dict(payload["moves"])
        self.rationales[payload["actor"]] = payload.get("rationale", "")

    def _apply_message(self, entry: Entry) -> None:
        p = entry.payload
        number = len(self.messages) + 1
        message = Message(number, entry.turn, p["from"], p["to"], p["text"], entry.at, p["model"])
        self.messages.append(message)

    def _apply_ruling(self, payload: dict) -> None:
        getattr(self.model.world, payload["variable"])[:] = payload["value"]
        name = readable(payload["variable"])
        shown = hormuz_label(payload["value"]) if payload["variable"] == "hormuz" else None
        value = shown or f"{payload['value']:g}"
        note = f"White cell ruling: {name} set to {value}. {payload['note']}"
        self.scheduled.append({"event": None, "note": note, "public": True, "ruling": payload})

    def _apply_extend(self, payload: dict) -> None:
        if "remaining" in payload:
            self.remaining = payload["remaining"]
        else:
            self.deadline = payload["deadline"]

    def _apply_inject(self, payload: dict) -> None:
        fields = {name: payload[name] for name in INJECT_FIELDS}
        self.model.add_inject(Inject(turn=self.current, **fields))
        self.scheduled.append(dict(payload))

    def _apply_handover(self, payload: dict) -> None:
        self.seats[payload["actor"]].model_plays = payload["model_plays"]
        if payload["model_plays"]:
            self.pending.pop(payload["actor"], None)
            self.rationales.pop(payload["actor"], None)

    def _apply_pause(self, payload: dict) -> None:
        self.paused = True
        self.remaining = payload["remaining"]
        self.deadline = None

    def _apply_resume(self, payload: dict) -> None:
        self.paused = False
        self.remaining = None
        self.deadline = payload["deadline"]

    def _apply_close(self, payload: dict) -> TurnRecord:
        model = self.model
        turn = self.current
        model_moved = dict(payload["model_moved"])
        advice = {actor: top_choices(model.actors[actor], model.world) for actor in self.seats}
        moves = {a: m for a, m in self.pending.items() if a not in model_moved}
        for actor, chosen in moves.items():
            for menu, action in chosen.items():
                model.submit(actor, action, menu)
        model.step()
        report = model.reports[-1]
        record = TurnRecord(
            turn=turn,
            moves=moves,
            model_moved=model_moved,
            advice=advice,
            injects=list(self.scheduled),
            acts=build_acts(model, turn, moves),
            incidents=[
                model.crisis.incidents[name].description
                for name, struck in report.incidents.items()
                if struck[0]
            ],
            discovered=[power for power, found in report.discovered.items() if found[0]],
            ended=self.end_state() if report.ended[0] else None,
            state=self.digest(),
            rationales={a: self.rationales[a] for a in moves if self.rationales.get(a)},
            visible_support=visible_support(model.world),
        )
        self.turns.append(record)
        self.pending.clear()
        self.rationales.clear()
        self.scheduled.clear()
        self.opened = False
        self.deadline = None
        return record


def _text(text: str, what: str, required: bool = True) -> str:
    """Free text from a player: stripped, not empty if required, not longer than MAX_TEXT."""
    body = str(text or "").strip()
    if required and not body:
        raise Rejected(f"{what} is empty.")
    if len(body) > MAX_TEXT:
        raise Rejected(f"{what} is too long: {len(body)} characters, at most {MAX_TEXT}.")
    return body
