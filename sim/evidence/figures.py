"""Figures of validation and calibration (matplotlib, Agg): they take the documents the other
modules produce and return figures; they compute no scores."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def reliability(document: dict):
    """Reliability of yes/no events (forecast probability of 'yes' against what happened) and
    the PIT histogram of numeric events."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    p_yes, happened = [], []
    pits = []
    for ep in document["episodes"].values():
        for r in ep["events"]:
            if r["kind"] == "binary":
                yes = r["observed"] == "true"
                p_yes.append(r["p"] if yes else 1 - r["p"])
                happened.append(1.0 if yes else 0.0)
            if "pit" in r:
                pits.append(r["pit"])
    p_yes, happened = np.array(p_yes), np.array(happened)
    bins = np.linspace(0, 1, 6)
    left.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
    if len(p_yes):
        index = np.clip(np.digitize(p_yes, bins) - 1, 0, len(bins) - 2)
        xs, ys, ns = [], [], []
        for b in range(len(bins) - 1):
            chosen = index == b
            if chosen.any():
                xs.append(p_yes[chosen].mean())
                ys.append(happened[chosen].mean())
                ns.append(int(chosen.sum()))
        left.plot(xs, ys, marker="o", color="C0", label="model")
        for x, y, n in zip(xs, ys, ns, strict=True):
            left.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        left.scatter(p_yes, happened, marker="|", color="C0", alpha=0.5)
    left.set(
        xlabel="forecast probability of 'yes'",
        ylabel="observed frequency",
        xlim=(0, 1),
        ylim=(-0.05, 1.05),
        title="Reliability, yes/no events",
    )
    left.legend(loc="upper left")
    right.hist(pits, bins=np.linspace(0, 1, 6), color="C1", edgecolor="white")
    right.set(
        xlabel="PIT of the observed value",
        ylabel="events",
        title="PIT, numeric events (flat = calibrated)",
    )
    fig.tight_layout()
    return fig


def per_episode(document: dict):
    """Brier score per episode for the model and the reference forecasters."""
    names = list(document["episodes"])
    series = {
        "model": [document["episodes"][n]["brier"] for n in names],
        "leave one out": [document["episodes"][n].get("loo_brier") for n in names],
        "prior": [document["episodes"][n].get("prior_brier") for n in names],
        "base rate": [document["episodes"][n].get("base_rate_brier") for n in names],
    }
    series = {k: v for k, v in series.items() if all(x is not None for x in v)}
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 2.0))
    height = 0.8 / max(len(series), 1)
    y = np.arange(len(names))
    for i, (label, values) in enumerate(series.items()):
        ax.barh(y + i * height, values, height=height, label=label)
    ax.set_yticks(y + height * (len(series) - 1) / 2, names)
    ax.invert_yaxis()
    ax.set(
        xlabel="mean Brier score of the observed events (lower is better)",
        title="Scores per episode",
    )
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4, frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def parameters(
    summary: dict, theta: np.ndarray, names: list[str], weights: np.ndarray, labels=None
):
    """Prior (the population) against posterior (reweighted) for each calibrated parameter,
    each named in words by `labels` (a `sim.analysis.labels.Labels`) when given."""
    count = len(names)
    cols = 3
    rows = int(np.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.6 * rows), squeeze=False)
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        values = theta[:, i]
        bins = np.linspace(values.min(), values.max(), 16)
        ax.hist(values, bins=bins, density=True, alpha=0.4, color="grey", label="prior")
        ax.hist(
            values,
            bins=bins,
            weights=weights,
            density=True,
            alpha=0.6,
            color="C0",
            label="posterior",
        )
        moved = " (moved)" if summary[name]["moved"] else ""
        words = labels.parameter(name) if labels is not None else name
        ax.set_title(words + moved, fontsize=8)
        ax.tick_params(labelsize=7)
    for j in range(count, rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    fig.savefig(path, dpi=110)
    plt.close(fig)
