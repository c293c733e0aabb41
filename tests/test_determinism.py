"""Reproducibility: counter-based streams, per-replication parameters, batch-size invariance."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.engine.model import CrisisModel
from sim.engine.streams import ReplicationStreams
from sim.scenario.distributions import Beta, Choice, Normal, Triangular, Uniform, draw, param_mean

N = 40_000


def streams(seed: int = 42, size: int = N) -> ReplicationStreams:
    return ReplicationStreams(seed, np.arange(size))


# ----------------------------------------------------------------------------- streams


def test_uniforms_are_uniform_on_the_unit_interval():
    u = streams().uniform("test", 3)
    assert u.shape == (N,)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_a_replications_numbers_do_not_depend_on_its_batch():
    full = streams(7, 1000)
    for subset in ([0], [999], [499, 3, 250], list(range(999, -1, -1))):
        part = ReplicationStreams(7, np.array(subset))
        for purpose, turn in (("choice:iran:main", 1), ("oil:shock", 12), ("param:x", 0)):
            np.testing.assert_array_equal(
                part.uniform(purpose, turn), full.uniform(purpose, turn)[subset]
            )


def test_streams_differ_by_seed_purpose_turn_and_draw():
    base = streams(1, 5000)
    reference = base.uniform("a", 1)
    others = [
        streams(2, 5000).uniform("a", 1),
        base.uniform("b", 1),
        base.uniform("a", 2),
        base.uniform("a", 1, draw=1),
    ]
    for other in others:
        assert np.mean(reference == other) < 0.001
        assert abs(np.corrcoef(reference, other)[0, 1]) < 0.05
    # Neighbouring replications are uncorrelated too.
    assert abs(np.corrcoef(reference[:-1], reference[1:])[0, 1]) < 0.05
    np.testing.assert_array_equal(base.uniform("a", 1), reference)  # and repeatable


def test_streams_are_the_same_in_a_fresh_interpreter():
    """No per-process salt (such as Python's string hashing) may enter a stream."""
    code = (
        "import json, numpy as np\n"
        "from sim.engine.streams import ReplicationStreams\n"
        "s = ReplicationStreams(99, np.array([0, 5, 77]))\n"
        "print(json.dumps(s.uniform('choice:china:oil_purchases', 4).tolist()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    here = ReplicationStreams(99, np.array([0, 5, 77])).uniform("choice:china:oil_purchases", 4)
    assert json.loads(result.stdout) == here.tolist()


# ----------------------------------------------------------------------------- distributions


def _mean_close(values: np.ndarray, expected: float) -> None:
    standard_error = values.std() / np.sqrt(len(values))
    assert abs(values.mean() - expected) < 5 * standard_error + 1e-12


def test_uniform_draws():
    dist = Uniform(dist="uniform", low=0.2, high=0.6)
    values = draw(dist, "test.uniform", streams())
    assert values.min() >= 0.2 and values.max() <= 0.6
    _mean_close(values, 0.4)
    assert stats.kstest(values, stats.uniform(0.2, 0.4).cdf).pvalue > 1e-3


def test_normal_draws_are_clipped_to_their_bounds():
    dist = Normal(dist="normal", mean=0.5, sd=0.2, low=0.3, high=0.8)
    values = draw(dist, "test.normal", streams())
    assert values.min() == 0.3 and values.max() == 0.8
    # Clipped, not truncated: the tails pile up on the bounds.
    assert np.mean(values == 0.3) == pytest.approx(stats.norm.cdf(-1.0), abs=0.01)
    assert np.mean(values == 0.8) == pytest.approx(stats.norm.sf(1.5), abs=0.01)
    inside = values[(values > 0.3) & (values < 0.8)]
    assert inside.size > 0.7 * N


def test_unclipped_normal_draws():
    dist = Normal(dist="normal", mean=-1.0, sd=2.0)
    values = draw(dist, "test.normal.free", streams())
    _mean_close(values, -1.0)
    assert values.std() == pytest.approx(2.0, rel=0.03)
    assert stats.kstest(values, stats.norm(-1.0, 2.0).cdf).pvalue > 1e-3
    assert dist.support() == (-np.inf, np.inf)


def test_triangular_draws():
    dist = Triangular(dist="triangular", low=2.0, mode=3.0, high=5.0)
    values = draw(dist, "test.triangular", streams())
    assert values.min() >= 2.0 and values.max() <= 5.0
    _mean_close(values, (2.0 + 3.0 + 5.0) / 3)
    assert dist.mean() == pytest.approx(10 / 3)
    reference = stats.triang(1 / 3, loc=2.0, scale=3.0)
    assert stats.kstest(values, reference.cdf).pvalue > 1e-3


def test_beta_draws_are_rescaled_to_their_range():
    dist = Beta(dist="beta", a=2.0, b=5.0, low=1.0, high=3.0)
    values = draw(dist, "test.beta", streams())
    assert values.min() >= 1.0 and values.max() <= 3.0
    _mean_close(values, 1.0 + 2.0 * 2.0 / 7.0)
    assert dist.mean() == pytest.approx(1.0 + 2.0 * 2.0 / 7.0)
    reference = stats.beta(2.0, 5.0, loc=1.0, scale=2.0)
    assert stats.kstest(values, reference.cdf).pvalue > 1e-3


def test_choice_draws_follow_their_probabilities():
    dist = Choice(dist="choice", values=[0.1, 0.5, 0.9], p=[0.2, 0.5, 0.3])
    values = draw(dist, "test.choice", streams())
    assert set(np.unique(values)) == {0.1, 0.5, 0.9}
    counts = np.array([(values == v).sum() for v in (0.1, 0.5, 0.9)])
    assert stats.chisquare(counts, np.array([0.2, 0.5, 0.3]) * N).pvalue > 1e-3
    _mean_close(values, dist.mean())
    even = draw(Choice(dist="choice", values=[1.0, 2.0]), "test.choice.even", streams())
    assert np.mean(even == 1.0) == pytest.approx(0.5, abs=0.01)


def test_choice_with_zero_probability_never_draws_that_value():
    dist = Choice(dist="choice", values=[1.0, 2.0, 3.0], p=[0.0, 1.0, 0.0])
    np.testing.assert_array_equal(draw(dist, "test.choice.sure", streams()), 2.0)


def test_a_fixed_value_is_the_same_everywhere():
    np.testing.assert_array_equal(draw(0.42, "test.fixed", streams(size=10)), np.full(10, 0.42))
    assert param_mean(0.42) == 0.42


def test_each_parameter_has_its_own_stream():
    dist = Uniform(dist="uniform", low=0.0, high=1.0)
    s = streams(5, 5000)
    a, b = draw(dist, "actors.iran.weights.regime_survival", s), draw(dist, "context.x", s)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05
    again = draw(dist, "context.x", ReplicationStreams(5, np.array([4999, 0, 17])))
    np.testing.assert_array_equal(again, b[[4999, 0, 17]])


# ----------------------------------------------------------------------------- whole runs


def frames(model: CrisisModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    return model.outcome_frame(), model.trajectory_frame()


def test_same_scenario_and_seed_give_identical_runs(scenario):
    crisis = scenario("us_limited_strike")
    first = frames(CrisisModel(crisis, 200, rng=31).run())
    second = frames(CrisisModel(crisis, 200, rng=31).run())
    pd.testing.assert_frame_equal(first[0], second[0], check_exact=True)
    pd.testing.assert_frame_equal(first[1], second[1], check_exact=True)


def test_a_different_seed_gives_a_different_run(scenario):
    crisis = scenario("baseline")
    one = CrisisModel(crisis, 200, rng=31).run().outcome_frame()
    other = CrisisModel(crisis, 200, rng=32).run().outcome_frame()
    assert not one.equals(other)
    assert not np.allclose(one.peak_oil_price, other.peak_oil_price)


def test_a_numpy_generator_seeds_reproducibly(scenario):
    crisis = scenario("baseline")
    one = CrisisModel(crisis, 50, rng=np.random.default_rng(8)).run()
    two = CrisisModel(crisis, 50, rng=np.random.default_rng(8)).run()
    assert one.master_seed == two.master_seed
    pd.testing.assert_frame_equal(one.outcome_frame(), two.outcome_frame(), check_exact=True)


BATCH_SEED = 20250613


@pytest.fixture(scope="module")
def big_batches(scenario):
    cache: dict[str, CrisisModel] = {}

    def get(name: str) -> CrisisModel:
        if name not in cache:
            cache[name] = CrisisModel(scenario(name), 500, rng=BATCH_SEED).run()
        return cache[name]

    return get


def _same_rows(part: CrisisModel, whole: CrisisModel, rows: list[int]) -> None:
    outcomes = whole.outcome_frame().iloc[rows].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.outcome_frame(), outcomes, check_exact=True)
    # Trajectories agree turn by turn for as long as the smaller batch ran.
    key = ["turn", "replication"]
    mine = part.trajectory_frame().set_index(key)
    theirs = whole.trajectory_frame().set_index(key).loc[mine.index]
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


@pytest.mark.parametrize("name", ["baseline", "twelve_day_war", "regime_change"])
@pytest.mark.parametrize("row", [0, 1, 123, 499])
def test_a_replication_alone_equals_its_row_in_a_batch(big_batches, scenario, name, row):
    alone = CrisisModel(scenario(name), replication=row, rng=BATCH_SEED).run()
    assert alone.replications.tolist() == [row]
    _same_rows(alone, big_batches(name), [row])


@pytest.mark.parametrize("name", ["baseline", "max_pressure"])
def test_any_subset_batch_equals_the_same_rows_of_a_batch(big_batches, scenario, name):
    rows = [499, 3, 250]
    subset = CrisisModel(scenario(name), rows, rng=BATCH_SEED).run()
    assert subset.outcome_frame().replication.tolist() == rows
    _same_rows(subset, big_batches(name), rows)


def test_drawn_parameters_vary_across_replications_not_across_batchings(scenario):
    # The model files' continuous priors (the calibrated posterior draws from a finite set of
    # particles, so its values repeat by design).
    baseline = scenario("baseline", "calibration=prior")
    whole = CrisisModel(baseline, 500, rng=BATCH_SEED).run()
    rows = [499, 3, 250, 0]
    part = CrisisModel(baseline, rows, rng=BATCH_SEED)
    alone = CrisisModel(baseline, replication=123, rng=BATCH_SEED)
    fresh = CrisisModel(baseline, 500, rng=BATCH_SEED)  # parameters as drawn
    for actor_id, actor in fresh.actors.items():
        np.testing.assert_array_equal(part.actors[actor_id].weights, actor.weights[rows])
        np.testing.assert_array_equal(part.actors[actor_id].rationality, actor.rationality[rows])
        np.testing.assert_array_equal(alone.actors[actor_id].weights, actor.weights[[123]])
    # Drawn weights differ between replications; fixed ones do not.
    iran = fresh.actors["iran"]
    assert all(len(np.unique(iran.weights[:, f])) == 500 for f in range(len(iran.factors)))
    assert len(np.unique(iran.rationality)) == 500
    us = fresh.actors["united_states"]
    assert len(np.unique(us.weights[:, us.factors.index("regime_change_ambition")])) == 1
    assert len(np.unique(fresh.actors["qatar"].rationality)) == 1
    for name in ("sanctions_intensity", "russia_ukraine_commitment", "china_taiwan_tension"):
        drawn = fresh.world.context[name]
        assert len(np.unique(drawn)) == 500
        np.testing.assert_array_equal(part.world.context[name], drawn[rows])
    np.testing.assert_array_equal(part.world.iran_stability, fresh.world.iran_stability[rows])
    # The finished batch started from those very values.
    start = whole.trajectory_frame().query("turn == 0").iran_stability.to_numpy()
    np.testing.assert_array_equal(start, fresh.world.iran_stability)
