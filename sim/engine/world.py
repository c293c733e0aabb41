"""The world state of a batch of replications, one NumPy array entry per replication.

Holding every state variable as an array over replications is what lets one Mesa model advance
thousands of replications in lockstep; a single game is simply a batch of one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from sim.engine.streams import ReplicationStreams
from sim.scenario.config import Scenario
from sim.scenario.distributions import draw


class EndState(IntEnum):
    ONGOING = 0
    SETTLEMENT = 1
    CEASEFIRE = 2
    REGIME_COLLAPSE = 3
    HORIZON = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Hormuz(IntEnum):
    OPEN = 0
    HARASSED = 1
    CLOSED = 2


@dataclass
class WorldState:
    """Public and private state shared by all actors; arrays are indexed by replication."""

    size: int
    war_threshold: int
    top_escalation: int
    #: the top rung of the support ladder: direct military intervention
    top_support: int
    turn: int
    active: np.ndarray
    end_state: np.ndarray
    end_turn: np.ndarray
    escalation: np.ndarray
    us_force_posture: np.ndarray
    oil_price: np.ndarray
    oil_discount: np.ndarray
    iran_stability: np.ndarray
    iran_military_capacity: np.ndarray
    #: how close Iran's nuclear programme is to a weapon capability (what Israel strikes at)
    nuclear_programme: np.ndarray
    #: military capacity contracted for Iran and not yet delivered
    arms_pipeline: np.ndarray
    china_imports_kbd: np.ndarray
    #: China's purchases when the crisis began, against which it judges a shortfall
    china_imports_reference: np.ndarray
    other_exports_kbd: np.ndarray
    hormuz: np.ndarray
    regime_pressure: np.ndarray
    context: dict[str, np.ndarray]
    support: dict[str, np.ndarray]
    support_covert: dict[str, np.ndarray]
    support_exposed: dict[str, np.ndarray]
    iran_belief: dict[str, np.ndarray]
    negotiation_progress: np.ndarray
    #: Iran's capacity to evade sanctions (shadow fleet, ship-to-ship transfers, floating
    #: storage), 0-1: the share of the sanctions' bite it escapes
    sanctions_evasion: np.ndarray
    #: enforcement when the crisis began; fatigue cannot take it below a share of this
    sanctions_start: np.ndarray
    #: share of US basing and airspace in the region open to offensive operations (0-1)
    us_basing: np.ndarray
    #: each Gulf host's stance on US use of its bases: +1 open, -1 denied, 0 neither
    basing_stance: dict[str, np.ndarray]
    #: each Gulf state's memory of Iranian strikes on it (1 when struck, fading)
    gulf_struck: dict[str, np.ndarray]
    #: fading memory of the events in `REMEMBERED` up to last turn
    memory: dict[str, np.ndarray]
    nuclear_signal: np.ndarray = field(init=False)
    #: share of the Strait's flow the current (or last) closure stops
    closure_severity: np.ndarray = field(init=False)
    #: rally round the flag under foreign attack, 0-1
    rally: np.ndarray = field(init=False)
    #: turmoil of a leadership succession, 0-1
    succession: np.ndarray = field(init=False)
    leader_killed: np.ndarray = field(init=False)
    #: days in a row the regime's stability has been below the collapse threshold
    fragile_days: np.ndarray = field(init=False)
    #: what has happened so far this turn (injects, then moves); see `recent`
    events: dict[str, np.ndarray] = field(init=False)
    #: what happened last turn
    last_events: dict[str, np.ndarray] = field(init=False)
    escalated: np.ndarray = field(init=False)
    #: escalation and Hormuz status when the turn began, before injects and moves
    escalation_at_start: np.ndarray = field(init=False)
    hormuz_at_start: np.ndarray = field(init=False)
    decaying_at_start: dict[str, np.ndarray] = field(init=False)
    #: what this turn's moves added beyond a variable's upper bound; it still arrived, and
    #: keeps the variable at its bound for longer (see `adjudication._decay`)
    clipped_inflow: dict[str, np.ndarray] = field(init=False)

    #: per-replication state arrays and mappings of arrays: what a finished replication keeps
    #: and what a replay must reproduce
    STATE_ARRAYS = (
        "escalation",
        "us_force_posture",
        "oil_price",
        "oil_discount",
        "iran_stability",
        "iran_military_capacity",
        "nuclear_programme",
        "arms_pipeline",
        "china_imports_kbd",
        "other_exports_kbd",
        "hormuz",
        "regime_pressure",
        "negotiation_progress",
        "us_basing",
        "nuclear_signal",
        "sanctions_evasion",
        "closure_severity",
        "rally",
        "succession",
        "leader_killed",
        "fragile_days",
        "end_state",
        "end_turn",
    )
    STATE_MAPS = (
        "context",
        "support",
        "support_covert",
        "support_exposed",
        "iran_belief",
        "basing_stance",
        "gulf_struck",
        "memory",
    )

    #: events of the Israel-Iran exchange that actors remember for a while, fading at the same
    #: pace in days whatever the length of a turn (`remembered`)
    REMEMBERED = ("israel_strike", "attack_on_israel", "us_restraint", "us_green_light")

    EVENTS = (
        "help_request_public",
        "help_request_private",
        "mediation",
        "ceasefire_signal",
        "great_power_warning",
        "iran_attack",
        "gulf_output",
        "strike_on_iran",
        "hormuz",
        "hormuz_reopen",
        "leadership_strike",
        "sanctions_effort",
        "israel_strike",
        "attack_on_israel",
        "us_restraint",
        "us_green_light",
        "gulf_strike",
        "gulf_hit",
    )

    #: variables that fade each turn; their values when the turn began separate what the turn
    #: added from what was there (see `adjudication._decay`)
    DECAYING = (
        "regime_pressure",
        "us_force_posture",
        "negotiation_progress",
        "nuclear_signal",
        "oil_discount",
    )

    def __post_init__(self) -> None:
        self.nuclear_signal = np.zeros(self.size)
        self.closure_severity = np.zeros(self.size)
        self.rally = np.zeros(self.size)
        self.succession = np.zeros(self.size)
        self.leader_killed = np.zeros(self.size, dtype=bool)
        self.fragile_days = np.zeros(self.size)
        self.events = {name: np.zeros(self.size) for name in self.EVENTS}
        self.begin_turn()

    def begin_turn(self) -> None:
        """Roll this turn's events over into last turn's, so actors can react to them."""
        self.last_events = self.events
        self.events = {name: np.zeros(self.size) for name in self.EVENTS}
        self.escalated = np.zeros(self.size, dtype=bool)
        self.escalation_at_start = self.escalation.copy()
        self.hormuz_at_start = self.hormuz.copy()
        self.decaying_at_start = {name: getattr(self, name).copy() for name in self.DECAYING}
        self.clipped_inflow = {name: np.zeros(self.size) for name in self.DECAYING}

    def recent(self, event: str) -> np.ndarray:
        """An event as actors see it when they decide: last turn's, or this turn's injects."""
        return np.maximum(self.last_events[event], self.events[event])

    def remembered(self, event: str) -> np.ndarray:
        """An event of `REMEMBERED` as actors see it: this turn's injects or a fading memory of
        earlier turns, so that a strike three days ago counts alike with 1-day or 3-day turns."""
        return np.maximum(self.memory[event], self.events[event])

    @property
    def war(self) -> np.ndarray:
        return self.escalation >= self.war_threshold

    def great_power_ids(self) -> list[str]:
        return list(self.support)

    @classmethod
    def initial(cls, scenario: Scenario, streams: ReplicationStreams) -> WorldState:
        size = len(streams.replications)
        init = scenario.initial

        def value(param, path: str) -> np.ndarray:
            return draw(param, path, streams)

        context = {
            name: value(getattr(scenario.context, name), f"context.{name}")
            for name in type(scenario.context).model_fields
        }
        great_powers = [a for a, c in scenario.actors.items() if c.kind in ("russia", "china")]
        gulf_states = [a for a, c in scenario.actors.items() if c.kind == "gulf_state"]
        imports = value(init.china_imports_kbd, "initial.china_imports_kbd")
        return cls(
            size=size,
            war_threshold=scenario.ladders.war_threshold,
            top_escalation=len(scenario.ladders.escalation) - 1,
            top_support=len(scenario.ladders.support) - 1,
            turn=0,
            active=np.ones(size, dtype=bool),
            end_state=np.zeros(size, dtype=np.int8),
            end_turn=np.zeros(size, dtype=np.int16),
            escalation=np.full(size, init.escalation, dtype=np.int64),
            us_force_posture=value(init.us_force_posture, "initial.us_force_posture"),
            oil_price=value(init.oil_price, "initial.oil_price"),
            oil_discount=value(init.oil_discount, "initial.oil_discount"),
            iran_stability=value(init.iran_stability, "initial.iran_stability"),
            iran_military_capacity=value(
                init.iran_military_capacity, "initial.iran_military_capacity"
            ),
            nuclear_programme=value(init.nuclear_programme, "initial.nuclear_programme"),
            arms_pipeline=np.zeros(size),
            china_imports_kbd=imports,
            china_imports_reference=imports.copy(),
            other_exports_kbd=value(init.other_exports_kbd, "initial.other_exports_kbd"),
            hormuz=np.full(size, init.hormuz, dtype=np.int64),
            regime_pressure=value(init.regime_pressure, "initial.regime_pressure"),
            context=context,
            support={
                a: np.full(size, init.support.get(a, 0), dtype=np.int64) for a in great_powers
            },
            support_covert={a: np.zeros(size, dtype=bool) for a in great_powers},
            support_exposed={a: np.zeros(size, dtype=bool) for a in great_powers},
            iran_belief={
                a: value(init.iran_belief.get(a, 0.0), f"initial.iran_belief.{a}")
                for a in great_powers
            },
            negotiation_progress=np.zeros(size),
            sanctions_evasion=np.full(size, scenario.dynamics.sanctions.initial_evasion),
            sanctions_start=context["sanctions_intensity"].copy(),
            us_basing=np.full(size, scenario.dynamics.basing.base_access),
            basing_stance={g: np.zeros(size, dtype=np.int64) for g in gulf_states},
            gulf_struck={g: np.zeros(size) for g in gulf_states},
            memory={name: np.zeros(size) for name in cls.REMEMBERED},
        )

    # Derived indicators several actors read; kept here so they mean the same to everyone.

    def escalation_share(self) -> np.ndarray:
        """How far up the ladder the crisis is, 0 (calm) to 1 (top rung)."""
        return self.escalation / self.top_escalation

    def regime_threat(self) -> np.ndarray:
        """Threat to the Islamic Republic: outside pressure for regime change or internal decay.

        Squared, so that a stable regime inspires little fear while an eroding one alarms fast.
        """
        return np.maximum(self.regime_pressure, 1.0 - self.iran_stability) ** 2

    def sanctions_bite(self) -> np.ndarray:
        """The share of Iran's trade the sanctions actually stop: enforcement net of evasion."""
        return self.context["sanctions_intensity"] * (1.0 - self.sanctions_evasion)

    def us_pressure(self) -> np.ndarray:
        """Overall US pressure on Iran: sanctions, forces in the region and escalation."""
        return (
            self.context["sanctions_intensity"] + self.us_force_posture + self.escalation_share()
        ) / 3.0

    def received_support(self, power: str) -> np.ndarray:
        """The support level Iran actually gets from a power, overt or covert."""
        return self.support[power]

    def public_support(self, power: str) -> np.ndarray:
        """The support level the world can see: overt acts and discovered covert ones."""
        visible = ~self.support_covert[power] | self.support_exposed[power]
        return np.where(visible, self.support[power], 0)


