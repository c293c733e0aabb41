"""What every actor shares: factor weights, action menus, and the logit decision rule.

Each actor class supplies only its factors and how the world state modulates them; everything
numeric (weights, loadings, effects, preconditions) comes from the scenario YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from sim.engine.decision import ActionMenu, logit_choice, utilities, weighted_utilities
from sim.engine.streams import ReplicationStreams
from sim.scenario.config import ActorConfig
from sim.scenario.distributions import draw

if TYPE_CHECKING:
    from sim.engine.world import WorldState


@dataclass
class Decision:
    """One actor's choice on one menu this turn, for every replication, with its reasons."""

    actor_id: str
    menu: ActionMenu
    chosen: np.ndarray  # [R] action index
    forced: np.ndarray  # [R] bool: set by an inject or a human player, not by the model
    #: [R] bool: a player's move that was no longer legal when the turn was played (the model
    #: moved instead)
    refused: np.ndarray
    utility: np.ndarray  # [R, A]
    feasible: np.ndarray  # [R, A]
    contributions: np.ndarray  # [R, F] factor contributions to the chosen action's utility
    factors: tuple[str, ...]
    #: [R] bool: the actor did not reconsider this turn and kept to its last move (turns
    #: shorter than the decision interval); None when every replication decided afresh
    kept: np.ndarray | None = None

    def action_names(self) -> list[str]:
        return [self.menu.actions[i] for i in self.chosen]


