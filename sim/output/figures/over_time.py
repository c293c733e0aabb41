"""Figures over time: fan charts and stacked rung distributions per turn, time to first event."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis import measures
from sim.analysis.labels import Labels, rung_label
from sim.analysis.measures import INTERVAL
from sim.analysis.results import Results
from sim.output import style
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


_ORDINAL_QUESTIONS = {
    "escalation": "How does escalation unfold over time? Share of runs on each rung",
    "hormuz": "Is the Strait of Hormuz open over time? Share of runs in each state",
}


@style.styled
def rung_shares_figure(results: Results, variable: str = "escalation") -> Figure:
    """Stacked shares of each rung (or state) per turn: the whole distribution, even a bimodal
    one that a median and bands would hide. One panel per sweep point."""
    words = results.labels
    frame = measures.trajectories(results)
    if variable not in frame.columns:
        raise WargameError(f"{variable}: not a trajectory variable of this run")
    levels = measures.ordinal_levels(variable, words)
    if variable.endswith("_support"):
        question = f"{words.trajectory(variable)[0]} Share of runs on each rung"
    else:
        question = _ORDINAL_QUESTIONS[variable]
    points = measures.points_of(results, frame)
    single = len(points) == 1
    rows, columns = style.grid(len(points), 3)
    if single:
        figure = style.frame(9.0, 4.8)
        axes = np.array([[figure.add_subplot()]])
    else:
        figure = style.frame(2.6 + 3.3 * columns, 1.6 + 2.8 * rows)
        axes = np.atleast_1d(
            figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        )
    colours = style.level_colours(len(levels))
    reps = 0
    for ax, point in zip(axes.flat, points, strict=False):
        shares = measures.rung_shares(point.frame, variable, len(levels))
        turns = shares.index.to_numpy()
        used = list(range(len(levels)))  # every rung in the legend, reached or not
        ax.stackplot(
            turns,
            *(shares[i].to_numpy() for i in used),
            labels=[levels[i] for i in used],
            colors=[colours[i] for i in used],
            step=None,
            linewidth=0,
        )
        if variable == "escalation":
            war = shares[[i for i in used if i >= words.war_threshold]].sum(axis=1)
            ax.plot(
                turns, 1 - war, color=style.INK, linewidth=1.4, linestyle="--", label="above: war"
            )
        ax.set_ylim(0, 1)
        ax.set_xlim(turns.min(), turns.max())
        style.percent_axis(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        reps += point.frame["replication"].nunique()
        if not single:
            ax.set_title(point.label, fontsize=9.5)
    style.hide_unused(axes, len(points))
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles[::-1], names[::-1], loc="outside right upper", title="top rung first")
    xlabel = f"turn (1 turn = {words.turn_days:g} days; 0 = start)"
    ylabel = "share of replications (%)"
    if single:
        axes.flat[0].set_xlabel(xlabel)
        axes.flat[0].set_ylabel(ylabel)
    else:
        figure.supxlabel(xlabel, fontsize=10)
        figure.supylabel(ylabel, fontsize=10)
    caption = (
        "Each band is the share of replications on that level at each turn; replications that "
        "ended stay at their final level (carried forward). Reading the bands rather than a "
        "median shows a split outcome: runs that calm down and runs that go to war."
        + (" Above the dashed line: runs at war." if variable == "escalation" else "")
    )
    subtitle = measures.subtitle(results, reps, "replications with trajectories")
    return style.finish(figure, question, subtitle, caption)


@style.styled
def fan_figure(results: Results, variable: str = "escalation", active_only: bool = False) -> Figure:
    """Median with 50 % and 90 % bands of a trajectory variable over turns.

    Replications that ended keep their final state (carried forward) unless `active_only`,
    which restricts each turn to the replications still running.
    """
    words = results.labels
    frame = measures.trajectories(results)
    if variable not in frame.columns or variable in ("point", "turn", "replication", "active"):
        numeric = [
            c
            for c in frame.columns
            if c not in ("point", "turn", "replication", "active", *results.parameters)
            and pd.api.types.is_numeric_dtype(frame[c])
        ]
        raise WargameError(f"{variable}: not a trajectory variable (one of {', '.join(numeric)})")
    if active_only and "active" in frame.columns:
        frame = frame[frame["active"]]
    question, label = words.trajectory(variable)
    points = measures.points_of(results, frame)
    single = len(points) == 1
    rows, columns = style.grid(len(points), 3)
    show_active = single and not active_only and "active" in frame.columns
    if single:
        figure = style.frame(8.5, 5.4 if show_active else 4.4)
        if show_active:
            main, under = figure.subplots(2, 1, sharex=True, height_ratios=[4, 1])
        else:
            main, under = figure.add_subplot(), None
        axes = np.array([[main]])
    else:
        figure = style.frame(2.0 + 3.3 * columns, 1.4 + 2.7 * rows)
        axes = np.atleast_1d(
            figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        )
        under = None
    colour = style.RUSSIA if variable.startswith("russia") else style.OKABE_ITO["blue"]
    reps = 0
    for ax, point in zip(axes.flat, points, strict=False):
        values = point.frame.astype({variable: float}).groupby("turn")[variable]
        q = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        turns = q.index.to_numpy()
        ax.fill_between(turns, q[0.05], q[0.95], color=colour, alpha=0.18, lw=0, label="90 % band")
        ax.fill_between(turns, q[0.25], q[0.75], color=colour, alpha=0.38, lw=0, label="50 % band")
        ax.plot(turns, q[0.5], color=colour, linewidth=2, label="median")
        ax.plot(turns, values.mean(), color=style.INK, linewidth=1, linestyle="--", label="mean")
        ax.grid(axis="y", zorder=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(turns.min(), turns.max())
        reps += point.frame["replication"].nunique()
        if not single:
            ax.set_title(point.label, fontsize=9.5)
        _fan_axis(ax, variable, words)
    style.hide_unused(axes, len(points))
    if single:
        axes.flat[0].set_ylabel(label)
        axes.flat[0].legend(loc="best", ncols=2)
    else:
        figure.supylabel(label, fontsize=10)
        handles, names = axes.flat[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside right upper")
    xlabel = f"turn (1 turn = {words.turn_days:g} days; 0 = start)"
    if under is not None:
        share = frame.groupby("turn")["active"].mean()
        under.fill_between(share.index, 0, share.to_numpy(), color=style.MUTED, alpha=0.35, lw=0)
        under.plot(share.index, share.to_numpy(), color=style.MUTED, linewidth=1.2)
        under.set_ylim(0, 1.05)
        under.set_ylabel("still running", fontsize=9)
        style.percent_axis(under.yaxis)
        under.set_xlabel(xlabel)
        under.grid(axis="y", zorder=0)
    elif single:
        axes.flat[0].set_xlabel(xlabel)
    else:
        figure.supxlabel(xlabel, fontsize=10)
    how = (
        "only replications still running at each turn"
        if active_only
        else "all replications, those that ended frozen at their final state (carried forward)"
    )
    caption = (
        f"Line: median over replications; dark band: middle 50 %; light band: middle 90 %; "
        f"dashed: mean. Bands use {how}"
        + ("; the lower panel shows the share still running." if under is not None else ".")
        + " Trajectories are kept for the first replications of each point."
    )
    subtitle = measures.subtitle(results, reps, "replications with trajectories")
    return style.finish(figure, question, subtitle, caption)


def _fan_axis(ax: Axes, variable: str, words: Labels) -> None:
    if variable == "escalation":
        ladder = words.escalation_ladder
        ax.set_yticks(range(len(ladder)), [rung_label(ladder, i) for i in range(len(ladder))])
        ax.set_ylim(-0.3, len(ladder) - 0.7)
        ax.axhline(words.war_threshold, color=style.MUTED, linestyle=":", linewidth=1)
    elif variable in ("russia_support", "china_support"):
        ladder = words.support_ladder
        ax.set_yticks(range(len(ladder)), [rung_label(ladder, i) for i in range(len(ladder))])
        ax.set_ylim(-0.3, len(ladder) - 0.7)
    elif variable == "hormuz":
        ax.set_yticks([0, 1, 2], ["open", "harassed", "closed"])
        ax.set_ylim(-0.2, 2.2)
    elif variable == "iran_stability" and words.collapse_threshold is not None:
        ax.axhline(words.collapse_threshold, color=style.RUSSIA, linestyle=":", linewidth=1.2)


@style.styled
def first_events_figure(results: Results) -> Figure:
    """Cumulative incidence of the first war turn, first covert support and Hormuz closure."""
    words = results.labels
    table = measures.first_event_turns(results)
    events = [c for c in table.columns if c not in ("point", "replication")]
    if not events:
        raise WargameError("the trajectories hold none of escalation, covert support or hormuz")
    frame = measures.trajectories(results)
    turns = np.arange(int(frame["turn"].min()), int(frame["turn"].max()) + 1)
    points = measures.points_of(results, table)
    single = len(points) == 1
    event_colours = [
        style.OKABE_ITO["vermillion"],
        style.OKABE_ITO["purple"],
        style.OKABE_ITO["blue"],
    ]
    if single:
        figure = style.frame(8.5, 4.6)
        panels = [figure.add_subplot()] * len(events)
    else:
        figure = style.frame(3.0 + 3.6 * len(events), 4.2 + 0.25 * len(points))
        panels = list(figure.subplots(1, len(events), sharey=True))
    colours = style.line_colours(len(points))
    bands = single or len(points) <= 3
    for e, (ax, event) in enumerate(zip(panels, events, strict=True)):
        for i, point in enumerate(points):
            first = point.frame[event].to_numpy(dtype=float)
            n = len(first)
            hits = np.array([(first <= t).sum() for t in turns])
            share = hits / n
            ci = np.array([measures.wilson(k, n) for k in hits]).reshape(-1, 2)
            colour = event_colours[e % len(event_colours)] if single else colours[i]
            name = event if single else point.label
            dash = "-" if len(points) <= len(style.SERIES) else ("-", "--", "-.", ":")[i % 4]
            ax.step(
                turns, share, where="post", color=colour, linestyle=dash, linewidth=2, label=name
            )
            if bands:
                ax.fill_between(
                    turns, ci[:, 0], ci[:, 1], step="post", color=colour, alpha=0.15, lw=0
                )
        ax.set_ylim(0, 1.02)
        style.percent_axis(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", zorder=0)
        ax.set_xlim(turns[0], turns[-1])
        if not single:
            ax.set_title(f"first {event}", fontsize=9.5)
    xlabel = f"turn (1 turn = {words.turn_days:g} days; 0 = start)"
    ylabel = "share of replications with the event by this turn (%)"
    if single:
        panels[0].set_xlabel(xlabel)
        panels[0].set_ylabel(ylabel)
        panels[0].legend(loc="upper left", title="first ...", alignment="left")
        secondary = panels[0].secondary_xaxis(
            "top", functions=(lambda t: t * words.turn_days, lambda d: d / words.turn_days)
        )
        secondary.set_xlabel("day of the crisis", fontsize=9)
    else:
        for ax in panels:
            ax.set_xlabel(xlabel)
        figure.supylabel(ylabel, fontsize=10)
        handles, names = panels[0].get_legend_handles_labels()
        figure.legend(
            handles, names, loc="outside lower center", ncols=min(3, len(points)), title="point"
        )
    n = int(table.shape[0])
    caption = (
        "Cumulative incidence: the share of replications in which the event has happened at "
        "least once by each turn (an ended replication can no longer add events). "
        + (f"Bands: {INTERVAL} per turn. " if bands else "")
        + "Computed from the replications with trajectories."
    )
    return style.finish(
        figure,
        "How soon do war, covert support and a Hormuz closure come?",
        measures.subtitle(results, n, "replications with trajectories"),
        caption,
    )
