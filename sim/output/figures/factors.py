"""Figures of the factors behind each great power's choices (diverging stacked bars)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim.analysis import measures
from sim.analysis.labels import readable
from sim.analysis.results import Results
from sim.output import style

if TYPE_CHECKING:
    pass


#: The same colour for the same factor in every chart; Russia's and China's analogous factors
#: share one (the other front: Ukraine / Taiwan; the economic stake: oil revenue / sanctions).
FACTOR_COLOUR = {
    "alignment_against_us": style.OKABE_ITO["orange"],
    "brics_sco_credibility": style.OKABE_ITO["sky_blue"],
    "gulf_ties": style.OKABE_ITO["green"],
    "escalation_risk": style.OKABE_ITO["yellow"],
    "ukraine_commitment": style.OKABE_ITO["blue"],
    "taiwan_focus": style.OKABE_ITO["blue"],
    "oil_revenue": style.OKABE_ITO["vermillion"],
    "secondary_sanctions_fear": style.OKABE_ITO["vermillion"],
    "regime_change_fear": style.OKABE_ITO["purple"],
    "energy_security": "#999999",
}


def _factor_colours(factors: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Fixed colours for known factors; others get unused palette colours, then hatching."""
    colours = {f: FACTOR_COLOUR[f] for f in factors if f in FACTOR_COLOUR}
    if len(set(colours.values())) < len(colours):  # two analogous factors in one chart
        colours = {}
    spare = [c for c in style.FACTOR_COLOURS if c not in colours.values()]
    hatches = {f: "" for f in factors}
    for i, factor in enumerate(f for f in factors if f not in colours):
        colours[factor] = spare[i % len(spare)] if spare else style.FACTOR_COLOURS[i % 8]
        if not spare or i >= len(spare):
            hatches[factor] = "//"
    return colours, hatches


@style.styled
def factors_figure(results: Results, actor: str = "russia", menu: str = "main") -> Figure:
    """Which factors pushed a power towards or away from each rung it chose (diverging bars)."""
    words = results.labels
    table = measures.factor_table(results, actor, menu)
    ladder = words.support_ladder
    levels = words.action_levels.get(actor, {})
    order = words.action_order.get(actor, [])
    actions = sorted(table.index, key=lambda a: measures.action_order(a, ladder, levels, order))
    factors = [
        c for c in table.columns if c not in ("count", "share") and table[c].abs().max() > 1e-12
    ]
    mean = table.loc[actions, factors]
    # factors with the largest overall pull first, so colours are stable across similar runs
    weight = table.loc[actions, "share"]
    factors = sorted(factors, key=lambda f: -float((mean[f].abs() * weight).sum()))
    colours, hatches = _factor_colours(factors)
    who = words.label(actor)
    figure = style.frame(10.5, 2.2 + 0.5 * len(actions))
    ax = figure.add_subplot()
    y = np.arange(len(actions))
    positive = np.zeros(len(actions))
    negative = np.zeros(len(actions))
    for factor in factors:
        values = mean[factor].to_numpy(dtype=float)
        up, down = np.clip(values, 0, None), np.clip(values, None, 0)
        ax.barh(
            y, up, left=positive, height=0.66, color=colours[factor], hatch=hatches[factor],
            edgecolor="white", linewidth=0.5, label=readable(factor), zorder=2,
        )  # fmt: skip
        ax.barh(
            y, down, left=negative, height=0.66, color=colours[factor], hatch=hatches[factor],
            edgecolor="white", linewidth=0.5, zorder=2,
        )  # fmt: skip
        positive += up
        negative += down
    net = mean.sum(axis=1).to_numpy(dtype=float)
    ax.plot(
        net, y, "D", color=style.OKABE_ITO["black"], markersize=6, label="net utility", zorder=4
    )
    ax.axvline(0, color=style.INK, linewidth=1)
    span = max(float(positive.max()), float(-negative.min()), 1e-9)
    ax.set_xlim(float(negative.min()) - 0.05 * span, float(positive.max()) + 0.42 * span)
    for yi, action in zip(y, actions, strict=True):
        count, share = int(table.loc[action, "count"]), float(table.loc[action, "share"])
        shown = f"{share:.1%}" if share >= 0.001 else "<0.1%"
        ax.annotate(
            f"chosen {count:,}× ({shown})", (max(positive[yi], net[yi]), yi), xytext=(8, 0),
            textcoords="offset points", va="center", fontsize=8, color=style.INK,
        )  # fmt: skip
    ax.set_yticks(y, [measures.action_label(a, ladder, levels) for a in actions])
    ax.set_ylim(-0.6, len(actions) - 0.4)
    ax.grid(axis="x", zorder=0)
    ax.set_xlabel(
        "mean contribution to the utility of the chosen action (utility units; "
        "< 0 pushed away, > 0 pushed towards)"
    )
    ax.set_ylabel(f"action {who} chose" + ("" if menu == "main" else f" ({readable(menu)})"))
    figure.legend(loc="outside right upper", title="factor", alignment="left")
    decisions = int(table["count"].sum())
    points = results.outcomes["point"].nunique()
    caption = (
        f"Each bar splits the utility of a chosen action into its factors (weight × loading × "
        f"state), averaged over the {decisions:,} decisions {who} made (one per turn and "
        "replication)"
        + (f", pooled over {points} points" if points > 1 else "")
        + ". Segments right of zero pushed towards that choice, left of zero away from it; "
        "the diamond is the net utility. Choices follow a logit rule, so compare actions with "
        "each other rather than reading utilities as absolute."
    )
    question = f"What pushed {who} towards or away from each level of support?"
    if menu != "main":
        question = f"What drove {who}'s choices on its {readable(menu)}?"
    return style.finish(figure, question, measures.subtitle(results), caption)
