"""Turn resolution: effects of the chosen moves phase by phase, then the world's own dynamics.

Moves are simultaneous; the phases (diplomatic, economic, covert, military) fix the order in
which their effects land, so that, say, mediation and sanctions count before the turn's strikes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from actors.base import Decision
from sim.engine.decision import PHASES
from sim.engine.effects import EFFECT_INDEX, EFFECTS
from sim.engine.streams import ReplicationStreams
from sim.engine.world import EndState, Hormuz, WorldState
from sim.scenario.config import Scenario


@dataclass
class TurnReport:
    """What happened this turn beyond the moves themselves (for narratives and outcomes)."""

    incidents: dict[str, np.ndarray]
    discovered: dict[str, np.ndarray]
    ended: np.ndarray


def phase_effects(decisions: list[Decision], size: int) -> list[np.ndarray]:
    """[R, E] effects of all moves in each phase: added up, or the highest for level effects.

    Each menu's effects are gathered once per phase from a table that keeps only the columns
    its actions in that phase touch, instead of masking whole [R, E] copies: the totals are
    the same numbers, added in the same order (a skipped term would only have added 0.0).
    """
    totals = [np.zeros((size, len(EFFECTS))) for _ in PHASES]
    for decision in decisions:
        for table in decision.menu.phase_tables:
            total = totals[table.phase]
            if table.added.size:
                total[:, table.added] += table.add_amounts[decision.chosen]
            if table.levelled.size:
                total[:, table.levelled] = np.maximum(
                    total[:, table.levelled], table.level_amounts[decision.chosen]
                )
    return totals


def apply_effects(world: WorldState, effects: np.ndarray) -> None:
    """Apply an [R, E] effect matrix to the world, clipping every variable to its range."""

    def e(name: str) -> np.ndarray:
        return effects[:, EFFECT_INDEX[name]]

    context = world.context
    context["sanctions_intensity"] = np.clip(
        context["sanctions_intensity"] + e("sanctions_intensity") - e("sanctions_relief"), 0, 1
    )
    context["secondary_sanctions_on_china"] = np.clip(
        context["secondary_sanctions_on_china"] + e("secondary_sanctions_on_china"), 0, 1
    )
    world.us_force_posture = np.clip(world.us_force_posture + e("us_force_posture"), 0, 1)
    world.oil_price = world.oil_price + e("oil_price")
    world.oil_discount = np.maximum(0.0, world.oil_discount + e("oil_discount"))
    world.iran_stability = np.clip(world.iran_stability + e("iran_stability"), 0, 1)
    world.iran_military_capacity = np.clip(
        world.iran_military_capacity + e("iran_military_capacity"), 0, 1
    )
    world.china_imports_kbd = world.china_imports_kbd * (1.0 + e("china_imports"))
    world.regime_pressure = np.clip(world.regime_pressure + e("regime_pressure"), 0, 1)
    world.negotiation_progress += e("negotiation")
    world.nuclear_signal = np.maximum(world.nuclear_signal, e("nuclear_signal"))
    events = world.events
    for name in ("help_request_public", "help_request_private"):
        events[name] = np.maximum(events[name], e(name))
    for name in ("mediation", "ceasefire_signal", "great_power_warning", "gulf_output"):
        events[name] = events[name] + e(name)
    for name in ("iran_attack", "strike_on_iran"):
        events[name] = np.minimum(1.0, events[name] + e(name))
    events["hormuz"] = np.maximum(events["hormuz"], e("hormuz"))
    world.hormuz = np.maximum(world.hormuz, e("hormuz").astype(np.int64))
    new_escalation = np.maximum(
        world.escalation + np.rint(e("escalation")).astype(np.int64),
        e("escalation_floor").astype(np.int64),
    )
    new_escalation = np.clip(new_escalation, 0, world.top_escalation)
    world.escalated |= new_escalation > world.escalation
    world.escalation = new_escalation


def set_support(world: WorldState, decisions: list[Decision]) -> None:
    """A great power's chosen rung becomes its current support level, overt or covert."""
    for decision in decisions:
        levels = decision.menu.levels[decision.chosen]
        if decision.actor_id not in world.support or (levels < 0).all():
            continue
        chosen = levels >= 0
        covert = decision.menu.covert[decision.chosen]
        was_covert = world.support_covert[decision.actor_id]
        world.support[decision.actor_id] = np.where(
            chosen, levels, world.support[decision.actor_id]
        )
        world.support_covert[decision.actor_id] = np.where(chosen, covert, was_covert)
        # An exposure sticks only while the power keeps acting covertly.
        world.support_exposed[decision.actor_id] &= world.support_covert[decision.actor_id]


