"""Figures of the support Russia and China give Iran: the highest rung each reached."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim.analysis import formatting as fmt
from sim.analysis import measures
from sim.analysis.labels import rung_label
from sim.analysis.measures import INTERVAL
from sim.analysis.results import Results
from sim.output import style
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    pass


@style.styled
def support_ladder_figure(results: Results) -> Figure:
    """Russia's and China's highest support level side by side on the 0-7 ladder."""
    words = results.labels
    powers = [p for p in measures.GREAT_POWERS if f"{p}_max_support" in results.outcomes.columns]
    if not powers:
        raise WargameError("no great-power support levels in this run's outcomes")
    colours = {"russia": style.RUSSIA, "china": style.CHINA}
    points = measures.points_of(results)
    ladder = words.support_ladder
    top = max(len(ladder) - 1, *(int(results.outcomes[f"{p}_max_support"].max()) for p in powers))
    labels = [rung_label(ladder, i) for i in range(top + 1)]
    rows, columns = style.grid(len(points), 3)
    single = len(points) == 1
    width = 8.0 if single else 2.3 + 3.0 * columns
    height = 1.6 + rows * (0.36 * len(labels) + (0.5 if single else 0.8))
    figure = style.frame(width, height)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False))
    bar = 0.8 / len(powers)
    right = 0.0
    for ax, point in zip(axes.flat, points, strict=False):
        for i, power in enumerate(powers):
            values = point.frame[f"{power}_max_support"].dropna().astype(int).clip(lower=0)
            n = len(values)
            counts = np.bincount(values, minlength=top + 1)[: top + 1]
            p = counts / n
            ci = np.array([measures.wilson(k, n) for k in counts]).reshape(-1, 2)
            y = np.arange(top + 1) + (len(powers) - 1 - i - (len(powers) - 1) / 2) * bar
            ax.barh(
                y, p, height=bar * 0.92, color=colours[power], label=words.label(power), zorder=2
            )
            ax.errorbar(
                p, y, xerr=[p - ci[:, 0], ci[:, 1] - p], fmt="none", ecolor=style.INK,
                elinewidth=0.9, capsize=2,
            )  # fmt: skip
            right = max(right, float(np.nanmax(ci[:, 1])))
            if single:
                for yi, pi, hi in zip(y, p, ci[:, 1], strict=True):
                    ax.annotate(
                        fmt.percent(pi), (hi, yi), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7.5, color=style.INK,
                    )  # fmt: skip
        ax.set_yticks(np.arange(top + 1), labels)
        ax.grid(axis="x", zorder=0)
        if not single:
            ax.set_title(point.label, fontsize=9.5)
    for ax in axes.flat:
        limit = min(1.2, right * 1.22 + 0.03)
        ax.set_xlim(0, limit)
        style.percent_axis(ax.xaxis, top=limit)
        ax.set_ylim(-0.6, top + 0.6)
    axes.flat[0].set_xticks([t for t in axes.flat[0].get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    style.hide_unused(axes, len(points))
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside right upper")
    figure.supxlabel("share of replications reaching this level as their highest (%)", fontsize=10)
    figure.supylabel("highest support level in the crisis (0-7 ladder)", fontsize=10)
    caption = (
        "Highest rung each power reached at any turn, overt or covert; bars add up to 100 % "
        f"per power. Error bars: {INTERVAL}."
    )
    return style.finish(
        figure,
        "How far do Russia and China go to support Iran?",
        measures.subtitle(results),
        caption,
    )
