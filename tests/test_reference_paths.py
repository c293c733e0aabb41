"""Optimised engine paths against their plain reference versions: the same bits, always.

An optimisation changes no outcome. Each fast path is compared with the reference kept in
`tests/reference_engine.py`, on random inputs and on whole seeded batches of the shipped
scenarios, by exact equality of the outcome and trajectory records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import reference_engine

from actors import Decision, base
from sim.engine import adjudication, decision
from sim.engine.model import CrisisModel, DecisionPool
from sim.engine.streams import ReplicationStreams
from sim.engine.world import WorldState
from sim.scenario.distributions import Triangular

#: shipped scenarios, and the baseline in one-day turns (moves kept without reconsidering)
SCENARIOS = [
    "baseline",
    "regime_change",
    "twelve_day_war",
    "max_pressure",
    "baseline:turn_days=1:horizon=45",
]


def _scenario(scenario, name: str):
    return scenario(*name.split(":"))


def _random_decisions(model: CrisisModel, rng: np.random.Generator) -> list[Decision]:
    size = model.world.size
    decisions = []
    for actor in model.actors.values():
        for menu in actor.menus.values():
            chosen = rng.integers(0, len(menu.actions), size)
            empty = np.zeros(size, dtype=bool)
            kept = rng.uniform(size=size) < 0.3 if rng.uniform() < 0.5 else None
            decisions.append(
                Decision(
                    actor.actor_id, menu, chosen, empty, empty, np.zeros(0), np.zeros(0),
                    np.zeros(0), actor.factors, kept=kept,
                )
            )  # fmt: skip
    return decisions


@pytest.mark.parametrize("name", SCENARIOS)
def test_phase_effects_equal_the_reference_for_any_moves(scenario, name):
    model = CrisisModel(_scenario(scenario, name), 500, rng=3)
    rng = np.random.default_rng(11)
    for _ in range(5):
        decisions = _random_decisions(model, rng)
        fast = adjudication.phase_effects(decisions, 500)
        slow = reference_engine.phase_effects(decisions, 500)
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_array_equal(a, b)


def _records(scenario, name: str) -> tuple[pd.DataFrame, ...]:
    model = CrisisModel(_scenario(scenario, name), 1500, rng=20250613, pool_decisions=True).run()
    return model.outcome_frame(), model.trajectory_frame(), model.decision_pool.frame()


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_batch_gives_the_reference_records_bit_for_bit(scenario, monkeypatch, name):
    fast = _records(scenario, name)
    with monkeypatch.context() as patch:
        patch.setattr(adjudication, "phase_effects", reference_engine.phase_effects)
        patch.setattr(base, "logit_choice", reference_engine.logit_choice)
        patch.setattr(ReplicationStreams, "uniform", reference_engine.uniform)
        patch.setattr(DecisionPool, "add", reference_engine.pool_add)
        slow = _records(scenario, name)
    for a, b in zip(fast, slow, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _choice_problem(seed: int, size: int = 4000, actions: int = 9):
    rng = np.random.default_rng(seed)
    utility = rng.normal(0.0, 2.0, (size, actions))
    utility[rng.uniform(size=utility.shape) < 0.1] = 0.0
    feasible = rng.uniform(size=utility.shape) < 0.7
    feasible[rng.integers(0, size, 50)] = False
    feasible[:, rng.integers(0, actions)] |= ~feasible.any(axis=1)
    rationality = rng.uniform(0.0, 6.0, size)
    rationality[rng.integers(0, size, 100)] = np.inf
    return utility, feasible, rationality, rng.uniform(size=size)


@pytest.mark.parametrize("seed", range(4))
def test_logit_choice_equals_the_reference(seed):
    for actions in (1, 2, 5, 9, 13):
        utility, feasible, rationality, u = _choice_problem(seed, actions=actions)
        np.testing.assert_array_equal(
            decision.choice_probabilities(utility, feasible, rationality),
            reference_engine.choice_probabilities(utility, feasible, rationality),
        )
        np.testing.assert_array_equal(
            decision.logit_choice(utility, feasible, rationality, u),
            reference_engine.logit_choice(utility, feasible, rationality, u),
        )
    finite = rationality.copy()
    finite[~np.isfinite(finite)] = 2.0  # the common case: no best-response rows
    np.testing.assert_array_equal(
        decision.logit_choice(utility, feasible, finite, u),
        reference_engine.logit_choice(utility, feasible, finite, u),
    )


def test_a_replications_utilities_do_not_depend_on_its_batch():
    # The linear-algebra library rounds leftover rows of a product differently: alone, or as
    # the odd row of a batch, a replication must still get the very same utilities.
    rng = np.random.default_rng(4)
    for actions, factors in ((14, 7), (9, 8), (5, 5)):
        loadings = rng.normal(size=(actions, factors))
        loadings[rng.uniform(size=loadings.shape) < 0.3] = 0.0
        weighted = rng.normal(size=(5003, factors)) * rng.uniform(0.0, 3.0, (5003, factors))
        whole = decision.weighted_utilities(weighted, loadings)
        for size in (1, 2, 3, 7, 9, 2339):
            np.testing.assert_array_equal(
                decision.weighted_utilities(weighted[:size], loadings), whole[:size]
            )
        for row in range(0, 5003, 97):
            alone = decision.weighted_utilities(weighted[row : row + 1], loadings)
            np.testing.assert_array_equal(alone[0], whole[row])


def test_draws_equal_the_reference():
    streams = ReplicationStreams(20250613, np.arange(3000) * 7)
    for purpose, turn, draw in (("choice:iran:main", 3, 0), ("oil:shock", 19, 2), ("x", 0, 0)):
        np.testing.assert_array_equal(
            streams.uniform(purpose, turn, draw),
            reference_engine.uniform(streams, purpose, turn, draw),
        )


def _everything(model: CrisisModel) -> list[pd.DataFrame]:
    """Every record a finished batch offers, as frames to compare exactly."""
    world = model.world
    state = pd.DataFrame({name: getattr(world, name) for name in WorldState.STATE_ARRAYS})
    for mapping in WorldState.STATE_MAPS:
        for key, values in getattr(world, mapping).items():
            state[f"{mapping}.{key}"] = values
    reports = pd.DataFrame(
        {
            f"{turn}.{kind}.{key}": values
            for turn, report in enumerate(model.reports, start=1)
            for kind in ("incidents", "discovered")
            for key, values in getattr(report, kind).items()
        }
        | {f"{turn}.ended": report.ended for turn, report in enumerate(model.reports, start=1)}
    )
    return [
        model.outcome_frame(),
        model.trajectory_frame(),
        model.decision_pool.frame(),
        model.datacollector.get_model_vars_dataframe(),
        state,
        reports,
    ]


#: deals within easy reach, so that many runs of every scenario end early and are set aside
EARLY_ENDINGS = ":context.us_demands=0:dynamics.talks.closing_probability=0.5"


@pytest.mark.parametrize("name", [name + EARLY_ENDINGS for name in SCENARIOS])
def test_setting_ended_runs_aside_changes_no_record(scenario, monkeypatch, name):
    def batch() -> CrisisModel:
        return CrisisModel(_scenario(scenario, name), 1200, rng=20250613, pool_decisions=True)

    sizes = []
    step = CrisisModel.step

    def counting_step(model):
        sizes.append(model.world.size)
        step(model)

    with monkeypatch.context() as patch:
        patch.setattr(CrisisModel, "step", counting_step)
        fast = batch().run()
    assert min(sizes) < 1200 * 0.8  # the run did play fewer rows as replications ended
    assert fast.world.size == 1200
    slow = reference_engine.run_every_row(batch())
    for a, b in zip(_everything(fast), _everything(slow), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize(
    ("low", "mode", "high"), [(0.0, 0.5, 1.0), (0.2, 0.2, 0.9), (-3.0, 7.5, 7.5), (1e3, 1.2e3, 4e3)]
)
def test_triangular_draws_are_scipys_quantiles(low, mode, high):
    from scipy import stats

    u = np.random.default_rng(5).uniform(size=20_000)
    u[:3] = [0.0, np.nextafter(1.0, 0.0), (mode - low) / (high - low)]
    ours = Triangular(dist="triangular", low=low, mode=mode, high=high).from_uniform(u)
    c = (mode - low) / (high - low)
    np.testing.assert_array_equal(ours, stats.triang.ppf(u, c, loc=low, scale=high - low))
