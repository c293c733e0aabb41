"""The house style of the figures: palette, fonts, the figure frame with its caption, shared
panels (bars with intervals, forest rows, boxes) and the bytes written to disk.

Colours are the Okabe-Ito palette. Figures use the non-interactive Agg canvas without pyplot,
so they draw headless and leave no global state behind; rc settings apply only while a figure
is drawn (`styled`).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.measures import Shares

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

#: Okabe & Ito (2008), distinguishable with the common forms of colour blindness.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}


RUSSIA = OKABE_ITO["vermillion"]


CHINA = OKABE_ITO["blue"]


IRAN = OKABE_ITO["green"]


GULF = OKABE_ITO["purple"]


CRISIS = OKABE_ITO["sky_blue"]


INK = "#222222"


MUTED = "#666666"


#: Line colours for series (points, events), most distinct first; yellow is left out on white.
SERIES = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange", "sky_blue")]


#: Factor colours in stacked bars: the palette without black (kept for net-utility markers).
FACTOR_COLOURS = [
    *(OKABE_ITO[c] for c in ("orange", "sky_blue", "green", "yellow", "blue", "vermillion")),
    OKABE_ITO["purple"],
    "#999999",
]


_STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    # SVG text names these fonts; viewers without DejaVu Sans fall back to the next one
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.grid": False,
    "grid.color": "#bbbbbb",
    "grid.alpha": 0.5,
    "grid.linewidth": 0.6,
    "axes.prop_cycle": matplotlib.cycler(color=SERIES),
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.fonttype": "none",  # text stays text: searchable, selectable, small
    # glyphs drawn as the font shapes them, without hinting: as legible at the PNG's 150 dpi
    # and less work per label (text is most of the cost of drawing a gallery)
    "text.hinting": "no_hinting",
    "svg.hashsalt": "iran-crisis-wargame",  # stable element ids, reproducible files
}


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(_STYLE):
        yield


def styled(function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under the house style; rc settings are restored afterwards (no global state)."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with style():
            return function(*args, **kwargs)

    return wrapper


def level_colours(count: int) -> list[Any]:
    """Sequential colours for the levels of a ladder, light (bottom) to dark (top)."""
    cmap = matplotlib.colormaps["cividis_r"]
    return [cmap(x) for x in np.linspace(0.08, 0.95, count)]


def field_colour(field_name: str) -> str:
    """The colour of the actor an outcome is about (Russia vermillion, China blue, ...)."""
    for prefix, colour in (("russia", RUSSIA), ("china", CHINA), ("iran", IRAN), ("gulf", GULF)):
        if field_name.startswith(prefix):
            return colour
    return CRISIS


def frame(width: float, height: float) -> SubFigure:
    """A figure of `width` x `height` inches for the content; `_finish` adds the caption.

    The content lives in a subfigure so that the caption below it gets its own row of the
    constrained layout: nothing overlaps and nothing is clipped.
    """
    root = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(root)
    rows = root.add_gridspec(2, 1, height_ratios=[height, 1e-6], hspace=0)
    content = root.add_subfigure(rows[0])
    content._wargame_caption_row = rows  # type: ignore[attr-defined]
    return content


_CAPTION_SIZE = 8.5


def finish(content: SubFigure, question: str, subtitle: str, caption: str | None = None) -> Figure:
    """Title the figure with its question and subtitle, add the caption and return it."""
    content.suptitle(f"{question}\n{subtitle}", fontsize=12, linespacing=1.5)
    root = content.get_figure(root=True)
    rows = content._wargame_caption_row  # type: ignore[attr-defined]
    width, height = root.get_size_inches()
    if caption:
        chars = max(40, int(width * 14.5))
        text = "\n".join(textwrap.wrap(caption, chars))
        lines = text.count("\n") + 1
        extra = (lines * _CAPTION_SIZE * 1.35 + 10) / 72
        rows.set_height_ratios([height, extra])
        root.set_size_inches(width, height + extra)
        note = root.add_subfigure(rows[1])
        note.text(0.012, 0.5, text, ha="left", va="center", fontsize=_CAPTION_SIZE, color="#333333")
    return root


def figure_title(figure: Figure) -> str:
    """The title of a figure made here: its question, a newline, then the subtitle."""
    for part in (*figure.subfigs, figure):
        text = part.get_suptitle()
        if text:
            return text
    return ""


def grid(count: int, max_columns: int = 4) -> tuple[int, int]:
    """Rows and columns for `count` panels, as evenly filled as possible."""
    rows = max(1, math.ceil(count / max_columns))
    return rows, max(1, math.ceil(count / rows))


def percent_axis(axis: Any, top: float | None = None) -> None:
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    if top is not None:
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))


def hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.flat[used:]:
        ax.set_visible(False)


def line_colours(count: int) -> list[Any]:
    if count <= len(SERIES):
        return SERIES[:count]
    cmap = matplotlib.colormaps["cividis"]
    return [cmap(x) for x in np.linspace(0.0, 0.92, count)]


def bar_panel(ax: Axes, shares: Shares, colour: str, bottom_up: bool) -> None:
    """Horizontal bars of shares with Wilson intervals and the share written at each bar."""
    y = np.arange(len(shares.labels))
    p, ci = shares.p, shares.ci
    ax.barh(y, p, height=0.68, color=colour, edgecolor="none", zorder=2)
    ax.errorbar(
        p, y, xerr=[p - ci[:, 0], ci[:, 1] - p], fmt="none", ecolor=INK, elinewidth=1, capsize=3
    )
    top = float(np.nanmax(ci[:, 1])) if len(ci) else 1.0
    right = min(1.18, top * 1.22 + 0.04)
    for yi, pi, hi in zip(y, p, ci[:, 1], strict=True):
        ax.text(hi + right * 0.015, yi, fmt.percent(pi), va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y, shares.labels)
    ax.set_xlim(0, right)
    percent_axis(ax.xaxis, top=right)
    ax.set_xticks([t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    ax.grid(axis="x", zorder=0)
    ax.set_ylim(-0.6, len(y) - 0.4)
    if not bottom_up:
        ax.invert_yaxis()


def forest(
    ax: Axes,
    estimates: np.ndarray,
    intervals: np.ndarray,
    colour: Any,
    offset: float = 0.0,
    marker: str = "o",
    label: str | None = None,
    annotate: bool = True,
) -> None:
    """Point estimates with interval bars, one row per point (row 0 at the top)."""
    y = np.arange(len(estimates)) + offset
    lo = np.nan_to_num(estimates - intervals[:, 0])
    hi = np.nan_to_num(intervals[:, 1] - estimates)
    ax.errorbar(
        estimates,
        y,
        xerr=[lo, hi],
        fmt=marker,
        color=colour,
        ecolor=colour,
        elinewidth=1.6,
        capsize=3,
        markersize=5.5,
        label=label,
        zorder=3,
    )
    if annotate:
        for yi, estimate, upper in zip(y, estimates, intervals[:, 1], strict=True):
            if np.isfinite(estimate):
                ax.annotate(
                    fmt.percent(estimate),
                    (upper, yi),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                    color=INK,
                )


def forest_axes(ax: Axes, labels: Sequence[str], top: float) -> None:
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    right = min(1.2, max(top, 0.02) * 1.3 + 0.03)
    ax.set_xlim(0, right)
    percent_axis(ax.xaxis, top=right)
    ax.set_xticks([t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    ax.grid(axis="x", zorder=0)


def label_lines(labels: Sequence[str]) -> int:
    return max((label.count("\n") + 1 for label in labels), default=1)


def box_rows(ax: Axes, samples: list[np.ndarray], colour: str) -> None:
    for y, values in enumerate(samples):
        if values.size == 0:
            continue
        q05, q25, q50, q75, q95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
        ax.plot([q05, q95], [y, y], color=colour, linewidth=1.4, zorder=2)
        ax.barh(y, q75 - q25, left=q25, height=0.5, color=colour, alpha=0.45, zorder=2)
        ax.plot([q50, q50], [y - 0.25, y + 0.25], color=INK, linewidth=2, zorder=3)
        lo, hi = stats.numeric_summary(values)["ci"]
        mean = float(values.mean())
        ax.errorbar(
            mean,
            y,
            xerr=[[mean - (lo if lo is not None else mean)], [(hi or mean) - mean]],
            fmt="D",
            color=INK,
            markersize=4.5,
            capsize=2,
            zorder=4,
        )


#: matplotlib's SVG writer, with each text measured once per process
SVG_BACKEND = "module://sim.output.svg_backend"
#: white space kept around the tight bounding box of every figure (inches)
PAD_INCHES = 0.15


def figure_files(
    figure: Figure, formats: Sequence[str] = ("png", "svg"), dpi: int = 150
) -> dict[str, bytes]:
    """The figure in each of `formats` (PNG, SVG), laid out once for all of them.

    The layout is computed once, at the PNG's dpi, and every format is cut to the same box:
    what is drawn, with `PAD_INCHES` around it. With a PNG, the canvas is drawn once and the
    box is read from its pixels; a figure that reaches past its canvas, or an SVG alone, takes
    the bounding box of its artists instead (nothing is clipped). PNGs are compressed lightly:
    the files are a little larger and written several times faster. SVG text stays text.
    """
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    files: dict[str, bytes] = {}
    engine = figure.get_layout_engine()
    original_dpi = figure.dpi
    with style():
        try:
            figure.dpi = dpi
            if engine is not None:
                engine.execute(figure)
                figure.set_layout_engine("none")  # laid out: every format keeps this layout
            drawn = _drawn_box(figure) if "png" in formats else None
            if drawn is None:
                box = figure.get_tightbbox(figure.canvas.get_renderer()).padded(PAD_INCHES)
            else:
                box = drawn.padded(PAD_INCHES)
            for fmt in formats:
                if fmt == "png" and drawn is not None:
                    files[fmt] = _png_bytes(figure, box, dpi)
                    continue
                buffer = io.BytesIO()
                options: dict[str, Any] = {}
                if fmt == "svg":  # matplotlib's writer, each text measured once (see there)
                    options = {"metadata": {"Date": None}, "backend": SVG_BACKEND}
                if fmt == "png":  # something reaches past the canvas: drawn inside the box
                    options["pil_kwargs"] = {"compress_level": 1}
                figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches=box, **options)
                files[fmt] = buffer.getvalue()
        finally:
            figure.dpi = original_dpi
            if engine is not None:
                figure.set_layout_engine(engine)
    return files


def _background(figure: Figure) -> np.ndarray:
    """The figure's colour as the canvas's RGBA bytes."""
    return np.array([round(c * 255) for c in to_rgba(figure.get_facecolor())], np.uint8)


def _drawn_box(figure: Figure) -> Bbox | None:
    """Draw the canvas and return the box (inches) of what differs from the background, or
    None when something touches the canvas's edge (it may reach past it)."""
    from matplotlib.transforms import Bbox

    canvas = figure.canvas
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    height, width = pixels.shape[:2]
    ink = pixels.view(np.uint32)[..., 0] != _background(figure).view(np.uint32)[0]
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows) or rows[0] == 0 or columns[0] == 0:
        return None
    if rows[-1] == height - 1 or columns[-1] == width - 1:
        return None
    dpi = figure.dpi
    return Bbox.from_extents(
        columns[0] / dpi, (height - rows[-1] - 1) / dpi, (columns[-1] + 1) / dpi,
        (height - rows[0]) / dpi,
    )  # fmt: skip


def _png_bytes(figure: Figure, box: Bbox, dpi: int) -> bytes:
    """The canvas as drawn, cut to `box` (inches; margins outside the canvas are filled with
    the figure's colour) and written as an RGB PNG."""
    from PIL import Image

    pixels = np.asarray(figure.canvas.buffer_rgba())
    height, width = pixels.shape[:2]
    left, right = round(box.x0 * dpi), round(box.x1 * dpi)
    top, bottom = height - round(box.y1 * dpi), height - round(box.y0 * dpi)
    background = _background(figure)
    channels = 3 if background[3] == 255 else 4
    image = np.empty((bottom - top, right - left, channels), np.uint8)
    image[...] = background[:channels]
    rows = slice(max(top, 0), min(bottom, height))
    columns = slice(max(left, 0), min(right, width))
    image[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left] = pixels[
        rows, columns, :channels
    ]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="png", compress_level=1, dpi=(dpi, dpi))
    return buffer.getvalue()


def figure_bytes(figure: Figure, fmt: str = "png", dpi: int = 150) -> bytes:
    """The figure as PNG or SVG bytes (tight bounding box: no clipped labels)."""
    return figure_files(figure, (fmt,), dpi)[fmt]
