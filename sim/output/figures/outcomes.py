"""Figures of outcomes at the end of a crisis: histograms and shares of every outcome field,
how and when the crisis ends, the key probabilities and the comparison of two runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis import formatting as fmt
from sim.analysis import measures, stats
from sim.analysis.labels import Labels, readable
from sim.analysis.measures import INTERVAL, Point
from sim.analysis.results import Results
from sim.output import style
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    pass


@style.styled
def outcome_figure(results: Results, field_name: str) -> Figure:
    """Histogram (bars for booleans, categories and ladders) of one outcome field.

    For a sweep or scenario list: shares per point with Wilson intervals, or box plots of
    numeric fields, one row per point.
    """
    if field_name not in results.outcomes.columns:
        raise WargameError(
            f"{field_name}: not an outcome of this run (fields: {', '.join(results.fields)})"
        )
    words = results.labels
    series = results.outcomes[field_name]
    kind = measures.field_kind(series, field_name)
    points = measures.points_of(results)
    if len(points) == 1:
        return _outcome_single(results, words, field_name, kind)
    return _outcome_points(results, words, field_name, kind, points)


def _outcome_single(results: Results, words: Labels, field_name: str, kind: str) -> Figure:
    question, label = words.question(field_name), words.axis(field_name)
    series = results.outcomes[field_name]
    colour = style.field_colour(field_name)
    n = int(series.notna().sum())
    subtitle = measures.subtitle(results, n)
    if kind in ("escalation", "support", "boolean", "categorical"):
        shares = measures.shares(series, kind, field_name, words)
        figure = style.frame(7.5, 1.9 + 0.36 * len(shares.labels))
        ax = figure.add_subplot()
        style.bar_panel(ax, shares, colour, bottom_up=kind in ("escalation", "support"))
        ax.set_xlabel("share of replications (%)")
        ax.set_ylabel(label)
        if kind == "escalation" and 0 < words.war_threshold < len(shares.labels):
            ax.axhline(words.war_threshold - 0.5, color=style.MUTED, linestyle=":", linewidth=1)
            ax.text(
                ax.get_xlim()[1], words.war_threshold - 0.45, "war from here up ",
                ha="right", va="bottom", fontsize=8, color=style.MUTED,
            )  # fmt: skip
        caption = f"Bars: share of the {n:,} replications; error bars: {INTERVAL}."
        return style.finish(figure, question, subtitle, caption)
    values = series.dropna().to_numpy(dtype=float)
    figure = style.frame(7.5, 4.2)
    ax = figure.add_subplot()
    ax.set_xlabel(label)
    ax.set_ylabel("share of replications (%)")
    style.percent_axis(ax.yaxis)
    ax.grid(axis="y", zorder=0)
    if values.size == 0:
        ax.text(0.5, 0.5, "no replication has a value", ha="center", transform=ax.transAxes)
        return style.finish(figure, question, subtitle, "No values to show.")
    if np.ptp(values) == 0:
        value = float(values[0])
        ax.bar([value], [1.0], width=max(abs(value) * 0.004, 0.004), color=colour, zorder=2)
        ax.set_xlim(value - max(abs(value) * 0.1, 0.1), value + max(abs(value) * 0.1, 0.1))
        ax.set_ylim(0, 1.08)
        ax.annotate(
            f"all {n:,} replications: {fmt.number(value)}", (value, 1.0), xytext=(0, 4),
            textcoords="offset points", ha="center", va="bottom", fontsize=9, color=style.INK,
        )  # fmt: skip
        caption = f"Every one of the {n:,} replications has the same value, {fmt.number(value)}."
        return style.finish(figure, question, subtitle, caption)
    if kind == "count":
        lo, hi = int(values.min()), int(values.max())
        counts = np.bincount((values - lo).astype(int), minlength=hi - lo + 1)
        ax.bar(np.arange(lo, hi + 1), counts / n, width=0.8, color=colour, zorder=2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        bars = "one bar per value"
    else:
        edges = np.histogram_bin_edges(values, bins="auto")
        if len(edges) > 41:
            edges = np.histogram_bin_edges(values, bins=40)
        ax.hist(values, bins=edges, weights=np.full(n, 1.0 / n), color=colour, zorder=2)
        bars = f"{len(edges) - 1} bins"
    mean, median = float(values.mean()), float(np.median(values))
    ci = stats.numeric_summary(values)["ci"]
    ax.axvline(median, color=style.INK, linewidth=1.4, label=f"median {fmt.number(median)}")
    ax.axvline(
        mean,
        color=style.INK,
        linewidth=1.4,
        linestyle="--",
        label=f"mean {fmt.number(mean)} (95 % CI {fmt.number(ci[0])} to {fmt.number(ci[1])})",
    )
    if field_name == "iran_min_stability" and words.collapse_threshold is not None:
        ax.axvline(words.collapse_threshold, color=style.RUSSIA, linestyle=":", linewidth=1.4)
        ax.text(
            words.collapse_threshold, 0.98, " regime collapse below",
            transform=ax.get_xaxis_transform(), va="top", fontsize=8, color=style.RUSSIA,
        )  # fmt: skip
    ax.legend(loc="best")
    q05, q95 = np.quantile(values, [0.05, 0.95])
    caption = (
        f"Histogram of the {n:,} replications ({bars}); 90 % of them lie between "
        f"{fmt.number(q05)} and {fmt.number(q95)}."
    )
    return style.finish(figure, question, subtitle, caption)


def _outcome_points(
    results: Results, words: Labels, field_name: str, kind: str, points: list[Point]
) -> Figure:
    question, label = words.question(field_name), words.axis(field_name)
    colour = style.field_colour(field_name)
    labels = [p.label for p in points]
    lines = style.label_lines(labels)
    row = 0.3 * lines + 0.12
    subtitle = measures.subtitle(results)
    if kind == "boolean":
        estimates, intervals = measures.point_shares(points, lambda f: f[field_name].astype(bool))
        figure = style.frame(7.5, 1.9 + row * len(points))
        ax = figure.add_subplot()
        style.forest(ax, estimates, intervals, colour)
        style.forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_xlabel(f"share of replications in which: {label} (%)")
        caption = f"Dots: share of replications at each point; bars: {INTERVAL}."
        return style.finish(figure, question, subtitle, caption)
    if kind in ("escalation", "support", "categorical"):
        return _categorical_points(results, words, field_name, kind, points, question, label)
    figure = style.frame(7.5, 1.9 + row * len(points))
    ax = figure.add_subplot()
    style.box_rows(ax, [p.frame[field_name].dropna().to_numpy(dtype=float) for p in points], colour)
    ax.set_yticks(np.arange(len(points)), labels)
    ax.set_ylim(len(points) - 0.5, -0.5)
    ax.set_xlabel(label)
    ax.grid(axis="x", zorder=0)
    caption = (
        "Box: middle 50 % of replications, whiskers: 5th-95th percentile, line: median, "
        "diamond: mean with its 95 % t-interval."
    )
    return style.finish(figure, question, subtitle, caption)


def _categorical_points(
    results: Results,
    words: Labels,
    field_name: str,
    kind: str,
    points: list[Point],
    question: str,
    label: str,
) -> Figure:
    """One panel per category (rung), one row per point: the share with its interval."""
    colour = style.field_colour(field_name)
    pooled = results.outcomes[field_name]
    all_shares = [measures.shares(p.frame[field_name], kind, field_name, words) for p in points]
    categories = measures.shares(pooled, kind, field_name, words).labels
    counts = np.array([s.counts[: len(categories)] for s in all_shares])
    keep = [i for i in range(len(categories)) if counts[:, i].sum() > 0]
    dropped = [categories[i] for i in range(len(categories)) if i not in keep]
    if kind in ("escalation", "support"):
        keep = keep[::-1]  # highest rung first: the eye reads the worst case first
    labels = [p.label for p in points]
    rows, columns = style.grid(len(keep), 5)
    row = 0.3 * style.label_lines(labels) + 0.12
    figure = style.frame(2.2 + 2.5 * columns, 1.3 + rows * (0.9 + row * len(points)))
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    for ax, index in zip(axes.flat, keep, strict=False):
        estimates = np.array([s.p[index] for s in all_shares])
        intervals = np.array([s.ci[index] for s in all_shares]).reshape(-1, 2)
        style.forest(ax, estimates, intervals, colour)
        style.forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_title(categories[index])
    style.hide_unused(axes, len(keep))
    figure.supxlabel("share of replications (%)", fontsize=10)
    caption = (
        f"Panels: {label}; dots: share of replications at each point; bars: {INTERVAL}. "
        "Each panel has its own horizontal scale."
        + (f" Never observed at any point: {', '.join(dropped)}." if dropped else "")
    )
    return style.finish(figure, question, measures.subtitle(results), caption)


@style.styled
def end_states_figure(results: Results) -> Figure:
    """How each replication ends (settlement, ceasefire, regime collapse, horizon) and when."""
    words = results.labels
    if "end_state" not in results.outcomes.columns:
        raise WargameError("no end_state in this run's outcomes")
    points = measures.points_of(results)
    question = "How and when does the crisis end?"
    if len(points) > 1:
        figure = _categorical_points(
            results, words, "end_state", "categorical", points, question, "end state"
        )
        return figure
    frame = results.outcomes
    shares = measures.shares(frame["end_state"], "categorical", "end_state", words)
    n = shares.n
    colours = dict(
        zip(
            measures.END_STATES,
            (style.IRAN, style.CRISIS, style.RUSSIA, style.OKABE_ITO["orange"]),
            strict=True,
        )
    )
    figure = style.frame(11.0, 4.3)
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.35])
    style.bar_panel(left, shares, style.MUTED, bottom_up=False)
    names = measures.categories(frame["end_state"], "end_state", words)
    for patch, name in zip(left.patches, names, strict=False):
        patch.set_facecolor(colours.get(name, style.MUTED))
    left.set_xlabel("share of replications (%)")
    left.set_ylabel("end state")
    left.set_title("How it ends")
    if "end_turn" in frame.columns:
        turns = frame["end_turn"].astype(int)
        horizon = int(turns.max())
        bottom = np.zeros(horizon + 1)
        for name in measures.categories(frame["end_state"], "end_state", words):
            mask = frame["end_state"].astype(str) == name
            counts = np.bincount(turns[mask], minlength=horizon + 1) / n
            if counts.sum() == 0:
                continue
            right.bar(
                np.arange(horizon + 1), counts, bottom=bottom, width=0.85,
                color=colours.get(name, style.MUTED), label=readable(name), zorder=2,
            )  # fmt: skip
            bottom += counts
        right.set_xlabel(f"turn the replication ended (1 turn = {words.turn_days:g} days)")
        right.set_ylabel("share of replications (%)")
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        style.percent_axis(right.yaxis)
        right.grid(axis="y", zorder=0)
        right.legend(loc="upper left")
        right.set_title("When it ends")
    caption = (
        f"Left: share of the {n:,} replications per end state with {INTERVAL}. Right: the turn "
        "each replication ended, stacked by end state; 'horizon' means the crisis was still "
        "running at the last turn."
    )
    return style.finish(figure, question, measures.subtitle(results, n), caption)


_GROUP_COLOURS = {
    "crisis": style.CRISIS,
    "iran": style.IRAN,
    "russia": style.RUSSIA,
    "china": style.CHINA,
}


@style.styled
def key_probabilities_figure(results: Results) -> Figure:
    """Can Iran rely on Russia and China? Headline probabilities with Wilson intervals."""
    table = measures.key_probabilities(results)
    if table.empty:
        raise WargameError("none of the headline outcomes are in this run's outcomes")
    events = list(dict.fromkeys(table["event"]))
    groups = table.drop_duplicates("event").set_index("event")["group"]
    question = "Can Iran rely on Russia and China? Key probabilities"
    if table["point"].nunique() == 1:
        figure = style.frame(8.5, 1.8 + 0.36 * len(events))
        ax = figure.add_subplot()
        shares = measures.Shares(events, table["k"].to_numpy(), int(table["n"].iloc[0]))
        style.bar_panel(ax, shares, style.CRISIS, bottom_up=False)
        for patch, event in zip(ax.patches, events, strict=False):
            patch.set_facecolor(_GROUP_COLOURS.get(groups[event], style.CRISIS))
        ax.set_xlabel("probability over replications (%)")
        caption = (
            f"Share of the {shares.n:,} replications in which each event happened, with "
            f"{INTERVAL}. Support levels are the highest reached at any turn, overt or covert."
        )
        return style.finish(figure, question, measures.subtitle(results), caption)
    labels = list(dict.fromkeys(table.sort_values("point")["label"]))
    rows, columns = style.grid(len(events), 4)
    row = 0.3 * style.label_lines(labels) + 0.12
    figure = style.frame(2.2 + 2.5 * columns, 1.3 + rows * (0.9 + row * len(labels)))
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    for ax, event in zip(axes.flat, events, strict=False):
        part = table[table["event"] == event].sort_values("point")
        intervals = part[["ci_low", "ci_high"]].to_numpy(dtype=float)
        colour = _GROUP_COLOURS.get(groups[event], style.CRISIS)
        style.forest(ax, part["p"].to_numpy(dtype=float), intervals, colour)
        style.forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_title(event, fontsize=9.5)
    style.hide_unused(axes, len(events))
    figure.supxlabel("probability over replications (%)", fontsize=10)
    caption = (
        f"Dots: share of replications at each point in which the event happened; bars: "
        f"{INTERVAL}. Support levels are the highest reached at any turn, overt or covert."
    )
    return style.finish(figure, question, measures.subtitle(results), caption)


@style.styled
def comparison_figure(reference: Results, other: Results) -> Figure:
    """Other minus reference for every outcome, with 95 % intervals (paired when seeds agree)."""
    table = reference.compare(other)
    if table.empty:
        raise WargameError("the two runs share no numeric or boolean outcomes")
    kinds = {f: stats.field_kind(reference.outcomes[f]) for f in table["field"]}
    probability = table[[kinds[f] == "proportion" for f in table["field"]]]
    numeric = table[[kinds[f] == "numeric" for f in table["field"]]].copy()
    numeric = numeric[numeric["mean_a"].abs() > 1e-12]
    panels = [(probability, "proportion"), (numeric, "numeric")]
    panels = [(part, kind) for part, kind in panels if not part.empty]
    heights = [len(part) for part, _ in panels]
    figure = style.frame(9.0, 1.9 + 0.32 * sum(heights) + 0.8 * len(panels))
    axes = np.atleast_1d(figure.subplots(len(panels), 1, height_ratios=heights, squeeze=False))
    for ax, (part, kind) in zip(axes.flat, panels, strict=True):
        scale = 100.0 if kind == "proportion" else 100.0 / part["mean_a"].abs().to_numpy()
        diff = part["difference"].to_numpy(dtype=float) * scale
        ci = np.array([list(c) for c in part["ci"]], dtype=float) * np.c_[scale, scale]
        y = np.arange(len(part))
        colours = [style.field_colour(f) for f in part["field"]]
        for yi, d, (lo, hi), colour in zip(y, diff, ci, colours, strict=True):
            ax.errorbar(d, yi, xerr=[[d - lo], [hi - d]], fmt="o", color=colour, capsize=3)
        ax.axvline(0, color=style.INK, linewidth=1)
        ax.set_yticks(y, [readable(f) for f in part["field"]])
        ax.set_ylim(len(y) - 0.5, -0.5)
        ax.grid(axis="x", zorder=0)
        ax.set_xlabel(
            "difference in probability (percentage points)"
            if kind == "proportion"
            else "difference in the mean (% of the reference mean)"
        )
    paired = bool(table["paired"].iloc[0])
    how = "paired by replication (same master seed)" if paired else "independent samples"
    subtitle = (
        f"Scenarios: {other.name} minus {reference.name} · n = {len(other.outcomes):,} and "
        f"{len(reference.outcomes):,} replications"
    )
    caption = f"Dots: difference; bars: 95 % intervals, {how}."
    return style.finish(
        figure, f"What changes in {other.name} compared with {reference.name}?", subtitle, caption
    )