def adjudicate(
    world: WorldState,
    scenario: Scenario,
    decisions: list[Decision],
    streams: ReplicationStreams,
    actors: dict,
) -> TurnReport:
    """Resolve one turn in place and return what the dice decided."""
    turn = world.turn
    dynamics = scenario.dynamics

    for phase, effects in enumerate(phase_effects(decisions, world.size)):
        apply_effects(world, effects)
        if PHASES[phase] == "covert":
            set_support(world, decisions)

    # Random incidents: a tanker seized, a militia attack, a back channel opening.
    incidents: dict[str, np.ndarray] = {}
    for name, incident in scenario.incidents.items():
        strikes = (world.escalation_at_start >= incident.min_escalation) & (
            streams.uniform(f"incident:{name}", turn) < incident.probability
        )
        if strikes.any():
            matrix = np.zeros((world.size, len(EFFECTS)))
            for effect, amount in incident.effects.items():
                matrix[:, EFFECT_INDEX[effect]] = amount * strikes
            apply_effects(world, matrix)
        incidents[name] = strikes

    # A crisis nobody pushed this turn (no move, inject or incident) drifts down a rung now
    # and then.
    untouched = (world.escalation == world.escalation_at_start) & ~world.escalated
    drift = untouched & (
        streams.uniform("escalation:decay", turn) < dynamics.escalation.decay_probability
    )
    world.escalation = np.where(drift, np.maximum(world.escalation - 1, 0), world.escalation)

    # Hormuz: a closure not renewed this turn eases one step (closed -> harassed -> open).
    eased = np.maximum(world.hormuz_at_start - 1, Hormuz.OPEN)
    world.hormuz = np.maximum(world.events["hormuz"].astype(np.int64), eased)

    discovered = _discover_covert_support(world, scenario, streams, actors)
    _update_oil(world, scenario, streams)
    _update_iran(world, scenario)
    _decay(world, scenario)
    ended = _end_conditions(world, scenario, streams)
    return TurnReport(incidents=incidents, discovered=discovered, ended=ended)


def _discover_covert_support(world, scenario, streams, actors) -> dict[str, np.ndarray]:
    discovered = {}
    for power in world.great_power_ids():
        rules = scenario.actors[power].covert
        covert_now = world.support_covert[power] & (world.support[power] > 0)
        roll = streams.uniform(f"discovery:{power}", world.turn) < rules.discovery_probability
        newly = covert_now & roll & ~world.support_exposed[power]
        world.support_exposed[power] |= newly
        if newly.any():
            actors[power].on_discovered(world, newly)
        discovered[power] = newly
    return discovered


def _update_oil(world: WorldState, scenario: Scenario, streams: ReplicationStreams) -> None:
    oil = scenario.dynamics.oil
    target = (
        oil.base_price
        + oil.escalation_premium * world.escalation
        + oil.harassment_premium * (world.hormuz == Hormuz.HARASSED)
        + oil.closure_premium * (world.hormuz == Hormuz.CLOSED)
        - world.events["gulf_output"]
    )
    shock = oil.volatility * special.ndtri(
        np.clip(streams.uniform("oil:shock", world.turn), 1e-9, 1 - 1e-9)
    )
    world.oil_price = np.maximum(
        oil.floor_price,
        world.oil_price + oil.adjustment_rate * (target - world.oil_price) + shock,
    )
    limits = scenario.dynamics.china_imports
    world.china_imports_kbd = np.clip(world.china_imports_kbd, limits.min_kbd, limits.max_kbd)


