"""The summary of a results folder: statistics per sweep point and paired comparisons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.labels import Labels, readable
from sim.analysis.markdown import block_markdown, cell, outcome_name
from sim.batch.runfolder import CHUNKS, SUMMARY_JSON, SUMMARY_MD, atomic_write_text

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


def overview_markdown(summary: dict[str, Any], labels: Labels | None = None) -> list[str]:
    """One row per point: its values and its key outcomes, for sweeps with many points (the
    columns in words; summary.json's `per_point` has them by field)."""
    blocks = summary["per_point"]
    first = blocks[0]["outcomes"]
    probabilities = [f for f, v in first.items() if "p" in v][:6]
    means = [f for f, v in first.items() if "mean" in v][:4]
    parameters = list(blocks[0]["parameters"])
    header = ["Point", "Scenario", *(_parameter(p, labels) for p in parameters), "n"]
    header += [cell(labels.outcome(f)) if labels else f"`{f}`" for f in probabilities + means]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for block in blocks:
        values = [str(block["point"]), block["scenario"]]
        values += [fmt.value(block["parameters"][p]) for p in parameters]
        values.append(fmt.count(block["n"]))
        values += [fmt.percent(block["outcomes"][f]["p"]) for f in probabilities]
        values += [fmt.number(block["outcomes"][f]["mean"]) for f in means]
        lines.append("| " + " | ".join(values) + " |")
    return ["## Sweep points", "", "(probabilities and means per point)", "", *lines, ""]


def comparison_markdown(
    comparisons: list[dict[str, Any]], labels: Labels | None = None
) -> list[str]:
    lines: list[str] = []
    for comparison in comparisons:
        a, b = comparison["reference"], comparison["point"]
        lines += [
            f"### {_point_label(b, labels)} minus {_point_label(a, labels)} "
            "(paired by replication)",
            "",
            "| Outcome | reference | this point | difference | 95 % interval | pairs |",
            "|---|---|---|---|---|---|",
        ]
        for name, diff in comparison["differences"].items():
            # probabilities read as percentages and their differences as percentage points
            if diff.get("kind") == "probability":
                level, change = fmt.percent, fmt.points(diff["difference"])
                spread = fmt.points_interval(*diff["ci"])
            else:
                level, change = fmt.number, fmt.number(diff["difference"], sign=True)
                spread = fmt.interval(*diff["ci"], sign=True)
            lines.append(
                f"| {outcome_name(name, labels)} | {level(diff['mean_a'])} | "
                f"{level(diff['mean_b'])} | {change} | {spread} | {fmt.count(diff['n_pairs'])} |"
            )
        lines.append("")
    return lines


def _parameter(path: str, labels: Labels | None) -> str:
    """A swept parameter in words (the scenario's labels when there are any)."""
    return labels.parameter(path) if labels is not None else readable(path.rsplit(".", 1)[-1])


def _point_label(point: dict[str, Any], labels: Labels | None = None) -> str:
    parameters = ", ".join(
        f"{_parameter(k, labels)} = {fmt.value(v)}" for k, v in point.get("parameters", {}).items()
    )
    return f"{point['scenario']}" + (f" ({parameters})" if parameters else "")


def summary_markdown(summary: dict[str, Any], title: str, labels: Labels | None = None) -> str:
    """The summary as Markdown, opening with the verdict in words."""
    text = block_markdown(summary, title, labels)
    verdict_text = (summary.get("headline") or {}).get("text")
    if verdict_text:
        head, _, rest = text.partition("\n\n")
        text = f"{head}\n\n**Can Iran rely on Russia and China?** {verdict_text}\n\n{rest}"
    if "per_point" not in summary:
        return text
    lines = [text.rstrip(), "", "(the tables above pool all sweep points)", ""]
    if len(summary["per_point"]) > DETAILED_POINTS:
        lines += overview_markdown(summary, labels)
    else:
        for block in summary["per_point"]:
            title = f"Point {block['point']}: {_point_label(block, labels)}"
            body = block_markdown(block, title, labels)
            lines += ["#" + line if line.startswith("#") else line for line in body.splitlines()]
            lines.append("")
    if summary.get("comparisons"):
        lines += ["## Paired comparisons with the first point", ""]
        lines += comparison_markdown(summary["comparisons"], labels)
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


def point_names(points: list[dict[str, Any]], labels: Labels | None = None) -> dict[int, str]:
    """Each point in words for sentences: "`ukraine_ceasefire`" (a scenario is named as its
    file names it, in code type), "China's Taiwan tension = 0.9"."""
    names = {}
    several = len({p["scenario"] for p in points}) > 1
    for point in points:
        parts = [f"`{point['scenario']}`"] if several or not point["parameters"] else []
        parts += [
            f"{_parameter(k, labels)} = {fmt.value(v)}" for k, v in point["parameters"].items()
        ]
        names[point["point"]] = ", ".join(parts)
    return names


def verdict(outcomes: pd.DataFrame, labels: Labels, parameters: list[str]) -> dict[str, Any]:
    """The headline of a run (see `sim.analysis.headline`), with its points named in words."""
    from sim.analysis.headline import headline

    names = point_names(point_table(outcomes, parameters), labels)
    return stats._to_builtin(headline(outcomes, labels, parameters, names))


_COMMITTED_CHUNK = re.compile(r"^p(\d+)-r(\d+)-(\d+)\.sha256\.json$")


def saved_replications(folder: Path) -> int:
    """Replications whose chunks are committed in the folder, whatever the batch asked for
    (a chunk's checksum file is written last, so it marks a finished chunk)."""
    directory = folder / CHUNKS
    covered: dict[int, set[int]] = {}
    if directory.is_dir():
        for path in directory.iterdir():
            match = _COMMITTED_CHUNK.match(path.name)
            if match:
                point, start, stop = (int(g) for g in match.groups())
                covered.setdefault(point, set()).update(range(start, stop))
    return sum(len(runs) for runs in covered.values())


def subset_note(used: int, saved: int) -> str | None:
    """Says so when a summary describes fewer runs than the folder holds."""
    if saved <= used:
        return None
    return (
        f"These results describe {fmt.count(used)} of the {fmt.count(saved)} replications saved "
        f"in this folder: the last batch asked for fewer. Run it again with more --runs to use "
        "them all."
    )


def write_summary(folder: Path, plan, outcomes: pd.DataFrame) -> dict[str, Any]:
    parameters = plan.parameter_names
    designed = plan.design != "sample"  # a grid or a list of scenarios
    summary = summarize_run(outcomes, parameters, point_table(outcomes, parameters), designed)
    labels = Labels.from_scenario(plan.points[0].scenario, plan.name)
    summary = {
        "name": plan.name,
        "config_hash": plan.config_hash,
        "headline": verdict(outcomes, labels, parameters),
        **summary,
    }
    note = subset_note(len(outcomes), saved_replications(folder))
    if note:
        summary["subset"] = {"used": len(outcomes), "saved": saved_replications(folder)}
        summary["headline"]["text"] = f"{summary['headline']['text']} ({note})"
    atomic_write_text(folder / SUMMARY_JSON, json.dumps(summary, indent=2) + "\n")
    text = summary_markdown(summary, f"Outcomes: {plan.name}", labels)
    atomic_write_text(folder / SUMMARY_MD, text)
    return summary
