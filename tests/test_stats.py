"""Tests for the outcome-statistics module analysts cite in reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.analysis.markdown import block_markdown as summary_markdown
from sim.analysis.stats import (
    DEFAULT_TARGETS,
    bootstrap_mean_ci,
    categorical_summary,
    compare,
    convergence_note,
    field_kind,
    numeric_summary,
    paired_difference,
    proportion_summary,
    summarize,
    wilson_interval,
)

# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


def make_outcomes(n: int = 400, seed: int = 7, war_rate: float = 0.3) -> pd.DataFrame:
    """Synthetic outcome table shaped like the simulator's per-replication output."""
    rng = np.random.default_rng(seed)
    war = rng.random(n) < war_rate
    russia = war & (rng.random(n) < 0.4)
    return pd.DataFrame(
        {
            "replication": np.arange(n),
            "scenario": "baseline",
            "point": 0,
            "war": war,
            "russia_intervened": russia,
            "china_intervened": np.zeros(n, dtype=bool),
            "iran_requested_help": rng.random(n) < 0.5,
            "max_escalation": rng.integers(0, 8, n),
            "turns_at_war": np.where(war, rng.integers(1, 20, n), 0),
            "russia_max_support": rng.integers(0, 8, n),
            "peak_oil_price": rng.normal(110.0, 20.0, n),
            "iran_min_stability": rng.uniform(0.2, 0.9, n),
            "end_state": rng.choice(["settlement", "ceasefire", "regime_collapse", "horizon"], n),
            "gulf_saudi_arabia_stance": rng.choice(["neutral", "pro_us"], n),
        }
    )


@pytest.fixture
def outcomes() -> pd.DataFrame:
    return make_outcomes()


# --------------------------------------------------------------------------------------------
# wilson_interval
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (0, 10, (0.0, 0.2775)),
        (5, 10, (0.2366, 0.7634)),
        (81, 263, (0.2553, 0.3662)),
        (10, 10, (0.7225, 1.0)),
        (1, 1, (0.2065, 1.0)),
    ],
)
def test_wilson_known_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    lo, hi = wilson_interval(successes, n)
    assert lo == pytest.approx(expected[0], abs=5e-5)
    assert hi == pytest.approx(expected[1], abs=5e-5)


def test_wilson_other_confidence_level() -> None:
    # 90 % interval for 5/10: z = 1.6449 -> (0.2693, 0.7307)
    lo, hi = wilson_interval(5, 10, confidence=0.90)
    assert lo == pytest.approx(0.2693, abs=5e-5)
    assert hi == pytest.approx(0.7307, abs=5e-5)
    lo95, hi95 = wilson_interval(5, 10, confidence=0.95)
    assert lo95 < lo and hi95 > hi


