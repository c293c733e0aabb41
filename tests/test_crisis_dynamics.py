"""The dynamics real crises showed: Hormuz, regime resilience, sanctions both ways, time.

Each statistical test runs a few hundred seeded replications and pairs the effect with a
counter-check: the same runs with the factor or mechanism removed lose the effect.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import CrisisModel
from sim.engine.world import Hormuz

SIZE = 400

#: the share of regime-change wars that ended in collapse before regime resilience
COLLAPSE_BEFORE = 0.57
#: the share of max_pressure crises that became a war before (no military trigger)
SANCTIONS_WAR_BEFORE = 0.61


def closed_share(frame) -> float:
    return float(frame.hormuz_ever_closed.mean())


# ----------------------------------------------------------------------------- Hormuz


@pytest.mark.slow
def test_a_regime_change_war_closes_hormuz_and_the_oil_price_spikes(outcomes):
    war = outcomes("regime_change", size=SIZE)
    closed = war[war.hormuz_ever_closed]
    assert 0.05 < closed_share(war) < 0.9
    assert closed.peak_oil_price.median() >= 95
    # Without the threat to the regime there is nothing to close the Strait for.
    calm = outcomes("regime_change", "actors.iran.weights.regime_survival=0", size=SIZE)
    assert closed_share(calm) < closed_share(war) / 4
    # Bypass pipelines and stock releases that make up the lost flow take the tail away.
    cushioned = outcomes(
        "regime_change",
        "dynamics.hormuz.bypass_mbd=15",
        "dynamics.hormuz.stock_release_mbd=5",
        size=SIZE,
    )
    assert cushioned[cushioned.hormuz_ever_closed].peak_oil_price.median() < 95


@pytest.mark.slow
def test_the_cost_to_china_and_the_gulf_holds_tehran_back(outcomes):
    war = outcomes("regime_change", size=SIZE)
    careless = outcomes("regime_change", "actors.iran.weights.partner_cost=0", size=SIZE)
    assert closed_share(careless) > closed_share(war) + 0.05


@pytest.mark.slow
def test_no_closure_without_a_war_that_threatens_the_regime(outcomes):
    for name in ("baseline", "max_pressure", "twelve_day_war"):
        assert closed_share(outcomes(name, size=SIZE)) < 0.02, name


@pytest.mark.slow
def test_closures_end_and_the_ladder_never_contradicts_the_strait(scenario):
    crisis = scenario("regime_change")
    frame = CrisisModel(crisis, SIZE, rng=11).run().trajectory_frame()
    played = frame[frame.turn > 0]
    closed = played[played.hormuz == Hormuz.CLOSED]
    assert len(closed) > 0
    floor = crisis.dynamics.hormuz.closed_escalation_floor
    assert (closed.escalation >= floor).all()
    # A closure is lifted in some runs (navies or Tehran), not only by the end of the crisis.
    ever = closed.replication.unique()
    later = played[played.replication.isin(ever) & (played.hormuz < Hormuz.CLOSED)]
    first_closed = closed.groupby("replication").turn.min()
    reopened = later[later.turn > later.replication.map(first_closed)]
    assert reopened.replication.nunique() > 0
    # No rung is named after the Strait: its state is shown from the world, not the ladder.
    assert not [rung for rung in crisis.ladders.escalation if "hormuz" in rung.lower()]


# ----------------------------------------------------------------------------- regime


@pytest.mark.slow
def test_regime_collapse_is_rarer_and_needs_sustained_pressure(scenario, outcomes):
    war = outcomes("regime_change", size=SIZE)
    assert war.regime_collapsed.mean() < COLLAPSE_BEFORE / 2
    # Every collapse followed turns below the threshold for the whole required time.
    crisis = scenario("regime_change")
    model = CrisisModel(crisis, SIZE, rng=12).run()
    frame = model.trajectory_frame()
    ends = model.outcome_frame().set_index("replication")
    threshold = crisis.dynamics.iran.collapse_threshold
    needed = int(np.ceil(crisis.dynamics.regime.collapse_days / crisis.turn_days))
    collapsed = ends.index[ends.regime_collapsed]
    assert len(collapsed) > 0
    for replication in collapsed:
        end = ends.end_turn[replication]
        path = frame[(frame.replication == replication) & frame.turn.between(end - needed + 1, end)]
        assert (path.iran_stability < threshold).all()
    # Counter-check: without the rally and the required duration, collapse is far commoner.
    brittle = outcomes(
        "regime_change",
        "dynamics.regime.collapse_days=0",
        "dynamics.regime.rally_strength=0",
        size=SIZE,
    )
    assert brittle.regime_collapsed.mean() > 2 * war.regime_collapsed.mean()


@pytest.mark.slow
def test_strikes_rally_the_country(outcomes):
    war = outcomes("regime_change", size=SIZE)
    unrallied = outcomes("regime_change", "dynamics.regime.rally_gain=0", size=SIZE)
    gain = (war.iran_min_stability - unrallied.iran_min_stability).mean()
    assert gain > 0.01


@pytest.mark.slow
def test_leaders_die_only_in_leadership_strikes(outcomes):
    war = outcomes("regime_change", size=SIZE)
    assert 0 < war.leader_killed.mean() < 0.9
    # Where nobody sets out to topple the regime, a strike at the leadership (Israel's, or a
    # rare US turn to regime change) and so a killed leader stay rare.
    assert outcomes("us_limited_strike", size=SIZE).leader_killed.mean() < 0.02
    spared = outcomes("regime_change", "dynamics.regime.leader_kill_probability=0", size=SIZE)
    assert not spared.leader_killed.any()


# ----------------------------------------------------------------------------- sanctions


@pytest.mark.slow
def test_a_sanctions_only_crisis_rarely_becomes_a_war(outcomes):
    pressure = outcomes("max_pressure", size=SIZE)
    assert pressure.war.mean() < SANCTIONS_WAR_BEFORE / 3
    # Counter-check: a Washington that needs no trigger to strike goes to war far more often.
    trigger_happy = outcomes(
        "max_pressure", "actors.united_states.weights.casus_belli=0", size=SIZE
    )
    assert trigger_happy.war.mean() > 2 * pressure.war.mean() + 0.05


#: 2019 after the waivers ended: full enforcement on every buyer, no shadow fleet yet, and
#: China buying about 0.65 mb/d as in 2018 (FACTS.md: exports below 0.5 mb/d by May 2019)
STRICT_SANCTIONS = (
    "initial.china_imports_kbd=650",
    "context.sanctions_intensity=1",
    "context.secondary_sanctions_on_china=1",
    "dynamics.sanctions.initial_evasion=0",
    "dynamics.sanctions.evasion_learning=0",
    "dynamics.sanctions.enforcement_decay=0",
)


@pytest.mark.slow
def test_exports_can_collapse_as_in_2019_and_other_buyers_follow_the_sanctions(outcomes):
    strict = outcomes("max_pressure", *STRICT_SANCTIONS, size=SIZE)
    assert (strict.iran_exports_end_kbd < 500).mean() > 0.05
    others_strict = strict.iran_exports_end_kbd - strict.china_imports_end_kbd
    assert others_strict.median() < 50
    # Counter-check: buyers that ignore sanctions keep Iran's exports up.
    deaf = outcomes(
        "max_pressure", *STRICT_SANCTIONS, "dynamics.sanctions.other_buyers_elasticity=0", size=SIZE
    )
    assert (deaf.iran_exports_end_kbd < 500).mean() == 0
    # And loose sanctions bring other buyers back.
    loose = outcomes(
        "baseline",
        "context.sanctions_intensity=0.1",
        "context.secondary_sanctions_on_china=0",
        size=SIZE,
    )
    others_loose = loose.iran_exports_end_kbd - loose.china_imports_end_kbd
    assert others_loose.median() > 500


def test_enforcement_fades_without_fresh_effort_and_evasion_grows(scenario):
    crisis = scenario("max_pressure")
    quiet = crisis.model_copy(update={"horizon": 10})
    model = CrisisModel(quiet, 200, rng=4)
    us = model.actors["united_states"]
    hold = us.menus["main"].index("warn_russia_china")
    start = model.world.context["sanctions_intensity"].copy()
    evasion = model.world.sanctions_evasion.copy()
    for _ in range(6):
        us.force("main", np.full(200, hold))
        model.step()
    live = model.world.active
    assert (model.world.context["sanctions_intensity"][live] < start[live]).all()
    assert (model.world.sanctions_evasion[live] > evasion[live]).all()
    floor = crisis.dynamics.sanctions.enforcement_floor * start
    assert (model.world.context["sanctions_intensity"] >= floor - 1e-12).all()


# ----------------------------------------------------------------------------- talks

#: the terms of 2013: Washington asks for capped enrichment under inspection (the JCPOA's
#: terms) and not for the regime's end
JCPOA_TERMS = ("context.us_demands=0.35", "context.us_regime_change_intent=0")


@pytest.mark.slow
def test_deals_take_months_and_maximum_demands_block_them(outcomes):
    # 2018-2025: maximum pressure, and the demands that came with it, never ended in a deal.
    for name in ("baseline", "max_pressure"):
        frame = outcomes(name, size=SIZE)
        assert (frame.end_state == "settlement").mean() < 0.05, name
    # On the JCPOA's terms, two years of crisis often end in a deal, after months of talks
    # (the interim deal took eight months from the first secret round, the JCPOA 20 more).
    jcpoa = outcomes("baseline", *JCPOA_TERMS, "horizon=240", size=SIZE)
    settled = jcpoa[jcpoa.end_state == "settlement"]
    assert len(settled) > 0.3 * len(jcpoa)
    assert 90 <= settled.end_day.median() <= 600
    # Counter-check: the same crises with 2025's demands (no enrichment) rarely end in a deal.
    demanding = outcomes(
        "baseline",
        "context.us_demands=0.75",
        "context.us_regime_change_intent=0",
        "horizon=240",
        size=SIZE,
    )
    assert (demanding.end_state == "settlement").mean() < len(settled) / len(jcpoa) / 4


# ----------------------------------------------------------------------------- time


def _by_days(outcomes, name: str, turn_days: int, days: int, interval: int, size: int, *extra):
    return outcomes(
        name,
        f"turn_days={turn_days}",
        f"horizon={days // turn_days}",
        f"dynamics.time.decision_interval_days={interval}",
        "calibration=prior",  # the mechanism, on the model files' priors
        *extra,
        size=size,
    )


def _differ(a, b, column: str) -> float:
    """Difference of two shares in standard errors."""
    p, q = a[column].mean(), b[column].mean()
    pooled = (p + q) / 2
    se = np.sqrt(max(pooled * (1 - pooled), 1e-9) * (1 / len(a) + 1 / len(b)))
    return abs(p - q) / se


def _ended(frame, state: str):
    return frame.assign(ended=frame.end_state == state)


@pytest.mark.slow
def test_one_day_and_seven_day_turns_tell_the_same_crisis(outcomes):
    """42 days in 42 turns of 1 day or 6 turns of 7 days: the same shares, within noise."""
    size = 600
    for name in ("baseline", "regime_change"):
        daily = _by_days(outcomes, name, 1, 42, 7, size)
        weekly = _by_days(outcomes, name, 7, 42, 7, size)
        assert _differ(daily, weekly, "war") < 3.5, name
        assert _differ(daily, weekly, "hormuz_ever_closed") < 3.5, name
        assert _differ(daily, weekly, "regime_collapsed") < 3.5, name
        settled = (
            (daily.end_state == "settlement").mean(),
            (weekly.end_state == "settlement").mean(),
        )
        assert abs(settled[0] - settled[1]) < 0.08, name
        ended = (daily.end_state == "ceasefire").mean(), (weekly.end_state == "ceasefire").mean()
        assert abs(ended[0] - ended[1]) < 0.08, name
        assert abs(daily.max_escalation.mean() - weekly.max_escalation.mean()) < 0.3, name
    # Talks that can end in a deal (the terms of 2013) close it at the same pace per day.
    daily = _by_days(outcomes, "baseline", 1, 84, 7, size, *JCPOA_TERMS)
    weekly = _by_days(outcomes, "baseline", 7, 84, 7, size, *JCPOA_TERMS)
    assert _differ(_ended(daily, "settlement"), _ended(weekly, "settlement"), "ended") < 3.5
    # Counter-check: without scaling the decisions to the turn length, daily turns make seven
    # times as many choices a week and the crisis changes.
    rushed = _by_days(outcomes, "baseline", 1, 42, 1, size)
    weekly = _by_days(outcomes, "baseline", 7, 42, 7, size)
    assert _differ(rushed, weekly, "war") > 4 or (
        _differ(_ended(rushed, "ceasefire"), _ended(weekly, "ceasefire"), "ended") > 4
    )


def test_end_day_counts_days_not_turns(outcomes):
    frame = outcomes("baseline", "turn_days=7", "horizon=6", size=100)
    np.testing.assert_array_equal(frame.end_day, frame.end_turn * 7)
    assert frame.end_day.max() <= 42
    assert (frame.regime_collapsed == (frame.end_state == "regime_collapse")).all()
    assert (frame.hormuz_ever_closed == (frame.hormuz_closed_turns > 0)).all()