class CrisisActor(mesa.Agent):
    """A state in the crisis, deciding each turn from the article's factors."""

    kind: ClassVar[str]
    #: factor name -> the argument of the article it stands for
    FACTORS: ClassVar[dict[str, str]]

    def __init__(
        self, model: mesa.Model, actor_id: str, config: ActorConfig, streams: ReplicationStreams
    ) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.label = config.label
        self.config = config
        self.factors = tuple(self.FACTORS)
        self.weights = np.column_stack(
            [
                draw(config.weights[f], f"actors.{actor_id}.weights.{f}", streams)
                for f in self.factors
            ]
        )
        self.rationality = draw(config.rationality, f"actors.{actor_id}.rationality", streams)
        menu_names = list(dict.fromkeys(spec.menu for spec in config.actions.values()))
        self.menus = {
            name: ActionMenu.build(
                name,
                {a: s for a, s in config.actions.items() if s.menu == name},
                self.factors,
                config.covert if self.has_covert_variants else None,
            )
            for name in menu_names
        }
        self.pending: dict[str, tuple[np.ndarray, bool]] = {}
        self.decisions: list[Decision] = []
        #: the last move on each menu, which the actor keeps between reconsiderations
        self.last_chosen: dict[str, np.ndarray] = {}

    has_covert_variants: ClassVar[bool] = False

    # ------------------------------------------------------------------ mechanisms per actor

    def modulators(self, world: WorldState) -> np.ndarray:
        """[R, F] how strongly the current state brings each factor into play."""
        raise NotImplementedError

    def extra_feasibility(self, menu: ActionMenu, world: WorldState) -> np.ndarray | None:
        """Feasibility rules that are mechanisms rather than per-action preconditions."""
        return None

    def observe(self, world: WorldState) -> None:
        """Update private beliefs after adjudication (most actors keep none)."""

    def on_discovered(self, world: WorldState, discovered: np.ndarray) -> None:
        """Consequences when a covert act of this actor is exposed."""

    # ------------------------------------------------------------------ shared decision rule

    def feasible(self, menu: ActionMenu, world: WorldState) -> np.ndarray:
        mask = menu.feasible(world, self.actor_id)
        extra = self.extra_feasibility(menu, world)
        if extra is not None:
            mask &= extra
        # Never leave a replication without a legal move: fall back to the first action.
        stuck = ~mask.any(axis=1)
        if stuck.any():
            mask[stuck, 0] = True
        return mask

    def force(self, menu: str, action_index: np.ndarray, binding: bool = True) -> None:
        """Fix the next move on a menu; -1 entries leave the model to decide.

        A binding move (a scenario's inject) happens whatever the state. A player's move is not
        binding: it must still be legal when the turn is played, after the turn's events, or
        the model moves instead and the decision records the refusal.
        """
        self.pending[menu] = (action_index, binding)

    def decide(self, world: WorldState, streams: ReplicationStreams) -> list[Decision]:
        weighted = self.weights * self.modulators(world)
        decisions = []
        for name, menu in self.menus.items():
            utility = weighted_utilities(weighted, menu.loadings)
            feasible = self.feasible(menu, world)
            uniform = streams.uniform(f"choice:{self.actor_id}:{name}", world.turn)
            chosen = logit_choice(utility, feasible, self.rationality, uniform)
            kept = self._keep_last_move(name, feasible, world)
            if kept is not None:
                chosen = np.where(kept, self.last_chosen[name], chosen)
            forced = np.zeros(world.size, dtype=bool)
            refused = np.zeros(world.size, dtype=bool)
            if name in self.pending:
                forced_index, binding = self.pending.pop(name)
                forced = forced_index >= 0
                if not binding:
                    rows = np.arange(world.size)
                    legal = feasible[rows, np.maximum(forced_index, 0)]
                    refused = forced & ~legal
                    forced &= legal
                chosen = np.where(forced, forced_index, chosen)
                if kept is not None:
                    kept &= ~forced
            self.last_chosen[name] = chosen
            decisions.append(
                Decision(
                    actor_id=self.actor_id,
                    menu=menu,
                    chosen=chosen,
                    forced=forced,
                    refused=refused,
                    utility=utility,
                    feasible=feasible,
                    contributions=weighted * menu.loadings[chosen],
                    factors=self.factors,
                    kept=kept,
                )
            )
        self.decisions = decisions
        return decisions

    def _keep_last_move(
        self, menu: str, feasible: np.ndarray, world: WorldState
    ) -> np.ndarray | None:
        """Where the actor does not reconsider this turn: turns shorter than the decision
        interval leave it with its last move (if still legal) until the next decision day of
        the crisis's calendar, so that a crisis played in 1-day turns sees the same decisions,
        on the same days, as one played in turns of the interval."""
        last = self.last_chosen.get(menu)
        if last is None or self.model.timescale.reconsiders(world.turn):
            return None
        rows = np.arange(world.size)
        return feasible[rows, last].copy()

    def advise(
        self, world: WorldState, feasible_only: bool = True
    ) -> dict[str, list[tuple[str, float, dict[str, float]]]]:
        """For replication 0: each feasible action's utility and factor contributions, best first.

        This is what the classroom advisor shows a team: what the model would do and why. With
        `feasible_only=False` the actions not possible now are weighed too (a classroom reply
        explains why the actor would not take them even if it could).
        """
        modulators = self.modulators(world)
        advice: dict[str, list[tuple[str, float, dict[str, float]]]] = {}
        for name, menu in self.menus.items():
            utility = utilities(self.weights, modulators, menu.loadings)[0]
            feasible = self.feasible(menu, world)[0] | (not feasible_only)
            rows = []
            for a in np.flatnonzero(feasible):
                parts = self.weights[0] * modulators[0] * menu.loadings[a]
                rows.append(
                    (
                        menu.actions[a],
                        float(utility[a]),
                        dict(zip(self.factors, parts.tolist(), strict=True)),
                    )
                )
            advice[name] = sorted(rows, key=lambda row: -row[1])
        return advice


def stack(columns: Mapping[str, np.ndarray], factors: tuple[str, ...], size: int) -> np.ndarray:
    """Assemble the [R, F] modulator matrix in the actor's factor order."""
    return np.column_stack([np.broadcast_to(columns[f], (size,)) for f in factors])