def test_wilson_matches_closed_form() -> None:
    z = sps.norm.ppf(0.975)
    k, n = 37, 120
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 50, 1000])
def test_wilson_contains_p_and_stays_in_unit_interval(n: int) -> None:
    for k in range(0, n + 1, max(1, n // 10)):
        lo, hi = wilson_interval(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_empty_is_nan() -> None:
    lo, hi = wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


def test_wilson_narrows_with_n() -> None:
    widths = [np.subtract(*wilson_interval(n // 3, n)[::-1]) for n in (30, 300, 3000)]
    assert widths[0] > widths[1] > widths[2]


@pytest.mark.parametrize(("k", "n"), [(11, 10), (-1, 10), (0, -1)])
def test_wilson_rejects_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(k, n)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95.0, -0.5])
def test_wilson_rejects_bad_confidence(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        wilson_interval(3, 10, confidence=confidence)


# --------------------------------------------------------------------------------------------
# proportion / numeric / categorical summaries
# --------------------------------------------------------------------------------------------


def test_proportion_summary_values() -> None:
    out = proportion_summary([True] * 81 + [False] * 182)
    assert out["n"] == 263
    assert out["p"] == pytest.approx(81 / 263)
    assert out["ci"] == pytest.approx([0.2553, 0.3662], abs=5e-5)
    assert isinstance(out["ci"], list)
    assert out["ci"][0] <= out["p"] <= out["ci"][1]


def test_proportion_summary_drops_missing_and_accepts_nullable() -> None:
    out = proportion_summary(pd.Series([True, None, False, True], dtype="boolean"))
    assert out["n"] == 3
    assert out["p"] == pytest.approx(2 / 3)


def test_proportion_summary_accepts_zero_one_and_iterators() -> None:
    assert proportion_summary(np.array([0, 1, 1, 1]))["p"] == pytest.approx(0.75)
    assert proportion_summary(x > 2 for x in range(5)) == {
        "p": pytest.approx(0.4),
        "ci": pytest.approx(list(wilson_interval(2, 5))),
        "n": 5,
    }


def test_proportion_summary_empty_is_none() -> None:
    out = proportion_summary([])
    assert out == {"p": None, "ci": [None, None], "n": 0}


def test_proportion_summary_rejects_non_binary() -> None:
    with pytest.raises(ValueError, match="boolean"):
        proportion_summary([0, 1, 2])


def test_numeric_summary_values() -> None:
    x = np.arange(1.0, 101.0)  # 1..100
    out = numeric_summary(x)
    assert out["n"] == 100
    assert out["mean"] == pytest.approx(50.5)
    assert out["sd"] == pytest.approx(np.std(x, ddof=1))
    assert out["median"] == pytest.approx(50.5)
    assert out["q05"] == pytest.approx(np.quantile(x, 0.05))
    assert out["q25"] == pytest.approx(np.quantile(x, 0.25))
    assert out["q75"] == pytest.approx(np.quantile(x, 0.75))
    assert out["q95"] == pytest.approx(np.quantile(x, 0.95))
    assert (out["min"], out["max"]) == (1.0, 100.0)
    half = sps.t.ppf(0.975, 99) * np.std(x, ddof=1) / 10.0
    assert out["ci"] == pytest.approx([50.5 - half, 50.5 + half])
    assert set(out) == {
        "mean",
        "sd",
        "median",
        "q05",
        "q25",
        "q75",
        "q95",
        "min",
        "max",
        "ci",
        "ci_method",
        "n",
    }
    assert out["ci_method"] == "t"


def test_a_rare_count_has_a_mean_interval_that_never_goes_negative() -> None:
    """0.1 % of runs with one turn of closure: the t-interval would go below zero."""
    x = np.zeros(2000)
    x[:2] = 1.0
    t_low = x.mean() - sps.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    assert t_low < 0  # the normal approximation fails here
    out = numeric_summary(x)
    low, high = out["ci"]
    assert out["ci_method"] == "bootstrap"
    assert 0.0 <= low <= out["mean"] <= high <= 1.0
    assert high == pytest.approx(0.0025, abs=0.001)
    assert numeric_summary(x)["ci"] == out["ci"]  # seeded: the same data, the same interval


def test_bootstrap_interval_covers_the_mean_of_continuous_data() -> None:
    x = np.random.default_rng(3).exponential(size=3000)
    low, high = bootstrap_mean_ci(x, 0.95)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert low == pytest.approx(x.mean() - half, rel=0.05)
    assert high == pytest.approx(x.mean() + half, rel=0.05)


def test_numeric_summary_matches_scipy_t_interval() -> None:
    x = np.random.default_rng(3).normal(5.0, 2.0, 40)
    expected = sps.t.interval(0.9, 39, loc=x.mean(), scale=sps.sem(x))
    assert numeric_summary(x, confidence=0.9)["ci"] == pytest.approx(list(expected))


def test_numeric_summary_is_nan_safe() -> None:
    out = numeric_summary([1.0, np.nan, 3.0, np.nan])
    assert out["n"] == 2
    assert out["mean"] == pytest.approx(2.0)
    assert out["max"] == 3.0


def test_numeric_summary_nullable_int() -> None:
    out = numeric_summary(pd.Series([1, None, 5], dtype="Int64"))
    assert out["n"] == 2 and out["mean"] == pytest.approx(3.0)


def test_numeric_summary_collapses_interval_when_no_spread() -> None:
    single = numeric_summary([4.2])
    assert single["ci"] == [4.2, 4.2]
    assert single["n"] == 1
    assert single["sd"] is None
    constant = numeric_summary([7, 7, 7, 7])
    assert constant["ci"] == [7.0, 7.0]
    assert constant["sd"] == 0.0


def test_numeric_summary_empty() -> None:
    out = numeric_summary([np.nan, np.nan])
    assert out["n"] == 0
    assert out["mean"] is None
    assert out["ci"] == [None, None]
    json.dumps(out, allow_nan=False)


def test_categorical_summary_counts_and_order() -> None:
    values = ["settlement"] * 5 + ["ceasefire"] * 3 + ["horizon"] * 2 + [None]
    out = categorical_summary(values)
    assert out["n"] == 10
    assert list(out["categories"]) == ["ceasefire", "horizon", "settlement"]
    settlement = out["categories"]["settlement"]
    assert settlement["n"] == 5
    assert settlement["p"] == pytest.approx(0.5)
    assert settlement["ci"] == pytest.approx(list(wilson_interval(5, 10)))
    assert sum(c["p"] for c in out["categories"].values()) == pytest.approx(1.0)


def test_categorical_summary_keeps_declared_empty_categories() -> None:
    values = pd.Categorical(["a", "a", "b"], categories=["c", "b", "a"])
    assert categorical_summary(values) == categorical_summary(pd.Series(values))
    out = categorical_summary(pd.Series(values))
    assert list(out["categories"]) == ["a", "b", "c"]
    assert out["categories"]["c"] == {
        "p": 0.0,
        "ci": pytest.approx([0.0, 0.5615], abs=1e-4),
        "n": 0,
    }


# --------------------------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------------------------


def test_field_kind_by_dtype(outcomes: pd.DataFrame) -> None:
    assert field_kind(outcomes["war"]) == "proportion"
    assert field_kind(outcomes["max_escalation"]) == "numeric"
    assert field_kind(outcomes["peak_oil_price"]) == "numeric"
    assert field_kind(outcomes["end_state"]) == "categorical"
    assert field_kind(outcomes["end_state"].astype("category")) == "categorical"
    assert field_kind(outcomes["end_state"].astype(object)) == "categorical"
    assert field_kind(pd.Series([True, None], dtype="boolean")) == "proportion"
    assert field_kind(pd.Series(pd.to_datetime(["2026-01-01"]))) is None


def test_summarize_kinds_by_dtype(outcomes: pd.DataFrame) -> None:
    out = summarize(outcomes)
    fields = out["outcomes"]
    assert out["n"] == len(outcomes)
    # grouping columns are excluded by default
    assert not {"replication", "scenario", "point"} & set(fields)
    for name in ["war", "russia_intervened", "china_intervened", "iran_requested_help"]:
        assert set(fields[name]) == {"p", "ci", "n"}
    for name in [
        "max_escalation",
        "turns_at_war",
        "russia_max_support",
        "peak_oil_price",
        "iran_min_stability",
    ]:
        assert "mean" in fields[name] and "q95" in fields[name]
    for name in ["end_state", "gulf_saudi_arabia_stance"]:
        assert set(fields[name]) == {"n", "categories"}
    assert fields["war"]["p"] == pytest.approx(outcomes["war"].mean())
    assert fields["peak_oil_price"]["mean"] == pytest.approx(outcomes["peak_oil_price"].mean())


def test_summarize_json_round_trip(outcomes: pd.DataFrame) -> None:
    outcomes.loc[3, "peak_oil_price"] = np.nan
    out = summarize(outcomes)
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["outcomes"]["peak_oil_price"]["n"] == len(outcomes) - 1


def test_summarize_has_no_numpy_scalars(outcomes: pd.DataFrame) -> None:
    def walk(value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                assert type(k) is str
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert value is None or type(value) in (bool, int, float, str), type(value)

    walk(summarize(outcomes))


def test_summarize_conditional_subset(outcomes: pd.DataFrame) -> None:
    out = summarize(outcomes, condition="war")
    given = out["given"]["war"]
    war_rows = outcomes[outcomes["war"]]
    assert given["n"] == len(war_rows)
    assert "war" not in given["outcomes"]
    assert given["outcomes"]["russia_intervened"]["n"] == len(war_rows)
    assert given["outcomes"]["russia_intervened"]["p"] == pytest.approx(
        war_rows["russia_intervened"].mean()
    )
    assert given["outcomes"]["turns_at_war"]["min"] >= 1
    assert given["outcomes"]["end_state"]["n"] == len(war_rows)
    # conditional rate exceeds the unconditional one by construction
    assert given["outcomes"]["russia_intervened"]["p"] > out["outcomes"]["russia_intervened"]["p"]


def test_summarize_condition_omitted_when_none_or_not_bool(outcomes: pd.DataFrame) -> None:
    assert "given" not in summarize(outcomes, condition=None)
    assert "given" not in summarize(outcomes, condition="max_escalation")
    assert "given" not in summarize(outcomes, condition="no_such_column")


def test_summarize_other_condition(outcomes: pd.DataFrame) -> None:
    out = summarize(outcomes, condition="iran_requested_help")
    assert out["given"]["iran_requested_help"]["n"] == int(outcomes["iran_requested_help"].sum())


def test_summarize_condition_never_true() -> None:
    df = make_outcomes(50)
    df["war"] = False
    out = summarize(df)
    assert out["given"]["war"]["n"] == 0
    assert out["given"]["war"]["outcomes"]["russia_intervened"]["p"] is None
    json.dumps(out, allow_nan=False)
    assert "No replications with war" in summary_markdown(out, "Peace")


def test_summarize_explicit_fields(outcomes: pd.DataFrame) -> None:
    out = summarize(outcomes, fields=["war", "peak_oil_price"])
    assert list(out["outcomes"]) == ["war", "peak_oil_price"]
    assert list(out["given"]["war"]["outcomes"]) == ["peak_oil_price"]
    assert set(out["convergence"]["fields"]) == {"war", "peak_oil_price"}


def test_summarize_missing_field_error(outcomes: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"fields not in outcomes: \['nope'\]"):
        summarize(outcomes, fields=["war", "nope"])


def test_summarize_includes_convergence(outcomes: pd.DataFrame) -> None:
    out = summarize(outcomes)
    conv = out["convergence"]
    assert "war" in conv["fields"]
    assert "end_state" not in conv["fields"]
    assert isinstance(conv["text"], str) and conv["text"]


# --------------------------------------------------------------------------------------------
# paired_difference / compare
# --------------------------------------------------------------------------------------------


def paired_frames(n: int = 200, effect: float = 0.5, seed: int = 11) -> tuple[pd.DataFrame, ...]:
    """Two scenarios sharing large per-replication noise (common random numbers)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(100.0, 30.0, n)
    a = pd.DataFrame(
        {
            "replication": np.arange(n),
            "peak_oil_price": shared + rng.normal(0.0, 0.5, n),
            "war": shared > 100.0,
        }
    )
    b = pd.DataFrame(
        {
            "replication": np.arange(n),
            "peak_oil_price": shared + effect + rng.normal(0.0, 0.5, n),
            "war": shared > 90.0,
        }
    )
    return a, b


def test_paired_difference_uses_pairing() -> None:
    a, b = paired_frames()
    out = paired_difference(a, b, "peak_oil_price")
    assert out["kind"] == "mean"
    assert out["n_pairs"] == 200
    assert out["difference"] == pytest.approx(out["mean_b"] - out["mean_a"])
    lo, hi = out["ci"]
    assert lo < 0.5 < hi
    assert lo > 0.0  # effect detected despite shared noise of sd 30
    # an unpaired (Welch) interval would be ~40x wider
    xa, xb = a["peak_oil_price"], b["peak_oil_price"]
    unpaired_half = sps.t.ppf(0.975, 398) * math.sqrt(xa.var() / 200 + xb.var() / 200)
    assert (hi - lo) / 2 < unpaired_half / 20


def test_paired_difference_matches_paired_t_interval() -> None:
    a, b = paired_frames(n=60)
    diff = b["peak_oil_price"] - a["peak_oil_price"]
    expected = sps.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=sps.sem(diff))
    assert paired_difference(a, b, "peak_oil_price")["ci"] == pytest.approx(list(expected))


def test_paired_difference_order_independent() -> None:
    a, b = paired_frames()
    ref = paired_difference(a, b, "peak_oil_price")
    shuffled_a = a.sample(frac=1.0, random_state=1)
    shuffled_b = b.sample(frac=1.0, random_state=2).reset_index(drop=True)
    out = paired_difference(shuffled_a, shuffled_b, "peak_oil_price")
    assert out["difference"] == pytest.approx(ref["difference"], rel=1e-12)
    assert out["ci"] == pytest.approx(ref["ci"], rel=1e-12)
    assert out["n_pairs"] == ref["n_pairs"]


def test_paired_difference_bool_is_probability() -> None:
    a, b = paired_frames()
    out = paired_difference(a, b, "war")
    assert out["kind"] == "probability"
    assert out["mean_a"] == pytest.approx(a["war"].mean())
    assert out["mean_b"] == pytest.approx(b["war"].mean())
    assert out["difference"] == pytest.approx(b["war"].mean() - a["war"].mean())
    assert out["difference"] > 0
    assert out["ci"][0] <= out["difference"] <= out["ci"][1]


def test_paired_difference_inner_join() -> None:
    a, b = paired_frames(n=100)
    out = paired_difference(a.iloc[:70], b.iloc[30:], "peak_oil_price")
    assert out["n_pairs"] == 40
    sub_a, sub_b = a.iloc[30:70], b.iloc[30:70]
    assert out["mean_a"] == pytest.approx(sub_a["peak_oil_price"].mean())
    assert out["mean_b"] == pytest.approx(sub_b["peak_oil_price"].mean())


def test_paired_difference_drops_missing_pairs() -> None:
    a, b = paired_frames(n=20)
    a.loc[0, "peak_oil_price"] = np.nan
    assert paired_difference(a, b, "peak_oil_price")["n_pairs"] == 19


def test_paired_difference_identical_runs_collapse() -> None:
    a, _ = paired_frames(n=10)
    out = paired_difference(a, a.copy(), "peak_oil_price")
    assert out["difference"] == 0.0
    assert out["ci"] == [0.0, 0.0]


def test_paired_difference_errors() -> None:
    a, b = paired_frames(n=10)
    with pytest.raises(ValueError, match="field 'nope' missing from frame a"):
        paired_difference(a, b, "nope")
    with pytest.raises(ValueError, match="field 'war' missing from frame b"):
        paired_difference(a, b.drop(columns="war"), "war")
    disjoint = b.assign(replication=b["replication"] + 1000)
    with pytest.raises(ValueError, match="no paired replications"):
        paired_difference(a, disjoint, "war")
    with pytest.raises(ValueError, match="no 'replication' column"):
        paired_difference(a.drop(columns="replication"), b, "war")
    with pytest.raises(ValueError, match="duplicate replication ids"):
        paired_difference(pd.concat([a, a]), b, "war")
    cat = a.assign(end_state="ceasefire")
    with pytest.raises(ValueError, match="boolean or numeric"):
        paired_difference(cat, cat, "end_state")


def test_paired_difference_json(outcomes: pd.DataFrame) -> None:
    a, b = paired_frames()
    json.dumps(paired_difference(a, b, "war"), allow_nan=False)


def test_compare_covers_shared_bool_and_numeric_fields() -> None:
    a = make_outcomes(120, seed=1)
    b = make_outcomes(120, seed=2, war_rate=0.6).drop(columns="peak_oil_price")
    out = compare(a, b)
    assert "peak_oil_price" not in out  # not in both
    assert "end_state" not in out  # categorical
    assert not {"replication", "scenario", "point"} & set(out)
    assert {"war", "russia_intervened", "max_escalation", "iran_min_stability"} <= set(out)
    assert out["war"]["kind"] == "probability"
    assert out["max_escalation"]["kind"] == "mean"
    assert out["war"] == paired_difference(a, b, "war")
    json.dumps(out, allow_nan=False)


def test_compare_explicit_fields() -> None:
    a, b = paired_frames()
    out = compare(a, b, fields=["war"])
    assert list(out) == ["war"]
    with pytest.raises(ValueError, match="fields not in outcomes"):
        compare(a, b.drop(columns="war"), fields=["war"])


# --------------------------------------------------------------------------------------------
# convergence_note
# --------------------------------------------------------------------------------------------


def test_convergence_half_widths_at_checkpoints() -> None:
    df = make_outcomes(400)
    note = convergence_note(df, ["war"])
    entry = note["fields"]["war"]
    assert list(entry["half_width"]) == ["100", "200", "400"]
    for k in (100, 200, 400):
        lo, hi = wilson_interval(int(df["war"].iloc[:k].sum()), k)
        assert entry["half_width"][str(k)] == pytest.approx((hi - lo) / 2)
    assert entry["half_width"]["100"] > entry["half_width"]["400"]
    assert entry["target"] == DEFAULT_TARGETS["probability"]


def test_convergence_uses_replication_order() -> None:
    df = make_outcomes(200)
    ref = convergence_note(df, ["war", "peak_oil_price"])
    shuffled = df.sample(frac=1.0, random_state=5)
    assert convergence_note(shuffled, ["war", "peak_oil_price"]) == ref


def test_convergence_runs_needed_formula() -> None:
    df = pd.DataFrame({"replication": range(100), "war": [True, False] * 50})
    note = convergence_note(df, ["war"])
    # p = 0.5, target 0.01 -> the textbook 9604
    assert note["fields"]["war"]["runs_needed"] == 9604
    loose = convergence_note(df, ["war"], targets={"probability": 0.05})
    assert loose["fields"]["war"]["runs_needed"] == 385


def test_convergence_runs_needed_monotone_in_target() -> None:
    df = make_outcomes(300)
    prob = [
        convergence_note(df, ["war"], targets={"probability": t})["fields"]["war"]["runs_needed"]
        for t in (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
    ]
    assert prob == sorted(prob, reverse=True)
    assert prob[0] > prob[-1]
    mean = [
        convergence_note(df, ["peak_oil_price"], targets={"mean_relative": t})["fields"][
            "peak_oil_price"
        ]["runs_needed"]
        for t in (0.001, 0.005, 0.02, 0.05, 0.2)
    ]
    assert mean == sorted(mean, reverse=True)
    assert mean[0] > mean[-1]
    assert min(mean) >= 1


def test_convergence_numeric_fields() -> None:
    df = make_outcomes(400)
    entry = convergence_note(df, ["peak_oil_price"])["fields"]["peak_oil_price"]
    x = df["peak_oil_price"]
    z = sps.norm.ppf(0.975)
    expected = math.ceil((z * x.std(ddof=1) / (0.02 * abs(x.mean()))) ** 2)
    assert entry["runs_needed"] == expected
    assert entry["target"] == DEFAULT_TARGETS["mean_relative"]
    half = sps.t.ppf(0.975, 399) * x.std(ddof=1) / math.sqrt(400)
    assert entry["half_width"]["400"] == pytest.approx(half / x.mean())


def test_convergence_skips_zero_mean_and_handles_degenerate() -> None:
    df = make_outcomes(80)
    df["zero"] = 0.0
    note = convergence_note(df, ["zero", "china_intervened"])
    assert "zero" not in note["fields"]
    assert note["fields"]["china_intervened"]["runs_needed"] == 1
    assert "china_intervened never varied" in note["text"]


def test_convergence_default_fields_skip_categorical_and_grouping(outcomes: pd.DataFrame) -> None:
    note = convergence_note(outcomes)
    assert "end_state" not in note["fields"]
    assert "replication" not in note["fields"]
    assert "point" not in note["fields"]
    assert "war" in note["fields"] and "peak_oil_price" in note["fields"]


def test_convergence_text_reports_shortfall_and_success() -> None:
    df = make_outcomes(400)
    text = convergence_note(df, ["war"])["text"]
    assert "400 replications" in text
    assert "more)" in text
    met = convergence_note(df, ["war"], targets={"probability": 0.2})["text"]
    assert "meets these targets" in met


def test_convergence_empty_and_bad_target() -> None:
    empty = make_outcomes(0)
    note = convergence_note(empty)
    assert note["fields"] == {}
    assert "No convergence assessment" in note["text"]
    with pytest.raises(ValueError, match="target 'probability' must be positive"):
        convergence_note(make_outcomes(10), targets={"probability": 0.0})


# --------------------------------------------------------------------------------------------
# summary_markdown
# --------------------------------------------------------------------------------------------


def test_summary_markdown_contents(outcomes: pd.DataFrame) -> None:
    summary = summarize(outcomes)
    md = summary_markdown(summary, "Baseline crisis")
    assert md.startswith("# Baseline crisis\n")
    for name in [
        "war",
        "russia_intervened",
        "peak_oil_price",
        "max_escalation",
        "end_state",
        "settlement",
        "regime_collapse",
    ]:
        assert name in md
    war = summary["outcomes"]["war"]
    assert f"| `war` | {war['p'] * 100:.1f} % |" in md
    lo, hi = war["ci"]
    assert f"{lo * 100:.1f}–{hi * 100:.1f} %" in md
    assert f"## Conditional on war (n = {summary['given']['war']['n']})" in md
    assert "## Convergence" in md
    assert summary["convergence"]["text"] in md
    assert "5–95 %" in md


def test_summary_markdown_percent_formatting() -> None:
    df = pd.DataFrame(
        {
            "replication": range(3),
            "war": [True, False, False],
            "end_state": ["ceasefire", "settlement", "settlement"],
        }
    )
    md = summary_markdown(summarize(df), "Tiny")
    assert "| `war` | 33.3 % |" in md
    assert "| settlement | 66.7 % |" in md
    assert "| ceasefire | 33.3 % |" in md


def test_summary_markdown_tables_are_well_formed(outcomes: pd.DataFrame) -> None:
    md = summary_markdown(summarize(outcomes), "Report")
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert table_lines
    blocks: list[list[str]] = []
    for line in md.splitlines():
        if line.startswith("|"):
            if not blocks or not blocks[-1]:
                blocks.append([])
            blocks[-1].append(line)
        elif blocks and blocks[-1]:
            blocks.append([])
    for block in (b for b in blocks if b):
        widths = {line.count("|") for line in block}
        assert len(widths) == 1, block


def test_summary_markdown_without_condition(outcomes: pd.DataFrame) -> None:
    md = summary_markdown(summarize(outcomes, condition=None), "No condition")
    assert "Conditional on" not in md


def test_convergence_note_sets_rare_counts_apart():
    """A count that is almost always zero must not drive the runs-needed figure."""
    n = 1000
    rare = np.zeros(n)
    rare[:5] = 3.0  # non-zero in 0.5 % of runs
    frame = pd.DataFrame(
        {
            "replication": np.arange(n),
            "war": np.arange(n) % 2 == 0,
            "turns": np.arange(n) % 7 + 1.0,
            "hormuz_closed_turns": rare,
        }
    )
    note = convergence_note(frame)
    assert "hormuz_closed_turns" not in note["fields"]
    assert "hormuz_closed_turns are non-zero in under 10.0 %" in note["text"]
    common = convergence_note(frame.drop(columns="hormuz_closed_turns"))
    assert note["fields"]["turns"] == common["fields"]["turns"]
