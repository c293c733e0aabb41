"""Outcome statistics for replicated wargame runs.

Every number an analyst quotes from the simulation should carry its uncertainty, so this
module turns a table of per-replication outcomes into proportions with Wilson intervals,
numeric summaries with t-intervals on the mean, category frequencies, paired scenario
comparisons and a note on whether enough replications were run.

All dict-returning functions produce plain, JSON-serialisable Python values: numpy scalars
are converted to ``int``/``float``/``bool`` and undefined quantities (NaN, infinities) become
``None``, so results can be written straight to JSON reports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)

from sim.analysis import formatting as fmt
from sim.analysis.bootstrap import bootstrap_mean_ci

__all__ = [
    "DEFAULT_TARGETS",
    "GROUPING_COLUMNS",
    "categorical_summary",
    "compare",
    "convergence_note",
    "field_kind",
    "independent_difference",
    "numeric_summary",
    "paired_difference",
    "proportion_summary",
    "summarize",
    "wilson_interval",
]

FieldKind = Literal["proportion", "numeric", "categorical"]

#: Columns that identify a run rather than describe its outcome.
GROUPING_COLUMNS: tuple[str, ...] = ("replication", "scenario", "point")

#: Numeric outcomes non-zero in fewer runs than this share are treated as rare counts.
RARE_SHARE = 0.10

#: Default precision targets: absolute half-width for probabilities, relative for means.
DEFAULT_TARGETS: Mapping[str, float] = {"probability": 0.01, "mean_relative": 0.02}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    """Reject confidence levels that would silently produce meaningless intervals."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def _special():
    """`scipy.special`, imported on first use: the functions scipy.stats calls, without its
    long import, and none at all for a command that reads saved statistics (plot, report)."""
    from scipy import special

    return special


def _z(confidence: float) -> float:
    """Two-sided standard-normal critical value for the given confidence level."""
    return float(_special().ndtri(0.5 + confidence / 2.0))


