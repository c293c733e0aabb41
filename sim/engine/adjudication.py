"""Turn resolution: effects of the chosen moves phase by phase, then the world's own dynamics.

Moves are simultaneous; the phases (diplomatic, economic, covert, military) fix the order in
which their effects land, so that, say, mediation and sanctions count before the turn's strikes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from actors.base import Decision
from sim.engine.basing import update_basing
from sim.engine.decision import PHASES
from sim.engine.effects import EFFECT_INDEX, EFFECTS, ONE_OFF_EFFECTS, RATE_EFFECTS
from sim.engine.streams import ReplicationStreams
from sim.engine.talks import break_off_talks, settlement_chance
from sim.engine.timescale import TimeScale
from sim.engine.world import EndState, Hormuz, WorldState
from sim.scenario.config import Scenario

_RATE = np.array([name in RATE_EFFECTS for name in EFFECTS])
_ONE_OFF = np.array([name in ONE_OFF_EFFECTS for name in EFFECTS])


@dataclass
class TurnReport:
    """What happened this turn beyond the moves themselves (for narratives and outcomes)."""

    incidents: dict[str, np.ndarray]
    discovered: dict[str, np.ndarray]
    ended: np.ndarray


def phase_columns(decisions: list[Decision], size: int) -> list[dict[int, np.ndarray]]:
    """The effects of all moves in each phase, by effect column: added up, or the highest for
    level effects; a column no move touches in a phase is left out (it would be all zero).

    Each menu's effects are gathered once per phase, column by column, from a table that keeps
    only the columns its actions in that phase touch: the same numbers, added in the same
    order, as masking whole [R, E] copies (a skipped term would only have added 0.0).
    """
    totals: list[dict[int, np.ndarray]] = [{} for _ in PHASES]
    for decision in decisions:
        chosen = decision.chosen
        kept = decision.kept if decision.kept is not None and decision.kept.any() else None
        for table in decision.menu.phase_tables:
            total = totals[table.phase]
            for j, column in enumerate(table.added):
                amounts = table.add_amounts[:, j][chosen]
                if kept is not None and _ONE_OFF[column]:
                    # A move an actor merely keeps to goes on doing what it does, but its
                    # one-off effects (a rung climbed, a price shock) do not happen again.
                    amounts = np.where(kept, 0.0, amounts)
                current = _column(total, column, size)
                np.add(current, amounts, out=current)
            for j, column in enumerate(table.levelled):
                current = _column(total, column, size)
                np.maximum(current, table.level_amounts[:, j][chosen], out=current)
    return totals


def _column(total: dict[int, np.ndarray], column, size: int) -> np.ndarray:
    """A phase's running total of one effect column, zero until a move touches it."""
    key = int(column)
    if key not in total:
        total[key] = np.zeros(size)
    return total[key]


def phase_effects(decisions: list[Decision], size: int) -> list[np.ndarray]:
    """[R, E] effects of all moves in each phase: `phase_columns` as whole matrices."""
    matrices = []
    for columns in phase_columns(decisions, size):
        matrix = np.zeros((len(EFFECTS), size))
        for column, values in columns.items():
            matrix[column] = values
        matrices.append(matrix.T)
    return matrices


