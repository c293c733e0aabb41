"""Global sensitivity analysis of a sampled experiment: which parameters drive an outcome.

A `sample` with `method: sobol` or `method: morris` lays its sweep points out as the analysis
needs them; each point's outcome is the mean over its replications. Because every point runs
the same replication seeds (common random numbers), the Monte Carlo noise is largely shared
between points and does not masquerade as sensitivity.

Sobol indices from a small design are unstable: total indices above one and first-order
indices below zero are estimation noise, not findings. `stability` names every such sign and
the command prints it as a loud warning; the tables show each index with its bootstrap
interval. The figures are drawn by `sim.output.figures.sweeps.sensitivity_figure`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.labels import Labels, readable, sentence
from sim.analysis.results import Results
from sim.batch.runfolder import CONFIG, atomic_write_text
from sim.scenario.errors import WargameError

DEFAULT_OUTCOMES = (
    "war",
    "max_escalation",
    "russia_max_support",
    "china_max_support",
    "china_imports_end_kbd",
    "iran_reliance_gap",
)


def _design(results: Results) -> dict[str, Any]:
    path = results.path / CONFIG
    try:
        resolved = yaml.safe_load(path.read_text(encoding="utf-8"))
        sample = resolved["experiment"]["sample"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        sample = None
    if not sample or sample.get("method") not in ("sobol", "morris"):
        raise WargameError(
            f"{results.path}: sensitivity analysis needs an experiment with "
            "sample.method sobol or morris"
        )
    return sample


def analyse(
    results: Results, outcomes: tuple[str, ...] | list[str] = (), seed: int = 0
) -> dict[str, Any]:
    """Sobol first-order and total indices, or Morris mu* and sigma, per outcome and parameter."""
    sample = _design(results)
    names = list(sample["ranges"])
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(sample["ranges"][n]) for n in names],
    }
    table = results.outcomes
    fields = list(outcomes) or [f for f in DEFAULT_OUTCOMES if f in table.columns]
    unknown = [f for f in fields if f not in table.columns]
    if unknown:
        raise WargameError(f"--outcome: no outcome named {unknown[0]!r} in {results.path}")
    per_point = table.groupby("point").agg(
        {**{f: "mean" for f in fields}, **{n: "first" for n in names}}
    )
    inputs = per_point[names].to_numpy(dtype=float)
    analysis: dict[str, Any] = {
        "method": sample["method"],
        "points": len(per_point),
        "replications_per_point": int(table.groupby("point").size().min()),
        "parameters": names,
        "outcomes": {},
    }
    for field in fields:
        response = per_point[field].to_numpy(dtype=float)
        if np.ptp(response) == 0:
            analysis["outcomes"][field] = {"constant": float(response[0])}
            continue
        if sample["method"] == "sobol":
            from SALib.analyze import sobol

            indices = sobol.analyze(problem, response, calc_second_order=False, seed=seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            indices = morris.analyze(
                problem, inputs, response, num_levels=sample.get("levels", 4), seed=seed
            )
            keys = ("mu_star", "mu_star_conf", "sigma")
        analysis["outcomes"][field] = {
            name: {key: float(indices[key][i]) for key in keys} for i, name in enumerate(names)
        }
    analysis["base_samples"] = int(sample.get("points", 0))
    analysis["warnings"] = stability(analysis, results.labels)
    return stats._to_builtin(analysis)


#: Sobol base samples below which indices are rarely stable (SALib's examples use 1,024)
MIN_BASE_SAMPLES = 256
#: a bootstrap half-width above this (in share of variance) makes an index unreadable
MAX_HALF_WIDTH = 0.1


def _outcome(field: str, labels: Labels | None) -> str:
    return labels.outcome(field) if labels is not None else readable(field)


def stability(analysis: dict[str, Any], labels: Labels | None = None) -> list[str]:
    """Every sign that a Sobol design is too small for stable indices, in words: the design's
    size first, then one line per outcome, which opens with the outcome's words and a colon."""
    if analysis["method"] != "sobol":
        return []
    problems = []
    base = analysis.get("base_samples", 0)
    if base < MIN_BASE_SAMPLES:
        problems.append(
            f"the design has {base} base samples; Sobol indices are rarely stable below "
            f"{MIN_BASE_SAMPLES} (raise `sample.points`)"
        )
    for field, indices in analysis["outcomes"].items():
        if "constant" in indices:
            continue
        signs = []
        if any(i["ST"] > 1 for i in indices.values()):
            signs.append("a total index above 1")
        if any(i["S1"] < 0 for i in indices.values()):
            signs.append("a negative first-order index")
        if sum(i["S1"] for i in indices.values()) > 1:
            signs.append("first-order indices summing above 1")
        widest = max(max(i["S1_conf"], i["ST_conf"]) for i in indices.values())
        if widest > MAX_HALF_WIDTH:
            signs.append(f"bootstrap intervals up to ±{widest:.2f}")
        if signs:
            problems.append(
                f"{sentence(_outcome(field, labels))}: {', '.join(signs)}: "
                "these indices are estimation noise"
            )
    return problems


def markdown(analysis: dict[str, Any], title: str, labels: Labels | None = None) -> str:
    """The indices as Markdown: outcomes and parameters in words, each parameter's `--set`
    path beside it in code type (as sensitivity.json and the scenario spell it)."""
    sobol = analysis["method"] == "sobol"
    lines = [
        f"# Sensitivity: {title}",
        "",
        f"{analysis['method'].capitalize()} design, {fmt.count(analysis['points'])} points × "
        f"{fmt.count(analysis['replications_per_point'])} replications.",
        "",
    ]
    for warning in analysis.get("warnings", []):
        lines += [
            f"**Warning: the design is too small for stable indices.** {sentence(warning)}.",
            "",
        ]
    header = (
        "| Parameter | path | first order S1 [95 % interval] | total ST [95 % interval] |"
        if sobol
        else "| Parameter | path | mu* [95 % interval] | sigma |"
    )
    for field, indices in analysis["outcomes"].items():
        lines += [f"## {sentence(_outcome(field, labels))} (`{field}`)", ""]
        if "constant" in indices:
            lines += [f"Constant at {fmt.number(indices['constant'])} over the sample.", ""]
            continue
        lines += [header, "|---|---|---:|---:|"]
        ranked = sorted(indices.items(), key=lambda kv: -kv[1]["ST" if sobol else "mu_star"])
        for name, i in ranked:
            words = labels.parameter(name) if labels is not None else readable(name)
            shown = f"| {words} | `{name}` |"
            if sobol:
                lines.append(f"{shown} {_index(i, 'S1')} | {_index(i, 'ST')} |")
            else:
                lines.append(f"{shown} {_index(i, 'mu_star')} | {fmt.number(i['sigma'])} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _index(indices: dict[str, float], key: str) -> str:
    value, half = indices[key], indices[f"{key}_conf"]
    return f"{fmt.number(value)} [{fmt.interval(value - half, value + half)}]"


def write(results: Results, analysis: dict[str, Any]) -> list[Path]:
    """Save the analysis as JSON and Markdown in the run folder (figures: `sim.output`)."""
    folder = results.path
    paths = [folder / "sensitivity.json", folder / "sensitivity.md"]
    atomic_write_text(paths[0], json.dumps(analysis, indent=2) + "\n")
    atomic_write_text(paths[1], markdown(analysis, results.name, results.labels))
    return paths
