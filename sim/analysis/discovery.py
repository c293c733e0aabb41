"""Scenario discovery: which combinations of the swept inputs lead to an outcome of interest.

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999) from EMA Workbench's analysis
package peels the input space down to boxes where the outcome is frequent: each box has its
limits on the inputs, its coverage (the share of all cases of interest that fall inside) and its
density (the share of cases inside that are of interest). Extra-trees feature scores (also EMA
Workbench) rank the inputs by how much they tell about the outcome. Boxes are also written out
in words: "Russia reaches economic lifeline or more when Russia's Ukraine commitment < 0.3".
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import formatting as fmt
from sim.analysis.results import Results
from sim.analysis.sweeps import Outcome, evaluate
from sim.batch.runfolder import atomic_write_text
from sim.scenario.errors import WargameError

DISCOVER_JSON = "discover.json"
#: a box is kept while its density clearly exceeds the base rate and it covers enough cases
MIN_COVERAGE = 0.1
MAX_BOXES = 3


def _inputs(results: Results) -> pd.DataFrame:
    parameters = results.parameters
    if not parameters:
        raise WargameError(
            f"{results.path}: scenario discovery needs a sweep (an experiment with a grid or "
            "a sample), so that inputs vary between points"
        )
    inputs = results.outcomes[parameters].astype(float).reset_index(drop=True)
    inputs.columns = [p.rsplit(".", 1)[-1] if _unique_leaves(parameters) else p for p in parameters]
    return inputs


def _unique_leaves(parameters: list[str]) -> bool:
    leaves = [p.rsplit(".", 1)[-1] for p in parameters]
    return len(set(leaves)) == len(leaves)


def _condition(words: str, low: float, high: float, bounds: tuple[float, float]) -> str | None:
    at_low, at_high = low <= bounds[0] + 1e-12, high >= bounds[1] - 1e-12
    if at_low and at_high:
        return None
    if at_low:
        return f"{words} < {fmt.number(high)}"
    if at_high:
        return f"{words} > {fmt.number(low)}"
    return f"{fmt.number(low)} < {words} < {fmt.number(high)}"


def box_words(
    outcome: Outcome, limits: dict[str, list[float]], bounds: dict, words: dict[str, str]
) -> str:
    """A box in words: the outcome, `when`, and each restricted input's condition."""
    conditions = [
        c
        for name, (lo, hi) in limits.items()
        if (c := _condition(words[name], lo, hi, bounds[name]))
    ]
    if not conditions:
        return f"{outcome.words} anywhere in the design"
    return f"{outcome.words} when {' and '.join(conditions)}"


def _choose(trajectory: pd.DataFrame) -> int:
    """The peel to report: the densest box that still covers at least half of the cases."""
    enough = trajectory[trajectory["coverage"] >= 0.5]
    pick = enough if len(enough) else trajectory
    return int(pick["density"].idxmax())


def _ema():
    """EMA Workbench's analysis package (its import warns about optional parallel back-ends)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import feature_scoring, prim
    return feature_scoring, prim


def feature_scores(inputs: pd.DataFrame, y: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Extra-trees feature scores of each input for the outcome (they sum to one)."""
    feature_scoring, _ = _ema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, *_ = feature_scoring.get_ex_feature_scores(
            inputs, y, mode=feature_scoring.RuleInductionType.CLASSIFICATION, random_state=seed
        )
    column = scores.columns[0]
    return {str(k): float(v) for k, v in scores[column].items()}


def discover(results: Results, expression: str, seed: int = 0) -> dict[str, Any]:
    """PRIM boxes (limits, coverage, density, mass, words), peeling trajectories and feature
    scores for the boolean outcome `expression` over the swept inputs."""
    outcome = evaluate(results, expression)
    if not outcome.is_probability:
        raise WargameError(
            f"--outcome: {expression!r} is a number; discovery needs a condition such as "
            f"'{expression} > {fmt.number(float(outcome.values.median()))}'"
        )
    inputs = _inputs(results)
    input_words = {
        column: results.labels.parameter(path)
        for column, path in zip(inputs.columns, results.parameters, strict=True)
    }
    y = outcome.values.to_numpy(dtype=bool)
    if y.all() or not y.any():
        raise WargameError(
            f"--outcome: {expression!r} is {'always' if y.all() else 'never'} true in this "
            "run; nothing to discover"
        )
    _, prim = _ema()
    bounds = {c: (float(inputs[c].min()), float(inputs[c].max())) for c in inputs.columns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        algorithm = prim.Prim(inputs, y)
        boxes = []
        for _ in range(MAX_BOXES):
            box = algorithm.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            index = _choose(trajectory)
            box.select(index)
            row = trajectory.loc[index]
            if row["coverage"] < MIN_COVERAGE or row["density"] <= y.mean() * 1.05:
                break
            limits = {
                str(c): [
                    float(box.box_lims[index][c].iloc[0]),
                    float(box.box_lims[index][c].iloc[1]),
                ]
                for c in inputs.columns
            }
            boxes.append(
                {
                    "limits": limits,
                    "coverage": float(row["coverage"]),
                    "density": float(row["density"]),
                    "mass": float(row["mass"]),
                    "restricted": int(row["res_dim"]),
                    "words": box_words(outcome, limits, bounds, input_words),
                    "peeling": trajectory[["coverage", "density", "mass", "res_dim"]]
                    .astype(float)
                    .to_dict("records"),
                    "chosen": index,
                }
            )
    return {
        "outcome": expression,
        "outcome_words": outcome.words,
        "base_rate": float(y.mean()),
        "n": int(y.size),
        "inputs": {c: list(b) for c, b in bounds.items()},
        "input_words": input_words,
        "boxes": boxes,
        "feature_scores": feature_scores(inputs, y, seed),
    }


def write(results: Results, found: dict[str, Any], folder: Path | None = None) -> Path:
    """Save `discover.json` in the results folder (or `folder`)."""
    target = (folder or results.path) / DISCOVER_JSON
    atomic_write_text(target, json.dumps(found, indent=2) + "\n")
    return target


def markdown(found: dict[str, Any]) -> str:
    """The boxes in words, with coverage and density, and the inputs ranked by their score."""
    lines = [
        f"Scenario discovery for: {found['outcome_words']} (`{found['outcome']}`)",
        f"It happens in {fmt.percent(found['base_rate'])} of {fmt.count(found['n'])} runs.",
        "",
    ]
    if not found["boxes"]:
        lines.append("PRIM found no box clearly denser than the base rate.")
    for number, box in enumerate(found["boxes"], start=1):
        lines.append(
            f"Box {number}: {box['words']} (coverage {fmt.percent(box['coverage'])}: that share "
            f"of the cases lies inside; density {fmt.percent(box['density'])}: that share of "
            "the runs inside have the outcome)."
        )
    scores = sorted(found["feature_scores"].items(), key=lambda item: -item[1])
    words = found.get("input_words", {})
    lines += [
        "",
        "Inputs by feature score (extra trees): "
        + ", ".join(f"{words.get(name, name)} {fmt.number(score)}" for name, score in scores),
    ]
    return "\n".join(lines) + "\n"