def iran_exports_kbd(world: WorldState, scenario: Scenario) -> np.ndarray:
    """Crude Iran gets to market this turn: China's purchases plus others, unless Hormuz shuts."""
    deliverable = np.where(
        world.hormuz == Hormuz.CLOSED, scenario.dynamics.iran.closure_export_factor, 1.0
    )
    return (world.china_imports_kbd + world.other_exports_kbd) * deliverable


def _update_iran(world: WorldState, scenario: Scenario) -> None:
    iran = scenario.dynamics.iran
    oil = scenario.dynamics.oil
    war_depth = np.clip(
        (world.escalation - world.war_threshold + 1)
        / (world.top_escalation - world.war_threshold + 1),
        0,
        1,
    )
    revenue = (
        iran_exports_kbd(world, scenario)
        * np.maximum(world.oil_price - world.oil_discount, 0)
        / (iran.normal_exports_kbd * oil.base_price)
    )
    change = (
        -iran.war_stability_cost * war_depth
        - iran.sanctions_stability_cost * world.context["sanctions_intensity"]
        + iran.revenue_stability_gain * np.minimum(revenue, iran.revenue_cap)
        - iran.regime_pressure_cost * world.regime_pressure
        + iran.recovery_rate * (1.0 - world.iran_stability)
    )
    world.iran_stability = np.clip(world.iran_stability + change, 0, 1)
    world.iran_military_capacity = np.clip(
        world.iran_military_capacity
        + iran.military_recovery_rate * (1.0 - world.iran_military_capacity),
        0,
        1,
    )


def _decay(world: WorldState, scenario: Scenario) -> None:
    rules = scenario.dynamics.escalation
    world.regime_pressure = world.regime_pressure * (1.0 - rules.regime_pressure_decay)
    world.us_force_posture = world.us_force_posture * (1.0 - rules.posture_decay)
    world.negotiation_progress = world.negotiation_progress * (1.0 - rules.negotiation_decay)
    world.nuclear_signal = world.nuclear_signal * (1.0 - rules.nuclear_signal_decay)
    oil = scenario.dynamics.oil
    world.oil_discount = world.oil_discount - oil.discount_recovery * (
        world.oil_discount - oil.normal_discount
    )


def _end_conditions(
    world: WorldState, scenario: Scenario, streams: ReplicationStreams
) -> np.ndarray:
    """Mark replications that end this turn; returns the mask of those that just ended."""
    rules = scenario.dynamics.escalation
    active = world.active
    collapse = active & (world.iran_stability < scenario.dynamics.iran.collapse_threshold)
    ceasefire_chance = np.clip(
        rules.ceasefire_base
        + rules.ceasefire_per_signal
        * (world.events["ceasefire_signal"] + world.events["mediation"]),
        0,
        1,
    )
    ceasefire = (
        active
        & ~collapse
        & world.war
        & ~world.escalated
        & (streams.uniform("ceasefire", world.turn) < ceasefire_chance)
    )
    settlement = (
        active
        & ~collapse
        & ~world.war
        & (
            world.negotiation_progress * (1.0 + world.events["mediation"])
            >= rules.settlement_threshold
        )
    )
    horizon = active & (world.turn >= scenario.horizon) & ~collapse & ~ceasefire & ~settlement
    ended = collapse | ceasefire | settlement | horizon
    world.end_state = np.select(
        [collapse, ceasefire, settlement, horizon],
        [EndState.REGIME_COLLAPSE, EndState.CEASEFIRE, EndState.SETTLEMENT, EndState.HORIZON],
        world.end_state,
    ).astype(np.int8)
    world.end_turn = np.where(ended, world.turn, world.end_turn).astype(np.int16)
    world.active = active & ~ended
    return ended
