"""The numbers behind sweep figures: an outcome per point, paired differences from a reference
point, and how an outcome varies with each input of a sampled design.

An outcome is a field name (`war`, `peak_oil_price`) or an expression over the outcome fields
(`russia_max_support >= 3`), evaluated per replication with pandas; a boolean outcome is
summarised as a probability (Wilson interval), a number as a mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.labels import Labels, readable
from sim.analysis.results import Results
from sim.scenario.errors import WargameError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Outcome:
    """An outcome of every replication: its values, its expression and its name in words."""

    expression: str
    words: str
    values: pd.Series
    is_probability: bool


def outcome_words(expression: str, labels: Labels, fields: set[str] = frozenset()) -> str:
    """`russia_max_support >= 3` -> `Russia reaches economic lifeline or more`."""
    match = re.fullmatch(r"\s*(\w+)_max_support\s*>=\s*(\d+)\s*", expression)
    if match and match.group(1) in labels.actor_labels:
        rung = int(match.group(2))
        ladder = labels.support_ladder
        if 0 <= rung < len(ladder):
            return f"{labels.label(match.group(1))} reaches {readable(ladder[rung])} or more"
    if _NAME.fullmatch(expression.strip()):
        return labels.outcome(expression.strip())
    return _NAME.sub(
        lambda m: labels.outcome(m.group(0)) if m.group(0) in fields else m.group(0), expression
    )


def evaluate(results: Results, expression: str) -> Outcome:
    """The outcome `expression` for every replication; a one-line error for unknown names."""
    frame = results.outcomes
    unknown = [
        n
        for n in _NAME.findall(expression)
        if n not in frame.columns and n not in ("and", "or", "not", "True", "False")
    ]
    if unknown:
        raise WargameError(
            f"--outcome: unknown field '{unknown[0]}' (expected an expression over: "
            f"{', '.join(results.fields)})"
        )
    try:
        values = frame.eval(expression, engine="python")
    except Exception:  # pandas raises many kinds, in Python's words, for a malformed expression
        raise WargameError(
            f"--outcome: cannot read {expression!r} (expected a condition such as "
            "'war and russia_max_support >= 3', with balanced brackets)"
        ) from None
    if not isinstance(values, pd.Series) or len(values) != len(frame):
        raise WargameError(f"--outcome: {expression!r} is not one value per replication")
    is_probability = pd.api.types.is_bool_dtype(values)
    if not is_probability and not pd.api.types.is_numeric_dtype(values):
        raise WargameError(f"--outcome: {expression!r} is neither true/false nor a number")
    words = outcome_words(expression, results.labels, set(results.fields))
    return Outcome(expression, words, values, is_probability)


def per_point(results: Results, outcome: Outcome) -> pd.DataFrame:
    """One row per point: its parameters, the estimate with its interval, and the paired
    difference from the reference point (the first) with its interval."""
    frame = results.outcomes[["point", "replication", *results.parameters]].copy()
    frame["value"] = outcome.values.astype(float).to_numpy()
    groups = dict(tuple(frame.groupby("point", sort=True)))
    reference = groups[min(groups)]
    rows = []
    for point, group in groups.items():
        x = group["value"].to_numpy()
        if outcome.is_probability:
            k = int(x.sum())
            low, high = stats.wilson_interval(k, len(x))
        else:
            summary = stats.numeric_summary(x)
            low, high = summary["ci"]
        diff = stats.paired_difference(
            reference.assign(v=reference["value"]), group.assign(v=group["value"]), "v"
        )
        rows.append(
            {
                "point": point,
                **{p: group[p].iloc[0] for p in results.parameters},
                "estimate": float(x.mean()),
                "low": low,
                "high": high,
                "difference": diff["difference"],
                "difference_low": diff["ci"][0],
                "difference_high": diff["ci"][1],
                "n": len(x),
            }
        )
    return pd.DataFrame(rows)


def shown(value: float, outcome: Outcome) -> str:
    """An estimate as text: a percentage for a probability, a number otherwise."""
    return fmt.percent(value) if outcome.is_probability else fmt.number(value)


def partial_dependence(table: pd.DataFrame, parameter: str, bins: int = 6) -> pd.DataFrame:
    """The mean outcome over the points in each bin of `parameter` (the other inputs averaged
    over the design): the marginal effect of that input, with its spread across points."""
    values = table[parameter].astype(float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        groups = table.groupby(values)
    else:
        groups = table.groupby(pd.cut(values, edges, include_lowest=True), observed=True)
    rows = [
        {
            "x": float(group[parameter].astype(float).mean()),
            "mean": float(group["estimate"].mean()),
            "low": float(group["estimate"].quantile(0.1)),
            "high": float(group["estimate"].quantile(0.9)),
            "points": len(group),
        }
        for _, group in groups
    ]
    return pd.DataFrame(rows)


def grid_parameters(results: Results) -> list[str] | None:
    """The two swept parameters of a full two-parameter grid, else None."""
    parameters = results.parameters
    if len(parameters) != 2 or results.manifest.get("design") == "sample":
        return None
    table = results.points
    cells = table[parameters].drop_duplicates()
    levels = [table[p].nunique() for p in parameters]
    if len(cells) != levels[0] * levels[1] or min(levels) < 2:
        return None
    return parameters


def default_outcomes(results: Results) -> list[str]:
    """The outcomes sweep figures show by default: material support by each great power, war
    and the reliance gap (those this run has)."""
    from sim.analysis.headline import BEYOND_WORDS, GREAT_POWERS

    columns = results.outcomes.columns
    chosen = [
        f"{p}_max_support >= {BEYOND_WORDS}" for p in GREAT_POWERS if f"{p}_max_support" in columns
    ]
    return chosen + [f for f in ("war", "iran_reliance_gap") if f in columns]


def slug(expression: str) -> str:
    """A file-name part for an outcome: `russia_max_support >= 3` -> `russia_max_support_ge_3`."""
    text = expression.replace(">=", " ge ").replace("<=", " le ").replace(">", " gt ")
    text = text.replace("<", " lt ").replace("==", " eq ")
    return "_".join(re.findall(r"[A-Za-z0-9_.]+", text)).replace(".", "_")