def apply_effects(
    world: WorldState,
    effects: np.ndarray | dict[int, np.ndarray],
    ratio: float = 1.0,
    scripted: bool = False,
) -> None:
    """Apply effects to the world, clipping every variable to its range: an [R, E] matrix, or
    its columns by index (`phase_columns`; a column left out is all zero).

    `ratio` (reference periods per turn) scales the effects that are flows over a turn, the
    moves' effects on continuous variables; an inject or an incident is an event, applied as is.
    Steps up the ladder stop below war unless `scripted` (a scenario's or facilitator's inject
    says what happened, and may say a war began).
    """
    if isinstance(effects, np.ndarray):
        if ratio != 1.0:
            effects = np.where(_RATE, effects * ratio, effects)
        columns = {i: effects[:, i] for i in range(len(EFFECTS))}
    else:
        zero = np.zeros(world.size)  # read only; a flow of zero scaled is still zero
        columns = {
            i: zero if i not in effects else effects[i] * ratio if ratio != 1.0 and _RATE[i]
            else effects[i]
            for i in range(len(EFFECTS))
        }  # fmt: skip

    def e(name: str) -> np.ndarray:
        return columns[EFFECT_INDEX[name]]

    context = world.context
    context["sanctions_intensity"] = np.clip(
        context["sanctions_intensity"] + e("sanctions_intensity") - e("sanctions_relief"), 0, 1
    )
    context["secondary_sanctions_on_china"] = np.clip(
        context["secondary_sanctions_on_china"] + e("secondary_sanctions_on_china"), 0, 1
    )
    world.us_force_posture = _bounded_inflow(world, "us_force_posture", e("us_force_posture"))
    world.oil_price = world.oil_price + e("oil_price")
    world.oil_discount = np.maximum(0.0, world.oil_discount + e("oil_discount"))
    world.iran_stability = np.clip(world.iran_stability + e("iran_stability"), 0, 1)
    world.iran_military_capacity = np.clip(
        world.iran_military_capacity + e("iran_military_capacity"), 0, 1
    )
    world.china_imports_kbd = world.china_imports_kbd * (1.0 + e("china_imports"))
    world.regime_pressure = _bounded_inflow(world, "regime_pressure", e("regime_pressure"))
    world.nuclear_programme = np.clip(world.nuclear_programme + e("nuclear_programme"), 0, 1)
    world.arms_pipeline = world.arms_pipeline + e("arms_deliveries")
    world.negotiation_progress += e("negotiation")
    world.nuclear_signal = np.maximum(world.nuclear_signal, e("nuclear_signal"))
    events = world.events
    for name in ("help_request_public", "help_request_private"):
        events[name] = np.maximum(events[name], e(name))
    for name in ("mediation", "ceasefire_signal", "great_power_warning", "gulf_output"):
        events[name] = events[name] + e(name)
    for name in (
        "iran_attack",
        "strike_on_iran",
        "israel_strike",
        "attack_on_israel",
        "us_restraint",
        "us_green_light",
        "gulf_strike",
    ):
        events[name] = np.minimum(1.0, events[name] + e(name))
    events["sanctions_effort"] = np.maximum(
        events["sanctions_effort"], e("sanctions_intensity") > 0
    )
    events["leadership_strike"] = np.maximum(events["leadership_strike"], e("leadership_strike"))
    events["hormuz"] = np.maximum(events["hormuz"], e("hormuz"))
    world.hormuz = np.maximum(world.hormuz, e("hormuz").astype(np.int64))
    # Iran lifting a closure of an earlier turn (unless something closes the Strait again in
    # the same step)
    reopened = (e("hormuz_reopen") > 0) & (e("hormuz") == 0) & (world.hormuz_at_start > 0)
    events["hormuz_reopen"] = np.maximum(events["hormuz_reopen"], reopened)
    world.hormuz = np.where(reopened, Hormuz.OPEN, world.hormuz)
    # Threats, proxy attacks and incidents climb the ladder, but only up to the rung below war:
    # the war rungs name strikes, so only a strike (an effect setting a war-rung floor) gets there.
    steps = np.rint(e("escalation")).astype(np.int64)
    climbed = world.escalation + steps
    below_war = (steps > 0) & (world.escalation < world.war_threshold) & (not scripted)
    climbed = np.where(below_war, np.minimum(climbed, world.war_threshold - 1), climbed)
    new_escalation = np.maximum(climbed, e("escalation_floor").astype(np.int64))
    new_escalation = np.clip(new_escalation, 0, world.top_escalation)
    world.escalated |= new_escalation > world.escalation
    world.escalation = new_escalation


def _bounded_inflow(world: WorldState, name: str, amount: np.ndarray) -> np.ndarray:
    """A 0-1 variable plus an inflow, clipped; what went beyond 1 is noted for `_decay`."""
    raw = getattr(world, name) + amount
    world.clipped_inflow[name] = world.clipped_inflow[name] + np.maximum(raw - 1.0, 0.0)
    return np.clip(raw, 0.0, 1.0)


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
    time = TimeScale.of(scenario)

    for phase, effects in enumerate(phase_columns(decisions, world.size)):
        apply_effects(world, effects, time.ratio)
        if PHASES[phase] == "covert":
            set_support(world, decisions)
    update_basing(world, scenario, decisions, time.ratio)

    # Random incidents: a tanker seized, a militia attack, a back channel opening.
    incidents: dict[str, np.ndarray] = {}
    for name, incident in scenario.incidents.items():
        strikes = (world.escalation_at_start >= incident.min_escalation) & (
            streams.uniform(f"incident:{name}", turn) < time.probability(incident.probability)
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
        streams.uniform("escalation:decay", turn)
        < time.probability(dynamics.escalation.decay_probability)
    )
    world.escalation = np.where(drift, np.maximum(world.escalation - 1, 0), world.escalation)

    _update_hormuz(world, scenario, streams, time)
    discovered = _discover_covert_support(world, scenario, streams, actors, time)
    _update_oil(world, scenario, streams, time)
    _update_sanctions(world, scenario, time)
    _update_iran(world, scenario, streams, time)
    _rebuild_programme(world, scenario, time)
    _remember(world, scenario, time)
    _deliver_arms(world, scenario, time)
    _decay(world, scenario, time)
    break_off_talks(world, scenario)
    ended = _end_conditions(world, scenario, streams, time)
    return TurnReport(incidents=incidents, discovered=discovered, ended=ended)


