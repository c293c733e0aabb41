"""Histograms as inline SVG (for the web pages) and as text bars (for the terminal).

Inline SVG needs no plotting backend and no files, renders on phones and projectors, and
prints. Every chart has labelled axes: a student must be able to read it without help. The
class's own value is drawn in a second colour so it stands out in the distribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

import numpy as np

BAR = "#5b7fa6"
MARK = "#d9822b"
AXIS = "#5f6b7a"
PALETTE = ("#2f5d8a", "#b5412b", "#6b3fa0", "#2e7d4f", "#d9822b")


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


def categories(title: str, names: Mapping[str, str], values: list[str], marker: str | None = None):
    """A bar per category (end states, say), in the order of `names` (category -> its words);
    `marker` is a category."""
    order = list(names)
    counts = [sum(1 for v in values if v == category) for category in order]
    marked = order.index(marker) if marker in order else None
    return Histogram(title, list(names.values()), counts, marked)


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = np.ceil(low / step) * step
    return [float(v) for v in np.arange(first, high + step * 1e-9, step)]


def _top(peak: float) -> float:
    """The top of an axis: the first round tick at or above the peak."""
    ticks = _ticks(0.0, peak)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else peak
    return ticks[-1] if ticks[-1] >= peak else ticks[-1] + step


def svg(
    chart: Histogram,
    width: int = 420,
    height: int = 190,
    note: str = "class",
    x_title: str = "",
) -> str:
    """The histogram as an inline SVG element: a title, a y axis in % of the simulated games,
    an x axis with the values (titled `x_title`, or the chart's title), the class's bar marked."""
    top, bottom, left, right = 24, 40, 40, 8
    plot_h = height - top - bottom
    plot_w = width - left - right
    n = max(1, len(chart.counts))
    slot = plot_w / n
    total = chart.total or 1
    peak_share = _top(100.0 * max(chart.counts or [0]) / total or 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(chart.title)}</text>',
    ]
    for tick in _ticks(0.0, peak_share):
        y = top + plot_h - plot_h * tick / peak_share
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#e3e7ec"/><text x="{left - 4}" y="{y + 3:.1f}" font-size="9" '
            f'text-anchor="end">{tick:g} %</text>'
        )
    step = max(1, int(np.ceil(n / 12)))
    for i, (label, count) in enumerate(zip(chart.labels, chart.counts, strict=True)):
        share = 100.0 * count / total
        bar_h = plot_h * share / peak_share
        x = left + i * slot + 1
        y = top + plot_h - bar_h
        colour = MARK if i == chart.marked else BAR
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)}: {count} games '
            f"({share:.0f} %)</title></rect>"
        )
        if i % step == 0:
            parts.append(
                f'<text x="{x + slot / 2 - 1:.1f}" y="{top + plot_h + 12}" font-size="9" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        if i == chart.marked:
            parts.append(
                f'<text x="{x + slot / 2 - 1:.1f}" y="{max(top + 9, y - 3):.1f}" '
                f'font-size="10" text-anchor="middle" fill="{MARK}">{escape(note)}</text>'
            )
    parts += [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>',
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 14}" font-size="10" '
        f'text-anchor="middle">{escape(x_title or chart.title)}</text>',
        f'<text x="{width - right}" y="{height - 3}" font-size="9" text-anchor="end" '
        f'fill="#5f6b7a">share of {chart.total:,} simulated games'
        + (f"; {escape(note)} in orange" if chart.marked is not None and note else "")
        + "</text></svg>",
    ]
    return "".join(parts)


def lines(
    title: str,
    xs: list[int],
    series: dict[str, list[float]],
    y_range: tuple[float, float] | None = None,
    threshold: tuple[float, str] | None = None,
    width: int = 420,
    height: int = 190,
) -> str:
    """A line chart over turns with both axes labelled: one line per series, a legend when
    there are several, an optional horizontal threshold (the war rung, say)."""
    top, bottom, left, right = 24, 34, 40, 10
    plot_h, plot_w = height - top - bottom, width - left - right
    values = [v for row in series.values() for v in row]
    low, high = y_range if y_range else (min(values, default=0.0), max(values, default=1.0))
    if not y_range:
        pad = 0.1 * (high - low) or 1.0
        low, high = max(0.0, low - pad), high + pad
    span_x = max(1, (max(xs) - min(xs)) if xs else 1)

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            left + plot_w * (x - min(xs)) / span_x,
            top + plot_h - plot_h * (y - low) / ((high - low) or 1.0),
        )

    parts = [
        f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in _ticks(low, high):
        _, y = at(min(xs, default=0), tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#e3e7ec"/><text x="{left - 4}" y="{y + 3:.1f}" font-size="9" '
            f'text-anchor="end">{tick:g}</text>'
        )
    if threshold is not None:
        _, y = at(min(xs, default=0), threshold[0])
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{MARK}" '
            f'stroke-dasharray="4 3"/><text x="{width - right}" y="{y - 3:.1f}" font-size="9" '
            f'text-anchor="end" fill="{MARK}">{escape(threshold[1])}</text>'
        )
    step = max(1, int(np.ceil(len(xs) / 12)))
    for i, x in enumerate(xs):
        if i % step == 0:
            px, _ = at(x, low)
            parts.append(
                f'<text x="{px:.1f}" y="{top + plot_h + 12}" font-size="9" '
                f'text-anchor="middle">{x}</text>'
            )
    for k, (name, row) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join("{:.1f},{:.1f}".format(*at(x, y)) for x, y in zip(xs, row, strict=True))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(name)}</title></polyline>"
        )
        parts += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"><title>'
            f"{escape(name)}, turn {x}: {y:g}</title></circle>"
            for x, y in zip(xs, row, strict=True)
            for px, py in [at(x, y)]
        ]
        if len(series) > 1:
            parts.append(
                f'<text x="{left + 6 + 90 * k}" y="{top + 10}" font-size="10" '
                f'fill="{colour}">&#9472; {escape(name)}</text>'
            )
    parts += [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" '
        f'stroke="{AXIS}"/>',
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" font-size="10" '
        'text-anchor="middle">turn</text></svg>',
    ]
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