def replicate_row(value, row: int, copies: int, size: int):
    """Copy replication `row` of a per-replication value `copies` times (arrays, dicts of them).

    Anything that is not indexed by replication (a scalar, a lookup table) is returned as is.
    """
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == size:
        return np.repeat(value[row : row + 1], copies, axis=0)
    if isinstance(value, dict):
        return {k: replicate_row(v, row, copies, size) for k, v in value.items()}
    return value


def replicate_world(world: WorldState, row: int, copies: int) -> WorldState:
    """A batch of `copies` worlds that all stand where replication `row` stands now."""
    clone = copy.copy(world)
    for name, value in vars(world).items():
        setattr(clone, name, replicate_row(value, row, copies, world.size))
    clone.size = copies
    return clone


# Variables an action's preconditions may name (`requires: ["escalation >= 4"]`).
CONDITION_VARIABLES = {
    "escalation": lambda w, own: w.escalation,
    "war": lambda w, own: w.war.astype(float),
    "hormuz": lambda w, own: w.hormuz,
    "us_force_posture": lambda w, own: w.us_force_posture,
    "sanctions_intensity": lambda w, own: w.context["sanctions_intensity"],
    "iran_stability": lambda w, own: w.iran_stability,
    "iran_military_capacity": lambda w, own: w.iran_military_capacity,
    "nuclear_programme": lambda w, own: w.nuclear_programme,
    "us_basing": lambda w, own: w.us_basing,
    "israel_strike": lambda w, own: w.remembered("israel_strike"),
    "regime_pressure": lambda w, own: w.regime_pressure,
    "oil_price": lambda w, own: w.oil_price,
    "china_imports_kbd": lambda w, own: w.china_imports_kbd,
    "nuclear_signal": lambda w, own: w.nuclear_signal,
    "turn": lambda w, own: np.full(w.size, w.turn),
    "leader_killed": lambda w, own: w.leader_killed.astype(float),
    "own_support": lambda w, own: w.support.get(own, np.zeros(w.size)),
}
