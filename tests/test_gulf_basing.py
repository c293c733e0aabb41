"""Gulf basing has a mechanical effect, and Iranian strikes on a Gulf host move its stance.

Both are compared on the same seed and replication indices (common random numbers), each with
the counter-check that removing the mechanism removes the effect.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.basing import update_basing
from sim.engine.model import CrisisModel
from sim.scenario.config import Inject

GULF = ("saudi_arabia", "uae", "qatar")
US_STRIKES = ("limited_strikes", "air_campaign", "regime_change_pressure")
#: no host controls any access, and opening the bases adds nothing to US posture either
NO_BASING = tuple(f"dynamics.basing.hosts.{g}=0" for g in GULF) + tuple(
    f"actors.{g}.actions.align_with_us.effects.us_force_posture=0" for g in GULF
)


def test_a_host_that_denies_its_bases_removes_the_sustained_campaign(scenario):
    model = CrisisModel(scenario("baseline", "initial.escalation=5"), 8, rng=2)
    us = model.actors["united_states"]
    menu = us.menus["main"]
    campaign = menu.index("air_campaign")
    assert us.feasible(menu, model.world)[:, campaign].all()
    model.world.basing_stance["qatar"][:] = -1  # Al Udeid denied
    update_basing(model.world, model.crisis, [])
    assert not us.feasible(menu, model.world)[:, campaign].any()
    assert (model.world.us_basing < model.crisis.dynamics.basing.base_access).all()


def us_struck(scenario, stance: str, *overrides: str, size: int = 400) -> np.ndarray:
    """Replications in which the US strikes Iran when every Gulf state plays `stance` each turn.

    Counted per replication, not per move: how long a campaign lasts once begun is for the
    calibration to settle (the calibrated US strikes less often and for fewer turns than the
    model files' priors), the basing mechanism decides whether it begins."""
    model = CrisisModel(scenario("baseline", *overrides), size, rng=20250613, record_decisions=True)
    index = {g: model.actors[g].menus["main"].index(stance) for g in GULF}
    while model.running:
        for g in GULF:
            model.actors[g].force("main", np.full(size, index[g]))
        model.step()
    struck = np.zeros(size, dtype=bool)
    for _, decisions in model.decision_log:
        for d in decisions:
            if d.actor_id == "united_states" and d.menu.name == "main":
                struck |= np.isin(np.array(d.menu.actions)[d.chosen], US_STRIKES)
    return struck


def _z(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of two shares in standard errors."""
    pooled = (a.mean() + b.mean()) / 2
    se = np.sqrt(max(pooled * (1 - pooled), 1e-9) * (1 / len(a) + 1 / len(b)))
    return float((a.mean() - b.mean()) / se)


@pytest.mark.slow
@pytest.mark.parametrize(
    "parameters", [("calibration=prior",), ()], ids=["model files", "shipped posterior"]
)
def test_hosts_that_hedge_mean_fewer_us_strikes_than_hosts_that_align(scenario, parameters):
    hedged = us_struck(scenario, "hedge", *parameters)
    aligned = us_struck(scenario, "align_with_us", *parameters)
    assert _z(aligned, hedged) > 3.5
    assert aligned.mean() > 2 * hedged.mean()
    # Counter-check: when the stance opens or denies nothing, it no longer matters.
    hedged_free = us_struck(scenario, "hedge", *parameters, *NO_BASING)
    aligned_free = us_struck(scenario, "align_with_us", *parameters, *NO_BASING)
    assert abs(_z(aligned_free, hedged_free)) < 2
    assert abs(aligned_free.mean() - hedged_free.mean()) < (aligned.mean() - hedged.mean()) / 3


def gulf_moves_after_a_strike(scenario, struck: bool, *overrides: str, size: int = 400):
    """The Gulf states' moves on turn 3 when Iran strikes the Gulf hosts on turn 2, or not, and
    which replications each state was struck in (a host that had denied its bases is spared)."""
    model = CrisisModel(
        scenario("baseline", "initial.escalation=4", *overrides),
        size,
        rng=20250613,
        record_decisions=True,
    )
    if struck:
        model.add_inject(Inject(turn=2, note="Iranian missiles hit", effects={"gulf_strike": 1.0}))
    model.step()
    model.step()
    hit = {g: (model.world.gulf_struck[g] >= 1.0) & model.world.active for g in GULF}
    model.step()
    turn, decisions = model.decision_log[2]
    assert turn == 3
    moves = {
        d.actor_id: np.array(d.action_names())
        for d in decisions
        if d.actor_id in GULF and d.menu.name == "main"
    }
    return moves, hit


@pytest.mark.slow
def test_an_iranian_strike_moves_the_struck_states_stance(scenario):
    hit, struck = gulf_moves_after_a_strike(scenario, True)
    spared, _ = gulf_moves_after_a_strike(scenario, False)
    away = ("hedge", "outreach_to_tehran")
    for g in GULF:
        rows = struck[g]
        assert rows.sum() > 50, g
        assert (hit[g][rows] != spared[g][rows]).mean() > 0.03, g
        # The factors decide which way; with the shipped loadings, towards denying the bases
        # and reaching out to Tehran.
        assert np.isin(hit[g][rows], away).mean() > np.isin(spared[g][rows], away).mean(), g
    # Counter-check: without the factor through which a strike acts, nothing changes at all.
    blind = tuple(f"actors.{g}.weights.missile_exposure=0" for g in GULF)
    hit_blind, struck_blind = gulf_moves_after_a_strike(scenario, True, *blind)
    spared_blind, _ = gulf_moves_after_a_strike(scenario, False, *blind)
    for g in GULF:
        assert struck_blind[g].sum() > 50, g
        assert (hit_blind[g] == spared_blind[g]).all(), g


def test_a_host_that_denies_its_bases_is_spared_and_the_outcomes_say_so(scenario):
    model = CrisisModel(scenario("baseline", "initial.escalation=4"), 6, rng=5)
    qatar = model.actors["qatar"].menus["main"]
    model.world.basing_stance["qatar"][:] = -1
    model.world.basing_stance["uae"][:] = 1
    model.add_inject(Inject(turn=1, note="Iranian missiles hit", effects={"gulf_strike": 1.0}))
    model.actors["qatar"].force("main", np.full(6, qatar.index("hedge")))
    model.step()
    assert (model.world.gulf_struck["qatar"] == 0).all()
    assert (model.world.gulf_struck["uae"] == 1).all()
    frame = model.outcome_frame()
    assert frame.gulf_struck.all()
    assert (frame.us_basing_denied_turns == 1).all()
