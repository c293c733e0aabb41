"""Histograms as inline SVG (for the web pages) and as text bars (for the terminal).

Inline SVG needs no plotting backend and no files, renders on phones and projectors, and
prints. The class's own value is drawn in a second colour so it stands out in the distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

BAR = "#5b7fa6"
MARK = "#d9822b"


@dataclass(frozen=True)
class Histogram:
    """Counts per bin, and which bin holds the class's value (if any)."""

    title: str
    labels: list[str]
    counts: list[int]
    marked: int | None = None

    @property
    def total(self) -> int:
        return int(sum(self.counts))


def histogram(
    title: str, values: np.ndarray, marker: float | None = None, bins: int = 12
) -> Histogram:
    """Integers over a short range get one bar each; other values are binned."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return Histogram(title, [], [], None)
    whole = np.all(np.equal(np.mod(values, 1), 0))
    low, high = float(values.min()), float(values.max())
    if marker is not None:
        low, high = min(low, marker), max(high, marker)
    if whole and high - low <= 24:
        edges = np.arange(low, high + 1)
        counts = [int(np.sum(values == e)) for e in edges]
        labels = [f"{e:g}" for e in edges]
        marked = None if marker is None else int(round(marker - low))
        return Histogram(title, labels, counts, marked)
    if high == low:
        high = low + 1.0
    counts_arr, edge_arr = np.histogram(values, bins=bins, range=(low, high))
    labels = [f"{edge_arr[i]:.3g}" for i in range(bins)]
    marked = None
    if marker is not None:
        marked = int(min(bins - 1, np.searchsorted(edge_arr, marker, side="right") - 1))
    return Histogram(title, labels, [int(c) for c in counts_arr], marked)


def categories(title: str, labels: list[str], values: list[str], marker: str | None = None):
    """A bar per category (end states, say), in the order given."""
    counts = [sum(1 for v in values if v == label) for label in labels]
    marked = labels.index(marker) if marker in labels else None
    return Histogram(title, [label.replace("_", " ") for label in labels], counts, marked)


def svg(chart: Histogram, width: int = 420, height: int = 170, note: str = "class") -> str:
    """The histogram as an inline SVG element with a title and axis labels."""
    top, bottom, left = 22, 34, 8
    plot_h = height - top - bottom
    n = max(1, len(chart.counts))
    slot = (width - 2 * left) / n
    peak = max(chart.counts or [1]) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="14" font-size="13" font-weight="bold">{escape(chart.title)}</text>',
    ]
    step = max(1, int(np.ceil(n / 12)))
    for i, (label, count) in enumerate(zip(chart.labels, chart.counts, strict=True)):
        bar_h = plot_h * count / peak
        x = left + i * slot + 1
        y = top + plot_h - bar_h
        colour = MARK if i == chart.marked else BAR
        share = 100.0 * count / chart.total if chart.total else 0.0
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)}: {count} '
            f"({share:.0f} %)</title></rect>"
        )
        if i % step == 0:
            parts.append(
                f'<text x="{x + slot / 2 - 1:.1f}" y="{top + plot_h + 13}" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        if i == chart.marked:
            parts.append(
                f'<text x="{x + slot / 2 - 1:.1f}" y="{max(top + 9, y - 3):.1f}" '
                f'font-size="10" text-anchor="middle" fill="{MARK}">{escape(note)}</text>'
            )
    parts.append(
        f'<text x="{width - left}" y="{height - 4}" font-size="10" text-anchor="end">'
        f"{chart.total:,} simulated games</text></svg>"
    )
    return "".join(parts)


def text(chart: Histogram, width: int = 32, note: str = "class") -> list[str]:
    """The histogram as lines of text bars for the terminal."""
    lines = [chart.title]
    peak = max(chart.counts or [1]) or 1
    label_width = max((len(label) for label in chart.labels), default=1)
    for i, (label, count) in enumerate(zip(chart.labels, chart.counts, strict=True)):
        bar = "#" * int(round(width * count / peak))
        share = 100.0 * count / chart.total if chart.total else 0.0
        mark = f"  <- {note}" if i == chart.marked else ""
        lines.append(f"  {label:>{label_width}} | {bar:<{width}} {share:4.0f} %{mark}")
    return lines