def _update_hormuz(
    world: WorldState, scenario: Scenario, streams: ReplicationStreams, time: TimeScale
) -> None:
    """A closure lasts until it is lifted; harassment not renewed dies down.

    US and partner navies reopen a closed Strait over turns (faster with more forces and a
    weaker Iranian military), leaving it harassed for a while; Iran may lift it itself
    (`hormuz_reopen`, in `apply_effects`). While closed, the crisis stays a war across the Gulf.
    """
    rules = scenario.dynamics.hormuz
    turn = world.turn
    closed = world.hormuz == Hormuz.CLOSED
    harassed = world.hormuz == Hormuz.HARASSED
    if not (closed.any() or harassed.any()):
        return  # the usual case: an open Strait, nothing to draw
    renewed = world.events["hormuz"] >= Hormuz.CLOSED
    clearing = np.clip(
        rules.reopen_probability
        * world.us_force_posture
        * (1.0 + rules.reopen_capacity_weight * (1.0 - world.iran_military_capacity)),
        0.0,
        1.0,
    )
    cleared = (
        closed & ~renewed & (streams.uniform("hormuz:reopen", turn) < time.probability(clearing))
    )
    eased = (
        harassed
        & (world.events["hormuz"] < Hormuz.HARASSED)
        & (world.hormuz_at_start == Hormuz.HARASSED)
        & (
            streams.uniform("hormuz:ease", turn)
            < time.probability(rules.harassment_ease_probability)
        )
    )
    world.hormuz = np.select([cleared, eased], [Hormuz.HARASSED, Hormuz.OPEN], world.hormuz).astype(
        np.int64
    )
    closed = world.hormuz == Hormuz.CLOSED
    newly = closed & (world.hormuz_at_start != Hormuz.CLOSED)
    if newly.any():
        severity = rules.severity_low + (rules.severity_high - rules.severity_low) * (
            streams.uniform("hormuz:severity", turn)
        )
        world.closure_severity = np.where(newly, severity, world.closure_severity)
    world.escalation = np.where(
        closed,
        np.maximum(world.escalation, min(rules.closed_escalation_floor, world.top_escalation)),
        world.escalation,
    )


def closure_supply_loss(world: WorldState, scenario: Scenario) -> np.ndarray:
    """Share of world oil supply a closure takes off the market, net of bypass pipelines,
    strategic stock releases and spare capacity outside the Gulf (0 while the Strait is open)."""
    rules = scenario.dynamics.hormuz
    lost = (
        world.closure_severity * rules.flow_mbd
        - rules.bypass_mbd
        - rules.stock_release_mbd
        - rules.spare_outside_mbd
    )
    share = np.clip(lost / rules.world_supply_mbd, 0.0, 0.95)
    return np.where(world.hormuz == Hormuz.CLOSED, share, 0.0)


def _discover_covert_support(world, scenario, streams, actors, time) -> dict[str, np.ndarray]:
    discovered = {}
    for power in world.great_power_ids():
        rules = scenario.actors[power].covert
        covert_now = world.support_covert[power] & (world.support[power] > 0)
        roll = streams.uniform(f"discovery:{power}", world.turn) < time.probability(
            rules.discovery_probability
        )
        newly = covert_now & roll & ~world.support_exposed[power]
        world.support_exposed[power] |= newly
        if newly.any():
            actors[power].on_discovered(world, newly)
        discovered[power] = newly
    return discovered


