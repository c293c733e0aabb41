"""The summary of a results folder: statistics per sweep point and paired comparisons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import stats
from sim.batch.runfolder import SUMMARY_JSON, SUMMARY_MD, atomic_write_text

#: outcome columns that are bookkeeping, not outcomes
NON_OUTCOMES = (*stats.GROUPING_COLUMNS, "end_turn")


def outcome_fields(outcomes: pd.DataFrame, parameters: list[str]) -> list[str]:
    return [c for c in outcomes.columns if c not in (*NON_OUTCOMES, *parameters)]


#: above this many points, summary.md shows one overview table instead of a section per point
DETAILED_POINTS = 12


def summarize_run(
    outcomes: pd.DataFrame,
    parameters: list[str],
    points: list[dict[str, Any]],
    paired_comparisons: bool = True,
) -> dict[str, Any]:
    """Statistics for every point; for several points, also paired differences to point 0.

    Paired comparisons suit designed contrasts (a grid, a list of scenarios); for a sampled
    design the first point is an arbitrary reference, so they can be left out.
    """
    fields = outcome_fields(outcomes, parameters)
    summary: dict[str, Any] = stats.summarize(outcomes, fields)
    if len(points) > 1:
        summary["pooled_over_points"] = True
        summary["per_point"] = []
        groups = dict(tuple(outcomes.groupby("point")))
        reference = groups[points[0]["point"]]
        numeric = [f for f in fields if stats.field_kind(outcomes[f]) != "categorical"]
        comparisons = []
        for point in points:
            subset = groups[point["point"]]
            block = stats.summarize(subset, fields, convergence=False)
            block.update(point)
            summary["per_point"].append(block)
            if paired_comparisons and point["point"] != points[0]["point"]:
                comparisons.append(
                    {
                        "reference": points[0],
                        "point": point,
                        "differences": stats.compare(reference, subset, numeric),
                    }
                )
        if comparisons:
            summary["comparisons"] = comparisons
    return summary


def overview_markdown(summary: dict[str, Any]) -> list[str]:
    """One row per point: its values and its key outcomes, for sweeps with many points."""
    blocks = summary["per_point"]
    first = blocks[0]["outcomes"]
    probabilities = [f for f, v in first.items() if "p" in v][:6]
    means = [f for f, v in first.items() if "mean" in v][:4]
    parameters = list(blocks[0]["parameters"])
    header = ["point", "scenario", *parameters, "n", *probabilities, *means]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for block in blocks:
        values = [str(block["point"]), block["scenario"]]
        values += [_fmt(block["parameters"][p]) for p in parameters]
        values.append(str(block["n"]))
        values += [f"{block['outcomes'][f]['p']:.1%}" for f in probabilities]
        values += [_fmt(block["outcomes"][f]["mean"]) for f in means]
        lines.append("| " + " | ".join(values) + " |")
    return ["## Sweep points", "", "(probabilities and means per point)", "", *lines, ""]


def comparison_markdown(comparisons: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for comparison in comparisons:
        a, b = comparison["reference"], comparison["point"]
        lines += [
            f"### {_point_label(b)} minus {_point_label(a)} (paired by replication)",
            "",
            "| outcome | reference | this point | difference | 95 % interval | pairs |",
            "|---|---|---|---|---|---|",
        ]
        for name, diff in comparison["differences"].items():
            lines.append(
                f"| {name} | {_fmt(diff['mean_a'])} | {_fmt(diff['mean_b'])} | "
                f"{_fmt(diff['difference'], sign=True)} | "
                f"[{_fmt(diff['ci'][0], sign=True)}, {_fmt(diff['ci'][1], sign=True)}] | "
                f"{diff['n_pairs']} |"
            )
        lines.append("")
    return lines


def _fmt(value: Any, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    if not isinstance(value, int | float):
        return str(value)
    return f"{value:+.3g}" if sign else f"{value:.3g}"


def _point_label(point: dict[str, Any]) -> str:
    parameters = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in point.get("parameters", {}).items()
    )
    return f"{point['scenario']}" + (f" ({parameters})" if parameters else "")


def summary_markdown(summary: dict[str, Any], title: str) -> str:
    text = stats.summary_markdown(summary, title)
    if "per_point" not in summary:
        return text
    lines = [text.rstrip(), "", "(the tables above pool all sweep points)", ""]
    if len(summary["per_point"]) > DETAILED_POINTS:
        lines += overview_markdown(summary)
    else:
        for block in summary["per_point"]:
            title = f"Point {block['point']}: {_point_label(block)}"
            body = stats.summary_markdown(block, title)
            lines += ["#" + line if line.startswith("#") else line for line in body.splitlines()]
            lines.append("")
    if summary.get("comparisons"):
        lines += ["## Paired comparisons with the first point", ""]
        lines += comparison_markdown(summary["comparisons"])
    return "\n".join(lines).rstrip() + "\n"


def point_table(outcomes: pd.DataFrame, parameters: list[str]) -> list[dict[str, Any]]:
    columns = ["point", "scenario", *parameters]
    table = outcomes[columns].drop_duplicates("point").sort_values("point")
    return [
        {
            "point": int(row["point"]),
            "scenario": str(row["scenario"]),
            "parameters": {p: stats._to_builtin(row[p]) for p in parameters},
        }
        for _, row in table.iterrows()
    ]


def write_summary(folder: Path, plan, outcomes: pd.DataFrame) -> dict[str, Any]:
    parameters = plan.parameter_names
    designed = plan.design != "sample"  # a grid or a list of scenarios
    summary = summarize_run(outcomes, parameters, point_table(outcomes, parameters), designed)
    summary = {"name": plan.name, "config_hash": plan.config_hash, **summary}
    atomic_write_text(folder / SUMMARY_JSON, json.dumps(summary, indent=2) + "\n")
    atomic_write_text(folder / SUMMARY_MD, summary_markdown(summary, f"Outcomes: {plan.name}"))
    return summary