def _to_builtin(value: Any) -> Any:
    """Recursively convert numpy/pandas scalars to JSON-safe Python types (NaN -> None)."""
    if isinstance(value, Mapping):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_builtin(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def _as_series(values: Iterable[Any]) -> pd.Series:
    """Accept any array-like so callers can pass lists, arrays or Series alike."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, Iterator):
        values = list(values)
    return pd.Series(values)


def _as_float_array(values: Iterable[Any]) -> np.ndarray:
    """Float array with missing values as NaN; works for nullable and bool dtypes too."""
    series = _as_series(values)
    if is_object_dtype(series.dtype):
        series = pd.to_numeric(series, errors="raise")
    return series.to_numpy(dtype=float, na_value=np.nan)


def _mean_ci(x: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student-t interval of the mean; collapses to a point when no spread is observable."""
    n = x.size
    if n == 0:
        return (math.nan, math.nan)
    mean = float(np.mean(x))
    if n == 1:
        return (mean, mean)
    sd = float(np.std(x, ddof=1))
    if sd == 0.0:
        return (mean, mean)
    half = float(_special().stdtrit(n - 1, 0.5 + confidence / 2.0)) * sd / math.sqrt(n)
    return (mean - half, mean + half)


def field_kind(series: pd.Series) -> FieldKind | None:
    """Classify a column by dtype so each outcome gets the right kind of summary.

    Categorical dtype is checked first because pandas reports a categorical of booleans as
    boolean; bool is checked before numeric because pandas treats bool as numeric.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if is_bool_dtype(dtype):
        return "proportion"
    if is_numeric_dtype(dtype):
        return "numeric"
    if is_string_dtype(dtype) or is_object_dtype(dtype):
        return "categorical"
    return None


def _resolve_fields(
    frame: pd.DataFrame, fields: Sequence[str] | None, allowed: Sequence[FieldKind]
) -> list[str]:
    """Explicit fields must exist and be summarisable; defaults skip what cannot be."""
    if fields is None:
        return [
            c
            for c in frame.columns
            if c not in GROUPING_COLUMNS and field_kind(frame[c]) in allowed
        ]
    fields = list(fields)
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise ValueError(f"fields not in outcomes: {missing}; available: {list(frame.columns)}")
    bad = [f for f in fields if field_kind(frame[f]) not in allowed]
    if bad:
        raise ValueError(
            f"fields {bad} have unsupported dtypes "
            f"{[str(frame[f].dtype) for f in bad]}; expected kinds {list(allowed)}"
        )
    return fields


def _in_replication_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort by replication so 'first k runs' means the same thing however rows arrive."""
    if "replication" in frame.columns:
        return frame.sort_values("replication", kind="stable")
    return frame


# --------------------------------------------------------------------------------------------
# Single-sample summaries
# --------------------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Used instead of the Wald interval because rare outcomes (e.g. a Chinese intervention)
    are common here, and Wald gives zero-width or negative intervals near 0 and 1.
    Returns ``(nan, nan)`` when ``n == 0``; bounds are clipped to [0, 1].
    """
    _check_confidence(confidence)
    successes, n = int(successes), int(n)
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (math.nan, math.nan)
    z = _z(confidence)
    z2 = z * z
    p = successes / n
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def proportion_summary(values: Iterable[Any], confidence: float = 0.95) -> dict[str, Any]:
    """Share of true values with a Wilson interval; missing values are dropped.

    Returns ``{"p", "ci": [lo, hi], "n"}`` where ``n`` counts non-missing values.
    """
    series = _as_series(values).dropna()
    if not is_bool_dtype(series.dtype):
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.isna().any() or not numeric.isin([0, 1]).all():
            raise ValueError("proportion_summary needs boolean (or 0/1) values")
        series = numeric
    n = int(series.size)
    successes = int(series.astype(bool).sum())
    lo, hi = wilson_interval(successes, n, confidence)
    p = successes / n if n else math.nan
    return _to_builtin({"p": p, "ci": [lo, hi], "n": n})


def numeric_summary(values: Iterable[Any], confidence: float = 0.95) -> dict[str, Any]:
    """Location, spread, quantiles and an interval of the mean, ignoring NaN.

    The quantiles show the spread of outcomes across runs; the interval shows how precisely
    the mean is known. It is a t-interval, unless that would reach outside the observed
    values (a rare count, whose t-interval goes below zero): then a percentile bootstrap,
    which stays within them (``ci_method`` says which). ``sd`` is undefined (``None``) for
    fewer than two values.
    """
    _check_confidence(confidence)
    x = _as_float_array(values)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        keys = ("mean", "sd", "median", "q05", "q25", "q75", "q95", "min", "max")
        out: dict[str, Any] = dict.fromkeys(keys)
        out.update({"ci": [None, None], "n": 0})
        return out
    q05, q25, median, q75, q95 = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    lo, hi = _mean_ci(x, confidence)
    method = "t"
    if lo < np.min(x) or hi > np.max(x):
        lo, hi = bootstrap_mean_ci(x, confidence)
        method = "bootstrap"
    return _to_builtin(
        {
            "mean": np.mean(x),
            "sd": np.std(x, ddof=1) if n > 1 else math.nan,
            "median": median,
            "q05": q05,
            "q25": q25,
            "q75": q75,
            "q95": q95,
            "min": np.min(x),
            "max": np.max(x),
            "ci": [lo, hi],
            "ci_method": method,
            "n": n,
        }
    )


def categorical_summary(values: Iterable[Any], confidence: float = 0.95) -> dict[str, Any]:
    """Frequency of each category with a Wilson interval, sorted by category name.

    Each category's ``n`` is its own count; the top-level ``n`` is the number of non-missing
    values (the denominator). Declared but unobserved categories of a pandas Categorical are
    reported with p = 0 so that absent outcomes stay visible.
    """
    series = _as_series(values)
    declared: list[Any] = (
        list(series.cat.categories) if isinstance(series.dtype, pd.CategoricalDtype) else []
    )
    series = series.dropna()
    n = int(series.size)
    counts: dict[str, int] = {str(c): 0 for c in declared}
    for category, count in series.astype(str).value_counts().items():
        counts[str(category)] = counts.get(str(category), 0) + int(count)
    categories = {}
    for name in sorted(counts):
        k = counts[name]
        lo, hi = wilson_interval(k, n, confidence)
        categories[name] = {"p": k / n if n else math.nan, "ci": [lo, hi], "n": k}
    return _to_builtin({"n": n, "categories": categories})


def _summarize_field(series: pd.Series, confidence: float) -> dict[str, Any]:
    """Dispatch on dtype so callers never have to say what kind an outcome is."""
    kind = field_kind(series)
    if kind == "proportion":
        return proportion_summary(series, confidence)
    if kind == "numeric":
        return numeric_summary(series, confidence)
    if kind == "categorical":
        return categorical_summary(series, confidence)
    raise ValueError(f"column {series.name!r} has unsupported dtype {series.dtype}")


def summarize(
    outcomes: pd.DataFrame,
    fields: list[str] | None = None,
    condition: str | None = "war",
    confidence: float = 0.95,
    convergence: bool = True,
) -> dict[str, Any]:
    """Summarise every outcome field, optionally also conditional on a boolean outcome.

    ``convergence=False`` leaves out the convergence note (the costly part), for the many
    per-point blocks of a large sweep.

    The conditional block answers questions like "given that war broke out, how often did
    Russia intervene?", which the unconditional rates hide. ``fields`` defaults to every
    summarisable column except the grouping columns ``replication``, ``scenario``, ``point``.
    The condition block is omitted when ``condition`` is None or not a boolean column.
    """
    _check_confidence(confidence)
    allowed: tuple[FieldKind, ...] = ("proportion", "numeric", "categorical")
    names = _resolve_fields(outcomes, fields, allowed)
    result: dict[str, Any] = {
        "n": len(outcomes),
        "confidence": confidence,
        "outcomes": {f: _summarize_field(outcomes[f], confidence) for f in names},
    }
    if (
        condition is not None
        and condition in outcomes.columns
        and field_kind(outcomes[condition]) == "proportion"
    ):
        mask = outcomes[condition].fillna(False).astype(bool).to_numpy()
        subset = outcomes.loc[mask]
        result["given"] = {
            condition: {
                "n": int(mask.sum()),
                "outcomes": {
                    f: _summarize_field(subset[f], confidence) for f in names if f != condition
                },
            }
        }
    numeric_names = [f for f in names if field_kind(outcomes[f]) != "categorical"]
    if convergence:
        result["convergence"] = convergence_note(outcomes, numeric_names, confidence=confidence)
    return _to_builtin(result)


# --------------------------------------------------------------------------------------------
# Paired comparisons between scenarios
# --------------------------------------------------------------------------------------------


def paired_difference(
    a: pd.DataFrame, b: pd.DataFrame, field: str, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean of (b - a) over replications present in both frames, with a paired t-interval.

    Scenarios run with common random numbers share a replication index, so pairing removes
    the run-to-run noise both scenarios have in common and gives a much tighter interval on
    the effect of the scenario change than comparing two independent means would.
    Booleans are treated as 0/1, making the difference a change in probability.
    """
    _check_confidence(confidence)
    for label, frame in (("a", a), ("b", b)):
        if "replication" not in frame.columns:
            raise ValueError(f"frame {label} has no 'replication' column to pair runs on")
        if field not in frame.columns:
            raise ValueError(f"field {field!r} missing from frame {label}")
        kind = field_kind(frame[field])
        if kind not in ("proportion", "numeric"):
            raise ValueError(
                f"field {field!r} in frame {label} has dtype {frame[field].dtype}; "
                "paired differences need a boolean or numeric field"
            )
        if frame["replication"].duplicated().any():
            raise ValueError(
                f"frame {label} has duplicate replication ids, so runs cannot be paired"
            )
    left = pd.DataFrame(
        {"replication": a["replication"].to_numpy(), "a": _as_float_array(a[field])}
    )
    right = pd.DataFrame(
        {"replication": b["replication"].to_numpy(), "b": _as_float_array(b[field])}
    )
    merged = left.merge(right, on="replication", how="inner").dropna(subset=["a", "b"])
    n_pairs = len(merged)
    if n_pairs == 0:
        raise ValueError(
            f"no paired replications for field {field!r}: the frames share no replication ids "
            "with non-missing values"
        )
    xa = merged["a"].to_numpy()
    xb = merged["b"].to_numpy()
    diff = xb - xa
    lo, hi = _mean_ci(diff, confidence)
    both_bool = field_kind(a[field]) == "proportion" and field_kind(b[field]) == "proportion"
    return _to_builtin(
        {
            "field": field,
            "mean_a": np.mean(xa),
            "mean_b": np.mean(xb),
            "difference": np.mean(diff),
            "ci": [lo, hi],
            "n_pairs": n_pairs,
            "kind": "probability" if both_bool else "mean",
        }
    )


def independent_difference(
    a: pd.DataFrame, b: pd.DataFrame, field: str, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean of b minus mean of a for runs that share no random numbers (Welch interval).

    Used when two runs had different master seeds, so replications cannot be paired; the
    interval is wider than a paired one would be for the same number of runs.
    """
    _check_confidence(confidence)
    xa = _as_float_array(a[field])
    xb = _as_float_array(b[field])
    xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError(f"field {field!r} needs at least two runs on each side")
    va, vb = np.var(xa, ddof=1) / len(xa), np.var(xb, ddof=1) / len(xb)
    difference = np.mean(xb) - np.mean(xa)
    se = math.sqrt(va + vb)
    if se == 0:
        lo = hi = difference
    else:
        dof = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))
        half = _special().stdtrit(dof, 0.5 + confidence / 2) * se
        lo, hi = difference - half, difference + half
    both_bool = field_kind(a[field]) == "proportion" and field_kind(b[field]) == "proportion"
    return _to_builtin(
        {
            "field": field,
            "mean_a": np.mean(xa),
            "mean_b": np.mean(xb),
            "difference": difference,
            "ci": [lo, hi],
            "n_pairs": 0,
            "n_a": len(xa),
            "n_b": len(xb),
            "kind": "probability" if both_bool else "mean",
        }
    )


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    fields: list[str] | None = None,
    confidence: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """Paired differences (b - a) for every boolean/numeric field the two frames share.

    With ``fields=None`` all shared boolean/numeric columns except the grouping columns are
    compared; explicitly requested fields must exist in both frames.
    """
    allowed: tuple[FieldKind, ...] = ("proportion", "numeric")
    if fields is None:
        names = [
            f
            for f in _resolve_fields(a, None, allowed)
            if f in b.columns and field_kind(b[f]) in allowed
        ]
    else:
        names = _resolve_fields(a, fields, allowed)
        _resolve_fields(b, fields, allowed)
    return {f: paired_difference(a, b, f, confidence) for f in names}


# --------------------------------------------------------------------------------------------
# Convergence
# --------------------------------------------------------------------------------------------


def _checkpoints(n: int) -> list[int]:
    """Run counts at which precision is reported: n/4, n/2 and n (deduplicated, >= 1)."""
    return sorted({k for k in (n // 4, n // 2, n) if k >= 1})


def convergence_note(
    outcomes: pd.DataFrame,
    fields: list[str] | None = None,
    targets: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Report how interval widths shrink with run count and how many runs a target needs.

    Analysts need to know whether a quoted probability is stable to the stated precision or
    merely the noise of too few replications. For boolean fields the Wilson half-width is
    shown after the first n/4, n/2 and n runs (in replication order) and
    ``runs_needed = ceil(z^2 p(1-p) / target^2)`` with the observed p. For numeric fields
    the half-width is relative to the mean and ``runs_needed = ceil((z sd / (target |mean|))^2)``;
    fields with zero mean (or fewer than two values) are skipped. ``targets`` defaults to
    ``DEFAULT_TARGETS`` (±1 percentage point; ±2 % of the mean); partial mappings override
    only the keys they give.
    """
    _check_confidence(confidence)
    merged_targets = {**DEFAULT_TARGETS, **(targets or {})}
    for key, value in merged_targets.items():
        if not value > 0:
            raise ValueError(f"target {key!r} must be positive, got {value!r}")
    p_target = float(merged_targets["probability"])
    m_target = float(merged_targets["mean_relative"])
    z = _z(confidence)
    names = _resolve_fields(outcomes, fields, ("proportion", "numeric"))
    ordered = _in_replication_order(outcomes)

    result: dict[str, dict[str, Any]] = {}
    kinds: dict[str, FieldKind] = {}
    degenerate: list[str] = []
    rare: list[str] = []
    for name in names:
        x = _as_float_array(ordered[name])
        x = x[~np.isnan(x)]
        n = int(x.size)
        if n == 0:
            continue
        half_widths: dict[str, float] = {}
        if field_kind(ordered[name]) == "proportion":
            for k in _checkpoints(n):
                lo, hi = wilson_interval(int(x[:k].sum()), k, confidence)
                half_widths[str(k)] = (hi - lo) / 2.0
            p = float(x.mean())
            if p in (0.0, 1.0):
                degenerate.append(name)
            needed = math.ceil(z * z * p * (1.0 - p) / p_target**2 - 1e-9)
            result[name] = {
                "half_width": half_widths,
                "runs_needed": max(1, needed),
                "target": p_target,
            }
            kinds[name] = "proportion"
        else:
            mean = float(x.mean())
            if mean == 0.0 or n < 2:
                continue
            if np.count_nonzero(x) < RARE_SHARE * n:
                # A count that is almost always zero (turns of Hormuz closure, say): a target
                # relative to its tiny mean would demand absurd numbers of runs.
                rare.append(name)
                continue
            for k in _checkpoints(n):
                head = x[:k]
                head_mean = float(head.mean())
                if k < 2 or head_mean == 0.0:
                    half_widths[str(k)] = math.nan
                    continue
                lo, hi = _mean_ci(head, confidence)
                half_widths[str(k)] = (hi - lo) / 2.0 / abs(head_mean)
            sd = float(np.std(x, ddof=1))
            needed = math.ceil((z * sd / (m_target * abs(mean))) ** 2 - 1e-9)
            result[name] = {
                "half_width": half_widths,
                "runs_needed": max(1, needed),
                "target": m_target,
            }
            kinds[name] = "numeric"

    text = _convergence_text(len(outcomes), result, kinds, degenerate, confidence, rare)
    return _to_builtin({"fields": result, "text": text})


def _convergence_text(
    n: int,
    fields: dict[str, dict[str, Any]],
    kinds: dict[str, FieldKind],
    degenerate: list[str],
    confidence: float,
    rare: list[str] = (),
) -> str:
    """One paragraph a reader can quote: current precision, trend and runs still needed."""
    if n == 0 or not fields:
        return f"No convergence assessment: {n} replications with no boolean or numeric outcomes."
    level = f"{confidence * 100:g} %"
    sentences: list[str] = []
    needs: list[int] = []

    def latest(entry: dict[str, Any]) -> float:
        values = [v for v in entry["half_width"].values() if v is not None and not math.isnan(v)]
        return values[-1] if values else math.nan

    props = [f for f in fields if kinds[f] == "proportion"]
    if props:
        widest = max(props, key=lambda f: latest(fields[f]))
        hw = fields[widest]["half_width"]
        first_k, last_k = next(iter(hw)), next(reversed(hw))
        driver = max(props, key=lambda f: fields[f]["runs_needed"])
        need = fields[driver]["runs_needed"]
        needs.append(need)
        sentence = (
            f"With {fmt.count(n)} replications the widest {level} interval on a probability is "
            f"±{hw[last_k] * 100:.1f} pp ({widest})"
        )
        if first_k != last_k:
            sentence += f", down from ±{hw[first_k] * 100:.1f} pp after {fmt.count(first_k)} runs"
        sentence += (
            f"; ±{fields[driver]['target'] * 100:.1f} pp on every probability needs about "
            f"{fmt.count(need)} runs ({driver})."
        )
        sentences.append(sentence)
        if degenerate:
            sentences.append(
                f"{', '.join(degenerate)} never varied across runs, so the runs needed "
                "there reflect zero observed variance and are only a lower bound."
            )
    nums = [f for f in fields if kinds[f] == "numeric"]
    if nums:
        loosest = max(nums, key=lambda f: -math.inf if math.isnan(v := latest(fields[f])) else v)
        driver = max(nums, key=lambda f: fields[f]["runs_needed"])
        need = fields[driver]["runs_needed"]
        needs.append(need)
        loosest_hw = latest(fields[loosest])
        if not math.isnan(loosest_hw):
            sentences.append(
                f"The least precise mean is {loosest} at ±{loosest_hw * 100:.1f} % of its value."
            )
        sentences.append(
            f"Reaching ±{fields[driver]['target'] * 100:.1f} % on every mean needs about "
            f"{fmt.count(need)} runs ({driver})."
        )
    if rare:
        sentences.append(
            f"{', '.join(rare)} are non-zero in under {fmt.percent(RARE_SHARE)} of runs; "
            "their means are not held to the relative target."
        )
    required = max(needs)
    if n >= required:
        sentences.append("The current number of replications meets these targets.")
    else:
        sentences.append(
            f"Run at least {fmt.count(required)} replications ({fmt.count(required - n)} more) "
            "before quoting "
            "results at this precision."
        )
    return " ".join(sentences)