def _update_oil(
    world: WorldState, scenario: Scenario, streams: ReplicationStreams, time: TimeScale
) -> None:
    """The price moves towards a fundamental: war premia, and for a closure the price at which
    the market clears the supply it lost (constant elasticity: P / P0 = (1 - loss)^(-1/e))."""
    oil = scenario.dynamics.oil
    hormuz = scenario.dynamics.hormuz
    if (world.hormuz == Hormuz.CLOSED).any():
        loss = closure_supply_loss(world, scenario)
        scarcity = (1.0 - loss) ** (-1.0 / hormuz.price_elasticity)
        fundamental = np.minimum(oil.base_price * scarcity, hormuz.max_price)
    else:
        fundamental = oil.base_price
    target = (
        fundamental
        + oil.escalation_premium * world.escalation
        + oil.harassment_premium * (world.hormuz == Hormuz.HARASSED)
        - world.events["gulf_output"]
    )
    shock = time.volatility(oil.volatility) * special.ndtri(
        np.clip(streams.uniform("oil:shock", world.turn), 1e-9, 1 - 1e-9)
    )
    world.oil_price = np.maximum(
        oil.floor_price,
        world.oil_price + time.share(oil.adjustment_rate) * (target - world.oil_price) + shock,
    )
    limits = scenario.dynamics.china_imports
    world.china_imports_kbd = np.clip(world.china_imports_kbd, limits.min_kbd, limits.max_kbd)


def iran_exports_kbd(world: WorldState, scenario: Scenario) -> np.ndarray:
    """Crude Iran gets to market this turn: China's purchases plus others, unless Hormuz shuts."""
    deliverable = np.where(
        world.hormuz == Hormuz.CLOSED, scenario.dynamics.iran.closure_export_factor, 1.0
    )
    return (world.china_imports_kbd + world.other_exports_kbd) * deliverable


def _update_sanctions(world: WorldState, scenario: Scenario, time: TimeScale) -> None:
    """Enforcement fades without fresh US effort, Iran learns to evade, and buyers other than
    China follow the sanctions' net bite and the discount Iran offers."""
    rules = scenario.dynamics.sanctions
    context = world.context
    effort = world.events["sanctions_effort"] > 0
    floor = rules.enforcement_floor * world.sanctions_start
    intensity = context["sanctions_intensity"]
    fatigue = time.share(rules.enforcement_decay) * np.maximum(intensity - floor, 0.0)
    context["sanctions_intensity"] = np.where(effort, intensity, intensity - fatigue)
    learnt = (
        time.amount(rules.evasion_learning)
        * intensity
        * (1.0 - world.sanctions_evasion / max(rules.evasion_max, 1e-9))
    )
    world.sanctions_evasion = np.clip(
        world.sanctions_evasion + learnt - rules.designation_setback * effort,
        0.0,
        rules.evasion_max,
    )
    normal = scenario.dynamics.oil.normal_discount
    pull = 1.0 + rules.discount_pull * np.maximum(world.oil_discount - normal, 0.0) / max(
        normal, 1e-9
    )
    target = (
        rules.other_buyers_potential_kbd
        * (1.0 - world.sanctions_bite()) ** rules.other_buyers_elasticity
        * pull
    )
    world.other_exports_kbd = world.other_exports_kbd + time.share(
        rules.other_buyers_adjustment
    ) * (target - world.other_exports_kbd)


def _update_iran(
    world: WorldState, scenario: Scenario, streams: ReplicationStreams, time: TimeScale
) -> None:
    """Stability: war, sanctions and pressure wear it down, revenue and recovery restore it;
    foreign strikes rally the country, and the loss of the leader opens a succession."""
    iran = scenario.dynamics.iran
    regime = scenario.dynamics.regime
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
    # Rally round the flag: each turn under foreign strikes closes part of the gap to a full
    # rally, which then fades.
    struck = world.events["strike_on_iran"]
    world.rally = world.rally + time.probability(regime.rally_gain) * struck * (1.0 - world.rally)
    # A leadership strike may kill the Supreme Leader: an immediate shock, then a succession.
    kill_chance = (
        time.probability(regime.leader_kill_probability) * (world.events["leadership_strike"])
    )
    if (kill_chance > 0).any():
        killed = (kill_chance > 0) & (streams.uniform("regime:leader", world.turn) < kill_chance)
        world.leader_killed = world.leader_killed | killed
        world.succession = np.where(killed, 1.0, world.succession)
        world.iran_stability = np.clip(
            world.iran_stability - regime.succession_shock * killed, 0, 1
        )
    lost = 1.0 - world.iran_stability
    change = (
        -iran.war_stability_cost * war_depth
        - iran.sanctions_stability_cost * world.sanctions_bite()
        + iran.revenue_stability_gain * np.minimum(revenue, iran.revenue_cap)
        - iran.regime_pressure_cost * world.regime_pressure
        + regime.rally_strength * world.rally * lost
    )
    recovery = time.share(iran.recovery_rate) * (1.0 - world.succession) * lost
    world.iran_stability = np.clip(world.iran_stability + time.amount(change) + recovery, 0, 1)
    world.rally = world.rally * (1.0 - time.share(regime.rally_decay))
    world.succession = world.succession * (1.0 - time.share(regime.succession_decay))
    world.iran_military_capacity = np.clip(
        world.iran_military_capacity
        + time.share(iran.military_recovery_rate) * (1.0 - world.iran_military_capacity),
        0,
        1,
    )


