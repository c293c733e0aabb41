"""Material help that can happen: deniable supplies, arms contracts delivered over time, and a
direct intervention that is rare but not impossible."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import CrisisModel
from sim.scenario.config import CONFIG_ROOT

SHIPPED = sorted(p.stem for p in CONFIG_ROOT.glob("*.yaml"))


def test_deniable_supplies_are_covert_by_nature(scenario):
    model = CrisisModel(scenario("baseline"), 4, rng=1)
    china = model.actors["china"]
    menu = china.menus["main"]
    supplies = menu.index("dual_use_supplies")
    assert menu.covert[supplies] and menu.levels[supplies] == 5
    assert "covert_dual_use_supplies" not in menu.actions  # nothing overt to hide
    model.world.support["china"][:] = 4
    model.actors["china"].force("main", np.full(4, supplies))
    model.step()
    assert (model.world.support["china"] == 5).all()
    assert model.world.support_covert["china"].all()


def test_an_arms_contract_is_delivered_over_several_turns(scenario):
    model = CrisisModel(scenario("baseline", "initial.escalation=4"), 4, rng=1)
    contract = model.actors["russia"].menus["main"].index("arms_contract")
    model.world.support["russia"][:] = 4
    model.actors["russia"].force("main", np.full(4, contract))
    model.step()
    contracted = model.crisis.actors["russia"].actions["arms_contract"].effects["arms_deliveries"]
    first = contracted - model.world.arms_pipeline
    assert (first > 0).all() and (first < contracted / 2).all()  # most is still to come
    model.actors["russia"].force("main", np.zeros(4, dtype=int))  # back to silence
    before = model.world.arms_pipeline.copy()
    model.step()
    assert (model.world.arms_pipeline < before).all()  # deliveries go on without a new decision


@pytest.mark.slow
def test_rungs_five_and_six_happen_under_a_regime_change_threat(outcomes):
    threatened = outcomes("regime_change", size=1000)
    baseline = outcomes("baseline", size=1000)
    for power in ("russia", "china"):
        column = f"{power}_max_support"
        assert (threatened[column] >= 5).mean() > 0.1, power
        assert (threatened[column] >= 5).mean() > 3 * (baseline[column] >= 5).mean(), power
    # The 12-day war saw no material help during the fighting.
    replay = outcomes("twelve_day_war", size=1000)
    assert ((replay.russia_max_support >= 5) | (replay.china_max_support >= 5)).mean() < 0.02


@pytest.mark.slow
def test_intervention_is_possible_for_a_client_in_extremis_and_comes_from_that_fear(outcomes):
    free = outcomes("regime_change", "context.russia_ukraine_commitment=0", size=2000)
    assert free.russia_intervened.sum() > 0
    assert free.russia_intervened.mean() < 0.05
    fearless = outcomes(
        "regime_change",
        "context.russia_ukraine_commitment=0",
        "actors.russia.weights.regime_change_fear=0",
        size=2000,
    )
    assert fearless.russia_intervened.sum() == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_intervention_stays_rare_in_every_shipped_scenario(outcomes, name):
    frame = outcomes(name, size=1000)
    war = frame[frame.war]
    assert len(war) >= 50, "too few wars to judge"
    assert (war.russia_intervened | war.china_intervened).mean() < 0.05
