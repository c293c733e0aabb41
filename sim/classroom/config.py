"""The `classroom:` block of a scenario: which actors teams play, the clock, and the white cell.

It is validated as strictly as the rest of a scenario, because an instructor should find a typo
the evening before class, not in front of thirty students. The schema lives here; this module
registers `validate_classroom` with `sim.scenario.plugins`, so the scenario stage validates the
block (into a `ClassroomConfig`) and its cross-references (do the actors and actions exist? is
each event a valid inject?) without importing the classroom. `Event` has the schema of an inject
checked rather than inheriting from `sim.scenario.config.Inject`, so this module stays free of
scenario imports at import time (it is imported by name on the first validation).
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.scenario.plugins import register_check

if TYPE_CHECKING:
    from sim.scenario.config import Inject, Position, Scenario

#: what happens to a team that has not submitted when the deadline passes
LatePolicy = Literal["model_moves", "wait"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class _Strict(BaseModel):
    # NaN and infinities are refused wherever a finite number is meant, as in the scenario.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Team(_Strict):
    """A team of students playing one actor."""

    actor: str
    name: str = Field(min_length=1, max_length=60)


#: the fields an event shares with a scenario's inject, `sim.scenario.config.Inject` (not the turn)
INJECT_FIELDS = ("note", "actor", "action", "effects", "context")


class Event(_Strict):
    """A named inject the facilitator can fire; it lands at the start of the next turn played.

    What it does is an inject's: force a move (`actor`, `action`), apply `effects`, set
    `context` values. `check_classroom` validates those fields with
    `sim.scenario.config.Inject`'s own schema and checks, so an event and a scenario's inject obey
    the same rules.
    """

    name: Identifier
    note: str = Field(min_length=1, description="the news as the class reads it")
    #: a public event is announced to every team; a private one only to the facilitator
    public: bool = True
    actor: str | None = None
    action: str | None = None
    effects: dict[str, float] = Field(default_factory=dict)
    context: dict[str, float] = Field(default_factory=dict)

    def inject(self, turn: int) -> Inject:
        """The event as the engine's inject, landing at the start of `turn`."""
        from sim.scenario.config import Inject

        return Inject(turn=turn, **self.model_dump(include=set(INJECT_FIELDS)))


class ClassroomConfig(_Strict):
    """How a class plays the scenario."""

    title: str = ""
    teams: list[Team] = Field(min_length=1)
    #: minutes a team has to submit once the facilitator starts a turn; null: no deadline
    deadline_minutes: float | None = Field(default=10.0, gt=0, le=24 * 60)
    #: show each team what the model would do in its place, and why
    advisor: bool = True
    #: when the deadline passes: the model moves for late teams, or the turn waits for them
    late_policy: LatePolicy = "model_moves"
    events: list[Event] = Field(default_factory=list)
    #: size of the simulated distribution the debrief places the class's game in
    debrief_games: int = Field(default=2000, ge=100, le=100_000)
    #: simulated futures in a live forecast
    forecast_games: int = Field(default=500, ge=50, le=20_000)

    @model_validator(mode="after")
    def _unique(self) -> ClassroomConfig:
        for what, values in (
            ("team actor", [t.actor for t in self.teams]),
            ("team name", [t.name for t in self.teams]),
            ("event name", [e.name for e in self.events]),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"each {what} must be unique (repeated: {', '.join(repeated)})")
        return self

    def event(self, name: str) -> Event | None:
        return next((e for e in self.events if e.name == name), None)

    def team_name(self, actor: str) -> str | None:
        return next((t.name for t in self.teams if t.actor == actor), None)


# ----------------------------------------------------------------------------- loading


def load_game_config(
    path: str | Path, overrides: typing.Sequence[str] = ()
) -> tuple[Scenario, str]:
    """Load a scenario and check its classroom block against the rest of it.

    Returns the scenario and the path it was loaded from (absolute, for the game file).
    Errors are the project's one-line `ConfigError`: file, field, line and what was expected.
    """
    from sim.scenario.config import load_scenario, resolve_path

    scenario = load_scenario(path, overrides)  # checks the classroom block too
    return scenario, str(resolve_path(path).resolve())


def check_classroom(scenario: Scenario, positions: dict[tuple, Position], shown: str) -> None:
    """Cross-references a schema cannot express: teams and events name real actors and actions,
    and each event is a valid inject (`sim.scenario.config.Inject`, then the checks of
    `sim.scenario.consistency`)."""
    from pydantic import ValidationError

    from sim.scenario.config import located_error, validation_error
    from sim.scenario.consistency import InconsistentScenario, _known_effects, forced_move_problem

    classroom = scenario.classroom
    assert classroom is not None
    actors = list(scenario.actors)

    def fail(path: tuple, message: str):
        return located_error(("classroom", *path), message, positions, shown)

    for index, team in enumerate(classroom.teams):
        if team.actor not in scenario.actors:
            raise fail(
                ("teams", index, "actor"),
                f"unknown actor '{team.actor}' (expected one of: {', '.join(actors)})",
            )
    for index, event in enumerate(classroom.events):
        where = ("events", index)
        try:
            event.inject(turn=1)
        except ValidationError as exc:
            raise validation_error(exc, positions, shown, ("classroom", *where)) from None
        try:
            _known_effects(event.effects, (*where, "effects"))
        except InconsistentScenario as exc:
            raise fail(exc.path, exc.expected) from None
        problem = forced_move_problem(scenario, event.actor, event.action)
        if problem is not None:
            raise fail((*where, problem[0]), problem[1])


def classroom_for(scenario: Scenario, actors: typing.Sequence[str] | None) -> ClassroomConfig:
    """The classroom settings of a game: the scenario's block, or teams chosen on the command line.

    `actors` (from `--as`) overrides which actors teams play; the block's team names and
    settings are kept where they apply. A scenario without a block plays with the defaults.
    """
    from sim.scenario.errors import ConfigError

    block = scenario.classroom
    if actors is None:
        if block is None:
            raise ConfigError(
                scenario.name,
                "classroom",
                "no classroom block: add one to the scenario, or choose actors with --as",
            )
        return block
    unknown = [a for a in actors if a not in scenario.actors]
    if unknown:
        raise ConfigError(
            "--as",
            None,
            f"unknown actor '{unknown[0]}' (expected one of: {', '.join(scenario.actors)})",
        )
    if not actors or len(set(actors)) != len(actors):
        raise ConfigError("--as", None, "expected distinct actors, e.g. --as iran,china")
    names = {t.actor: t.name for t in block.teams} if block else {}
    teams = [Team(actor=a, name=names.get(a, scenario.actors[a].label)) for a in actors]
    if block is None:
        return ClassroomConfig(teams=teams)
    return block.model_copy(update={"teams": teams})


def validate_classroom(
    scenario: Scenario, positions: dict[tuple, Position], shown: str
) -> Scenario | None:
    """The scenario plugin: the `classroom:` block validated into a `ClassroomConfig`, then
    checked against the rest of the scenario; returns the scenario holding the validated block."""
    from pydantic import ValidationError

    from sim.scenario.config import validation_error

    block = scenario.classroom
    if block is None:
        return None
    if not isinstance(block, ClassroomConfig):
        try:
            block = ClassroomConfig.model_validate(block)
        except ValidationError as exc:
            raise validation_error(exc, positions, shown, ("classroom",), ClassroomConfig) from None
        scenario = scenario.model_copy(update={"classroom": block})
    check_classroom(scenario, positions, shown)
    return scenario


register_check("classroom", validate_classroom)