def _deliver_arms(world: WorldState, scenario: Scenario, time: TimeScale) -> None:
    """Contracted arms arrive a share at a time (aircraft, air defences: months, not days)."""
    delivered = time.share(scenario.dynamics.support.delivery_rate) * world.arms_pipeline
    world.arms_pipeline = world.arms_pipeline - delivered
    world.iran_military_capacity = np.minimum(1.0, world.iran_military_capacity + delivered)


def _remember(world: WorldState, scenario: Scenario, time: TimeScale) -> None:
    """The remembered events fade by a share per reference period; this turn's are fresh."""
    kept = scenario.dynamics.israel.event_memory**time.ratio
    for name, memory in world.memory.items():
        world.memory[name] = np.maximum(kept * memory, world.events[name])


def _rebuild_programme(world: WorldState, scenario: Scenario, time: TimeScale) -> None:
    """Iran rebuilds what sabotage and strikes destroyed, a share of the gap each turn."""
    rate = time.share(scenario.dynamics.israel.nuclear_rebuild_rate)
    world.nuclear_programme = world.nuclear_programme + rate * (1.0 - world.nuclear_programme)


def _decay(world: WorldState, scenario: Scenario, time: TimeScale) -> None:
    """Pressure, forces, talks, signals and discounts fade.

    What was there when the turn began fades by the turn's share; what the turn added arrived
    spread over it and fades only for the time since (the exact solution for a steady inflow
    and exponential decay), so that short and long turns settle at the same levels.
    """
    rules = scenario.dynamics.escalation
    oil = scenario.dynamics.oil
    rates = {
        "regime_pressure": rules.regime_pressure_decay,
        "us_force_posture": rules.posture_decay,
        "negotiation_progress": rules.negotiation_decay,
        "nuclear_signal": rules.nuclear_signal_decay,
        "oil_discount": oil.discount_recovery,
    }
    baselines = {"oil_discount": oil.normal_discount}
    for name, rate in rates.items():
        share = time.share(rate)
        kept = 1.0 - share
        # share of an inflow spread over the turn that is still there at its end
        spread = share / -np.log(kept) if 0.0 < share < 1.0 else kept
        base = baselines.get(name, 0.0)
        start = world.decaying_at_start[name] - base
        added = getattr(world, name) - base - start + world.clipped_inflow[name]
        value = base + kept * start + spread * added
        if name in ("regime_pressure", "us_force_posture"):
            value = np.clip(value, 0.0, 1.0)
        setattr(world, name, value)


def _end_conditions(
    world: WorldState,
    scenario: Scenario,
    streams: ReplicationStreams,
    time: TimeScale | None = None,
) -> np.ndarray:
    """Mark replications that end this turn; returns the mask of those that just ended.

    The regime collapses only after its stability has stayed below the threshold for
    `dynamics.regime.collapse_days`: sustained pressure on a fragile regime, not one bad turn.
    """
    time = time or TimeScale.of(scenario)
    rules = scenario.dynamics.escalation
    active = world.active
    fragile = world.iran_stability < scenario.dynamics.iran.collapse_threshold
    world.fragile_days = np.where(fragile, world.fragile_days + time.turn_days, 0.0)
    collapse = active & fragile & (world.fragile_days >= scenario.dynamics.regime.collapse_days)
    ceasefire_chance = time.probability(
        np.clip(
            rules.ceasefire_base
            + rules.ceasefire_per_signal
            * (world.events["ceasefire_signal"] + world.events["mediation"]),
            0,
            1,
        )
    )
    ceasefire = (
        active
        & ~collapse
        & world.war
        & ~world.escalated
        & (streams.uniform("ceasefire", world.turn) < ceasefire_chance)
    )
    # A deal: talks under way on terms both sides accept, closed with a chance per period
    # (sim/engine/talks.py), so that a deal takes as long whether turns are days or weeks.
    settlement = active & ~collapse & ~world.war
    if settlement.any():
        chance = settlement_chance(world, scenario, time)
        settlement &= streams.uniform("settlement", world.turn) < chance
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
