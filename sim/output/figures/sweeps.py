"""Figures of sweeps: heat maps of two-parameter grids, outcome against each input of a sampled
design with its partial dependence, and the PRIM boxes of scenario discovery."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.analysis import formatting as fmt
from sim.analysis import measures, sweeps
from sim.analysis.labels import sentence
from sim.analysis.results import Results
from sim.output import style
from sim.scenario.errors import WargameError


def _cell_text(value: float, low: float, high: float, outcome: sweeps.Outcome) -> str:
    if outcome.is_probability:
        return f"{fmt.percent(value)}\n{fmt.percent_interval(low, high)}"
    return f"{fmt.number(value)}\n{fmt.interval(low, high)}"


def _diff_text(row: Any, outcome: sweeps.Outcome) -> str:
    if outcome.is_probability:
        value = fmt.points(row["difference"])
        band = f"{fmt.points(row['difference_low'])} to {fmt.points(row['difference_high'])}"
    else:
        value = fmt.number(row["difference"], sign=True)
        band = fmt.interval(row["difference_low"], row["difference_high"], sign=True)
    return f"{value}\n{band}"


@style.styled
def heatmap_figure(results: Results, expression: str) -> Figure:
    """A two-parameter grid: the outcome in each cell, and its paired difference from the
    reference cell (the first point), each with its 95 % interval."""
    parameters = sweeps.grid_parameters(results)
    if parameters is None:
        raise WargameError("a heat map needs a full grid over exactly two parameters")
    outcome = sweeps.evaluate(results, expression)
    table = sweeps.per_point(results, outcome)
    words = results.labels
    xs = sorted(table[parameters[0]].unique())
    ys = sorted(table[parameters[1]].unique())
    figure = style.frame(4.0 + 2.6 * len(xs), 2.4 + 1.1 * len(ys))
    left, right = figure.subplots(1, 2)
    reference = table.loc[table["point"].idxmin()]
    for ax, column, cmap in ((left, "estimate", "cividis"), (right, "difference", "RdBu_r")):
        grid = np.full((len(ys), len(xs)), np.nan)
        for _, row in table.iterrows():
            grid[ys.index(row[parameters[1]]), xs.index(row[parameters[0]])] = row[column]
        if column == "difference":
            span = max(float(np.nanmax(np.abs(grid))), 1e-12)
            image = ax.imshow(grid, cmap=cmap, vmin=-span, vmax=span, origin="lower")
        else:
            image = ax.imshow(grid, cmap=cmap, origin="lower")
        for _, row in table.iterrows():
            i, j = ys.index(row[parameters[1]]), xs.index(row[parameters[0]])
            if column == "estimate":
                text = _cell_text(row["estimate"], row["low"], row["high"], outcome)
            elif row["point"] == reference["point"]:
                text = "reference"
            else:
                text = _diff_text(row, outcome)
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white",
                    bbox={"facecolor": "black", "alpha": 0.35, "lw": 0, "pad": 1.5})  # fmt: skip
        ax.set_xticks(range(len(xs)), [fmt.value(x) for x in xs])
        ax.set_yticks(range(len(ys)), [fmt.value(y) for y in ys])
        ax.set_xlabel(words.parameter(parameters[0]))
        ax.set_ylabel(words.parameter(parameters[1]))
        bar = figure.colorbar(image, ax=ax, shrink=0.85)
        if outcome.is_probability:
            style.percent_axis(bar.ax.yaxis)
    left.set_title(outcome.words)
    right.set_title("difference from the reference cell (paired by replication)")
    caption = (
        "Left: the outcome in each cell with its 95 % interval "
        + ("(Wilson). " if outcome.is_probability else "(of the mean). ")
        + "Right: each cell minus the reference cell, paired by replication (common random "
        "numbers), with its 95 % interval"
        + (" in percentage points." if outcome.is_probability else ".")
    )
    question = f"How do the two swept parameters change this: {outcome.words}?"
    return style.finish(figure, question, measures.subtitle(results), caption)


@style.styled
def inputs_figure(results: Results, expression: str) -> Figure:
    """A sampled design: the outcome at each point against each input (dots), and the
    partial dependence (the mean over the points in bins of that input)."""
    if not results.parameters:
        raise WargameError("an inputs figure needs a sweep")
    outcome = sweeps.evaluate(results, expression)
    table = sweeps.per_point(results, outcome)
    words = results.labels
    count = len(results.parameters)
    rows, columns = style.grid(count, 3)
    figure = style.frame(1.5 + 3.6 * columns, 1.6 + 3.0 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    for ax, parameter in zip(axes.flat, results.parameters, strict=False):
        x = table[parameter].astype(float).to_numpy()
        estimate = table["estimate"]
        spread = [estimate - table["low"], table["high"] - estimate]
        ax.errorbar(
            x, estimate, yerr=spread, fmt="o", color=style.CRISIS, ecolor="#bbbbbb",
            markersize=4, elinewidth=0.8, label="one point (95 % interval)",
        )  # fmt: skip
        dependence = sweeps.partial_dependence(table, parameter)
        band = "10-90 % of points per bin"
        ax.fill_between(
            dependence["x"], dependence["low"], dependence["high"],
            color=style.INK, alpha=0.12, lw=0, label=band,
        )  # fmt: skip
        line = "partial dependence (bin mean)"
        ax.plot(dependence["x"], dependence["mean"], color=style.INK, linewidth=2, label=line)
        ax.set_xlabel(words.parameter(parameter))
        ax.grid(axis="y", zorder=0)
        if outcome.is_probability:
            style.percent_axis(ax.yaxis)
    style.hide_unused(axes, count)
    axes.flat[0].set_ylabel(outcome.words)
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=3)
    caption = (
        "Each dot is one sweep point (its runs pooled); the line is the mean over the points "
        "in each bin of that input, averaging over the other inputs of the design: how the "
        "outcome depends on this input alone. A flat line means the input matters little."
    )
    question = f"Which inputs move this outcome: {outcome.words}?"
    return style.finish(figure, question, measures.subtitle(results), caption)


@style.styled
def discovery_figure(found: dict[str, Any], name: str) -> Figure:
    """PRIM: the peeling trajectory of each box (coverage against density), the chosen peel,
    and the feature scores of the inputs."""
    figure = style.frame(11.0, 4.4)
    left, right = figure.subplots(1, 2, width_ratios=[1.3, 1])
    colours = style.SERIES
    for number, box in enumerate(found["boxes"]):
        peels = box["peeling"]
        coverage = [p["coverage"] for p in peels]
        density = [p["density"] for p in peels]
        colour = colours[number % len(colours)]
        left.plot(coverage, density, "-o", color=colour, markersize=3, label=f"box {number + 1}")
        chosen = peels[box["chosen"]]
        left.plot(chosen["coverage"], chosen["density"], "D", color=style.INK, markersize=7)
    left.axhline(found["base_rate"], color=style.MUTED, linestyle=":", label="base rate")
    left.set_xlabel("coverage: share of all cases of interest inside the box")
    left.set_ylabel("density: share of runs inside the box with the outcome")
    style.percent_axis(left.xaxis)
    style.percent_axis(left.yaxis)
    left.legend(loc="lower left")
    left.grid(zorder=0)
    scores = sorted(found["feature_scores"].items(), key=lambda item: item[1])
    names = found.get("input_words", {})
    right.barh([names.get(n, n) for n, _ in scores], [s for _, s in scores], color=style.CRISIS)
    right.set_xlabel("feature score (extra trees; sums to 1)")
    right.set_title("Which inputs tell most about the outcome")
    words = "; ".join(f"box {i + 1}: {b['words']}" for i, b in enumerate(found["boxes"]))
    caption = (
        "PRIM peels the input space towards higher density at the cost of coverage; the "
        "diamond marks the peel reported. " + (words or "No box denser than the base rate.")
    )
    subtitle = f"Scenario: {name} · n = {fmt.count(found['n'])} replications"
    question = f"When does this happen: {found['outcome_words']}?"
    return style.finish(figure, question, subtitle, caption)


@style.styled
def sensitivity_figure(analysis: dict[str, Any], field: str, name: str, words: Any) -> Figure:
    """Sobol indices (or Morris mu*) of one outcome with their bootstrap intervals, ranked; a
    design too small for stable indices says so in the title."""
    indices = analysis["outcomes"][field]
    sobol = analysis["method"] == "sobol"
    key = "ST" if sobol else "mu_star"
    ranked = sorted(indices.items(), key=lambda kv: kv[1][key])
    labels = [words.parameter(n) for n, _ in ranked]
    figure = style.frame(8.5, 1.4 + 0.45 * len(labels))
    ax = figure.add_subplot()
    y = np.arange(len(labels))
    bars = [("ST", "total effect ST", style.OKABE_ITO["blue"], 0.2)]
    bars += [("S1", "first order S1", style.OKABE_ITO["orange"], -0.2)]
    for index, label, colour, offset in bars if sobol else [("mu_star", "mu*", style.CRISIS, 0)]:
        values = np.array([i[index] for _, i in ranked])
        half = np.array([i[f"{index}_conf"] for _, i in ranked])
        ax.barh(y + offset, values, 0.4 if sobol else 0.6, color=colour, label=label, zorder=2)
        ax.errorbar(values, y + offset, xerr=half, fmt="none", ecolor=style.INK, capsize=3)
    if sobol:
        ax.axvline(0, color=style.INK, linewidth=0.8)
        ax.axvline(1, color=style.MUTED, linewidth=0.8, linestyle=":")
        ax.set_xlabel("share of the variance of the point means (indices outside 0-1 are noise)")
        ax.legend(loc="lower right")
    else:
        ax.set_xlabel(f"mean absolute elementary effect mu* ({words.axis(field)})")
    ax.set_yticks(y, labels)
    ax.grid(axis="x", zorder=0)
    own = f"{sentence(words.outcome(field))}:"
    unstable = [w for w in analysis.get("warnings", []) if w.startswith(own) or "base" in w]
    caption = "Bars: the index; error bars: its 95 % bootstrap interval."
    if unstable:
        caption = "WARNING: the design is too small for stable indices: " + "; ".join(unstable)
    question = f"Which parameters drive this: {words.outcome(field)}?"
    subtitle = (
        f"Scenario: {name} · {analysis['method']} design, {analysis['points']} points × "
        f"{fmt.count(analysis['replications_per_point'])} replications"
    )
    return style.finish(figure, question, subtitle, caption)
