"""The outcome record of each replication, accumulated turn by turn over a batch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.adjudication import iran_exports_kbd
from sim.engine.basing import basing_denied
from sim.engine.world import EndState, Hormuz, WorldState

END_STATE_LABELS = [state.label for state in EndState]


class OutcomeTracker:
    """Running maxima, counters and final values, updated only for live replications."""

    def __init__(self, world: WorldState, replications: np.ndarray, gulf_ids: list[str]) -> None:
        size = world.size
        self.replications = replications
        self.powers = world.great_power_ids()
        self.gulf_ids = gulf_ids
        self.war = np.zeros(size, dtype=bool)
        self.max_escalation = world.escalation.copy()
        self.turns_at_war = np.zeros(size, dtype=np.int64)
        self.max_support = {p: world.support[p].copy() for p in self.powers}
        self.covert_turns = {p: np.zeros(size, dtype=np.int64) for p in self.powers}
        self.hormuz_closed_turns = np.zeros(size, dtype=np.int64)
        self.hormuz_ever_closed = world.hormuz == Hormuz.CLOSED
        self.peak_oil_price = world.oil_price.copy()
        self.china_imports_start = world.china_imports_kbd.copy()
        self.requested_help = np.zeros(size, dtype=bool)
        self.min_stability = world.iran_stability.copy()
        self.gap_sum = np.zeros(size)
        self.gap_turns = np.zeros(size)
        self.gulf_stance = {g: np.full(size, "", dtype=object) for g in gulf_ids}
        #: Israel's highest move so far (index on its menu, in the menu's order), -1 for none
        self.israel_actions: list[str] = []
        self.israel_max_action = np.full(size, -1, dtype=np.int64)
        self.israel_strike_turns = np.zeros(size, dtype=np.int64)
        self.gulf_struck = np.zeros(size, dtype=bool)
        self.us_basing_denied_turns = np.zeros(size, dtype=np.int64)

    def expectation_gap(self, world: WorldState) -> np.ndarray:
        """Support Iran expected minus support it received, averaged over its partners."""
        if not self.powers:
            return np.zeros(world.size)
        return np.mean(
            [world.iran_belief[p] - world.received_support(p) for p in self.powers], axis=0
        )

    def record_turn(
        self,
        world: WorldState,
        live: np.ndarray,
        expectation_gap: np.ndarray,
        gulf_moves: dict[str, np.ndarray],
    ) -> None:
        """Fold one adjudicated turn into the records of the replications live during it."""
        war = world.war & live
        self.war |= war
        self.turns_at_war += war
        self.max_escalation = np.where(
            live, np.maximum(self.max_escalation, world.escalation), self.max_escalation
        )
        for p in self.powers:
            self.max_support[p] = np.where(
                live, np.maximum(self.max_support[p], world.support[p]), self.max_support[p]
            )
            self.covert_turns[p] += live & world.support_covert[p] & (world.support[p] > 0)
        closed = live & (world.hormuz == Hormuz.CLOSED)
        self.hormuz_closed_turns += closed
        self.hormuz_ever_closed |= closed
        self.peak_oil_price = np.where(
            live, np.maximum(self.peak_oil_price, world.oil_price), self.peak_oil_price
        )
        asked = world.events["help_request_public"] + world.events["help_request_private"]
        self.requested_help |= live & (asked > 0)
        self.min_stability = np.where(
            live, np.minimum(self.min_stability, world.iran_stability), self.min_stability
        )
        self.gap_sum += np.where(live, expectation_gap, 0.0)
        self.gap_turns += live
        for g, stance in gulf_moves.items():
            self.gulf_stance[g] = np.where(live, stance, self.gulf_stance[g])

    def record_israel(self, world: WorldState, live: np.ndarray, decision) -> None:
        """Israel's highest move (its menu runs from restraint up) and the turns it struck Iran.

        A strike counts from the event, so an inject that stands in for Israel counts too.
        """
        self.israel_strike_turns += live & (world.events["israel_strike"] >= 1.0)
        if decision is None:
            return
        self.israel_actions = decision.menu.actions
        self.israel_max_action = np.where(
            live, np.maximum(self.israel_max_action, decision.chosen), self.israel_max_action
        )

    def record_gulf(self, world: WorldState, live: np.ndarray) -> None:
        """Whether Iran ever struck a Gulf host, and the turns a host denied the US its bases."""
        self.gulf_struck |= live & (world.events["gulf_hit"] > 0)
        self.us_basing_denied_turns += live & basing_denied(world)

    def to_frame(self, world: WorldState, scenario) -> pd.DataFrame:
        """One row per replication with the outcome fields analysts read."""
        columns: dict[str, np.ndarray] = {
            "replication": self.replications.astype(np.int64),
            "war": self.war,
            "max_escalation": self.max_escalation,
            "turns_at_war": self.turns_at_war,
            "end_state": np.array(END_STATE_LABELS, dtype=object)[world.end_state],
            "end_turn": world.end_turn.astype(np.int64),
            "end_day": world.end_turn.astype(np.float64) * scenario.turn_days,
            "regime_collapsed": world.end_state == EndState.REGIME_COLLAPSE,
            "leader_killed": world.leader_killed.copy(),
        }
        for p in self.powers:
            columns[f"{p}_max_support"] = self.max_support[p]
            columns[f"{p}_intervened"] = self.max_support[p] >= world.top_support
            columns[f"{p}_covert_turns"] = self.covert_turns[p]
        columns.update(
            {
                "hormuz_ever_closed": self.hormuz_ever_closed.copy(),
                "hormuz_closed_turns": self.hormuz_closed_turns,
                "peak_oil_price": self.peak_oil_price,
                "china_imports_start_kbd": self.china_imports_start,
                "china_imports_end_kbd": world.china_imports_kbd.copy(),
                "iran_exports_end_kbd": iran_exports_kbd(world, scenario),
                "iran_requested_help": self.requested_help,
                "iran_min_stability": self.min_stability,
                "iran_reliance_gap": np.divide(
                    self.gap_sum,
                    self.gap_turns,
                    out=np.zeros_like(self.gap_sum),
                    where=self.gap_turns > 0,
                ),
            }
        )
        for g in self.gulf_ids:
            columns[f"gulf_{g}_stance"] = self.gulf_stance[g]
        names = np.array(["", *self.israel_actions], dtype=object)
        columns["israel_max_action"] = names[self.israel_max_action + 1]
        columns["israel_strike_turns"] = self.israel_strike_turns
        columns["gulf_struck"] = self.gulf_struck
        columns["us_basing_denied_turns"] = self.us_basing_denied_turns
        return pd.DataFrame(columns)
