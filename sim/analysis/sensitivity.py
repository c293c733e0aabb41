"""Global sensitivity analysis of a sampled experiment: which parameters drive an outcome.

A `sample` with `method: sobol` or `method: morris` lays its sweep points out as the analysis
needs them; each point's outcome is the mean over its replications. Because every point runs
the same replication seeds (common random numbers), the Monte Carlo noise is largely shared
between points and does not masquerade as sensitivity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.figure import Figure

from sim.analysis import stats
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
    return stats._to_builtin(analysis)


def markdown(analysis: dict[str, Any], title: str) -> str:
    sobol = analysis["method"] == "sobol"
    lines = [
        f"# Sensitivity: {title}",
        "",
        f"{analysis['method'].capitalize()} design, {analysis['points']} points x "
        f"{analysis['replications_per_point']} replications.",
        "",
    ]
    header = "| parameter | first order S1 | total ST |" if sobol else "| parameter | mu* | sigma |"
    for field, indices in analysis["outcomes"].items():
        lines += [f"## {field}", ""]
        if "constant" in indices:
            lines += [f"Constant at {indices['constant']:.3g} over the sample.", ""]
            continue
        lines += [header, "|---|---:|---:|"]
        ranked = sorted(indices.items(), key=lambda kv: -kv[1]["ST" if sobol else "mu_star"])
        for name, i in ranked:
            if sobol:
                lines.append(
                    f"| {name} | {i['S1']:.3f} ± {i['S1_conf']:.3f} | "
                    f"{i['ST']:.3f} ± {i['ST_conf']:.3f} |"
                )
            else:
                lines.append(
                    f"| {name} | {i['mu_star']:.3g} ± {i['mu_star_conf']:.3g} | {i['sigma']:.3g} |"
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def figure(analysis: dict[str, Any], field: str, title: str) -> Figure:
    """Bar chart of the indices of one outcome, parameters ranked by importance."""
    indices = analysis["outcomes"][field]
    sobol = analysis["method"] == "sobol"
    key = "ST" if sobol else "mu_star"
    ranked = sorted(indices.items(), key=lambda kv: kv[1][key])
    names = [n for n, _ in ranked]
    fig = Figure(figsize=(8, 1.2 + 0.45 * len(names)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    if sobol:
        ax.barh(
            y + 0.2,
            [i["ST"] for _, i in ranked],
            0.4,
            xerr=[i["ST_conf"] for _, i in ranked],
            color="#0072B2",
            label="total effect ST",
        )
        ax.barh(
            y - 0.2,
            [i["S1"] for _, i in ranked],
            0.4,
            xerr=[i["S1_conf"] for _, i in ranked],
            color="#E69F00",
            label="first order S1",
        )
        ax.set_xlabel("share of the outcome's variance across the sample")
        ax.legend(loc="lower right", frameon=False)
    else:
        ax.barh(
            y,
            [i["mu_star"] for _, i in ranked],
            0.6,
            xerr=[i["mu_star_conf"] for _, i in ranked],
            color="#0072B2",
        )
        ax.set_xlabel(f"mean absolute elementary effect mu* (units of {field})")
    ax.set_yticks(y, names)
    ax.set_title(
        f"Which parameters drive {field}?\n{title} · {analysis['points']} points x "
        f"{analysis['replications_per_point']} replications"
    )
    return fig


def write(results: Results, analysis: dict[str, Any]) -> list[Path]:
    """Save the analysis as JSON and Markdown, and one figure per outcome, in the run folder."""
    folder = results.path
    atomic_write_text(folder / "sensitivity.json", json.dumps(analysis, indent=2) + "\n")
    atomic_write_text(folder / "sensitivity.md", markdown(analysis, results.name))
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    written = []
    for field, indices in analysis["outcomes"].items():
        if "constant" in indices:
            continue
        path = plots / f"sensitivity_{field}.png"
        figure(analysis, field, results.name).savefig(path, dpi=150)
        written.append(path)
    return written
