"""What a played turn leaves behind: every actor's act, who decided it, and the state after.

Acts carry what the visibility rules need (covert or private, whom they concern, whether the
discovery roll exposed them), so that the views can filter one list instead of re-reading the
engine's arrays in every page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.engine.effects import EFFECT_INDEX
from sim.engine.model import CrisisModel
from sim.engine.world import EndState, Hormuz, WorldState

_PRIVATE_REQUEST = EFFECT_INDEX["help_request_private"]


@dataclass(frozen=True)
class Act:
    """One actor's move on one menu in one turn (replication 0 of the game's model)."""

    turn: int
    actor: str
    label: str
    menu: str
    action: str
    description: str
    level: int  # support-ladder rung, -1 if the act is not on the ladder
    covert: bool  # a great power's covert support
    private: bool  # not announced: covert support or a private request
    targets: tuple[str, ...]  # actors the act is aimed at (who learns of a private act)
    exposed: bool  # a covert act the discovery roll exposed: public after all
    by: str  # "team", "white cell" (an event forced it) or "model"
    #: the team's submitted action on this menu when it was not played: the model moved instead
    #: because it was no longer possible once the turn's events had landed (by "model"), or an
    #: event forced another move (by "white cell")
    refused: str = ""
    contributions: dict[str, float] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return not self.private or self.exposed

    def visible_to(self, actor: str) -> bool:
        """A private act is seen by its author and its targets; the rest see public acts."""
        return self.public or actor == self.actor or actor in self.targets

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"targets": list(self.targets)}


@dataclass
class TurnRecord:
    """An adjudicated turn as the classroom shows it."""

    turn: int
    moves: dict[str, dict[str, str]]  # team actor -> menu -> action submitted
    model_moved: dict[str, str]  # team actor -> why the model moved for it
    advice: dict[str, dict[str, str]]  # team actor -> menu -> the advisor's top choice
    injects: list[dict[str, Any]]  # events and context changes that opened the turn
    acts: list[Act]
    incidents: list[str]
    discovered: list[str]  # great powers whose covert support was exposed this turn
    ended: str | None  # how the crisis ended, if it ended this turn
    state: dict[str, Any]  # the world after the turn (see `digest`)
    rationales: dict[str, str] = field(default_factory=dict)  # team actor -> its reason
    visible_support: dict[str, int] = field(default_factory=dict)  # power -> rung seen

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["acts"] = [act.to_dict() for act in self.acts]
        return data


def build_acts(
    model: CrisisModel, turn: int, moves: dict[str, dict[str, str]], row: int = 0
) -> list[Act]:
    """The acts of the turn just played, from the model's decision log."""
    world = model.world
    iran_ids = tuple(a for a, c in model.crisis.actors.items() if c.kind == "iran")
    powers = tuple(world.great_power_ids())
    logged_turn, decisions = model.decision_log[-1]
    assert logged_turn == turn
    acts = []
    for decision in decisions:
        menu = decision.menu
        index = int(decision.chosen[row])
        covert = bool(menu.covert[index])
        level = int(menu.levels[index])
        private_request = bool(menu.effects[index, _PRIVATE_REQUEST] > 0)
        if private_request:
            targets = powers
        elif level >= 0:
            targets = iran_ids
        else:
            targets = ()
        action = menu.actions[index]
        submitted = moves.get(decision.actor_id, {}).get(menu.name)
        refused = ""
        if decision.refused[row]:
            # The engine checked the team's move after the turn's events: no longer legal.
            by, refused = "model", submitted or ""
        elif decision.forced[row] and submitted == action:
            by = "team"
        elif decision.forced[row]:
            by, refused = "white cell", submitted or ""
        else:
            by = "model"
        acts.append(
            Act(
                turn=turn,
                actor=decision.actor_id,
                label=model.actors[decision.actor_id].label,
                menu=menu.name,
                action=action,
                description=menu.descriptions[index],
                level=level,
                covert=covert,
                private=covert or private_request,
                targets=targets,
                exposed=covert and bool(world.support_exposed[decision.actor_id][row]),
                by=by,
                refused=refused,
                contributions={
                    f: float(c)
                    for f, c in zip(decision.factors, decision.contributions[row], strict=True)
                },
            )
        )
    return acts


def digest(world: WorldState, row: int = 0) -> dict[str, Any]:
    """The full state of replication `row` as plain values: what a replay must reproduce."""
    state: dict[str, Any] = {}
    for name in ("turn", *WorldState.STATE_ARRAYS, "active"):
        value = getattr(world, name)
        state[name] = _plain(value[row] if isinstance(value, np.ndarray) else value)
    for name in WorldState.STATE_MAPS:
        state[name] = {k: _plain(v[row]) for k, v in getattr(world, name).items()}
    return state


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def visible_support(world: WorldState, row: int = 0) -> dict[str, int]:
    """Each great power's support as the world sees it (covert help hidden until exposed)."""
    return {p: int(world.public_support(p)[row]) for p in world.great_power_ids()}


def end_id(world: WorldState, row: int = 0) -> str | None:
    """How the crisis ended as the outcome records name it (`regime_collapse`), None if not."""
    state = EndState(int(world.end_state[row]))
    return None if state is EndState.ONGOING else state.label


def hormuz_label(value: int) -> str:
    return Hormuz(int(value)).name.lower()
