"""Figures of a finished batch: outcome histograms, the support ladder, fans and explanations.

Copy into a notebook::

    from sim.analysis.results import Results

    base = Results.load("runs/baseline")
    base.plot_key_probabilities()          # can Iran rely on Russia and China? (Wilson intervals)
    base.plot_support_ladder()             # Russia's and China's highest support, 0-7 ladder
    base.plot_outcome("peak_oil_price")    # the histogram of any outcome field
    base.plot_fan("escalation")            # median and 50/90 % bands over turns
    base.plot_first_events()               # time to first war, covert help, Hormuz closure
    base.plot_factors("china")             # which factors pushed China towards or away
    base.save_plots()                      # every figure, PNG and SVG, into runs/baseline/plots
    print(base.report())                   # a self-contained runs/baseline/report.html

Every function takes a `sim.analysis.results.Results` and returns a `matplotlib.figure.Figure` drawn
with the non-interactive Agg canvas, without pyplot, so it works headless and leaves no global
state behind. Each figure is titled with the question it answers and names the scenario and
the number of replications; sweeps and scenario lists get one row or panel per point, with a
95 % Wilson interval on every probability. Colours are the Okabe-Ito palette.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.analysis import stats
from sim.batch.runfolder import CONFIG, DECISIONS, TRAJECTORIES, atomic_write_bytes
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.analysis.results import Results

__all__ = [
    "OKABE_ITO",
    "FigureSpec",
    "KeyEvent",
    "RunInfo",
    "comparison_figure",
    "end_states_figure",
    "factor_table",
    "factors_figure",
    "fan_figure",
    "field_text",
    "figure_bytes",
    "figure_specs",
    "figure_title",
    "first_event_turns",
    "first_events_figure",
    "format_value",
    "key_probabilities",
    "key_probabilities_figure",
    "outcome_figure",
    "outcome_kind",
    "point_labels",
    "readable",
    "rung_label",
    "run_info",
    "save_all",
    "save_figure",
    "support_ladder_figure",
]

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

#: Defaults used when a results folder carries no resolved configuration.
DEFAULT_ESCALATION = [
    "tension",
    "crisis",
    "coercion",
    "grey_zone_clashes",
    "limited_strikes",
    "strike_exchange",
    "air_campaign",
    "regional_war",
    "regime_change_war",
]
DEFAULT_SUPPORT = [
    "none",
    "rhetoric",
    "diplomatic_backing",
    "economic_lifeline",
    "intelligence_sharing",
    "technical_aid",
    "arms_transfers",
    "direct_intervention",
]
END_STATES = ["settlement", "ceasefire", "regime_collapse", "horizon"]
GREAT_POWERS = ("russia", "china")
INTERVAL = "95 % Wilson intervals"

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
    "svg.hashsalt": "iran-crisis-wargame",  # stable element ids, reproducible files
}


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_STYLE):
        yield


def _styled(function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under the house style; rc settings are restored afterwards (no global state)."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _style():
            return function(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------- run metadata


@dataclass(frozen=True)
class RunInfo:
    """What the figures need to know about a run beyond its tables (from its config.yaml)."""

    name: str
    escalation_ladder: list[str] = field(default_factory=lambda: list(DEFAULT_ESCALATION))
    support_ladder: list[str] = field(default_factory=lambda: list(DEFAULT_SUPPORT))
    war_threshold: int = 4
    turn_days: float = 3.0
    collapse_threshold: float | None = None
    actor_labels: dict[str, str] = field(default_factory=dict)
    gulf_moves: dict[str, list[str]] = field(default_factory=dict)
    action_levels: dict[str, dict[str, int]] = field(default_factory=dict)
    action_order: dict[str, list[str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def label(self, actor: str) -> str:
        return self.actor_labels.get(actor, actor.replace("_", " ").title())


@lru_cache(maxsize=8)
def _read_config(file: str, mtime_ns: int, size: int) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(file, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=loader)
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _resolved_config(folder: Path) -> dict[str, Any]:
    file = folder / CONFIG
    try:
        stat = file.stat()
    except OSError:
        return {}
    return _read_config(str(file), stat.st_mtime_ns, stat.st_size)


def run_info(results: Results) -> RunInfo:
    """Ladder names, thresholds, actor labels and descriptions from the run's config.yaml."""
    resolved = _resolved_config(Path(results.path))
    points = [p for p in resolved.get("points") or [] if isinstance(p, dict)]
    configs = [p.get("config") or {} for p in points]
    base = resolved.get("base") or (configs[0] if configs else resolved)
    first = configs[0] if configs else base
    ladders = first.get("ladders") or {}
    dynamics = first.get("dynamics") or {}
    actors = first.get("actors") or {}
    labels: dict[str, str] = {}
    gulf: dict[str, list[str]] = {}
    levels: dict[str, dict[str, int]] = {}
    order: dict[str, list[str]] = {}
    for actor_id, actor in actors.items():
        if not isinstance(actor, dict):
            continue
        labels[str(actor_id)] = str(actor.get("label") or actor_id)
        actions = actor.get("actions") or {}
        if actor.get("kind") == "gulf_state":
            gulf[str(actor_id)] = [str(a) for a in actions]
        order[str(actor_id)] = [str(a) for a in actions]
        levels[str(actor_id)] = {
            str(a): int(spec["level"])
            for a, spec in actions.items()
            if isinstance(spec, dict) and isinstance(spec.get("level"), int)
        }
    descriptions = {}
    for point, config in zip(points, configs, strict=True):
        text = " ".join(str(config.get("description") or "").split())
        descriptions.setdefault(str(point.get("scenario", config.get("name", ""))), text)
    escalation = [str(r) for r in ladders.get("escalation") or DEFAULT_ESCALATION]
    support = [str(r) for r in ladders.get("support") or DEFAULT_SUPPORT]
    collapse = (dynamics.get("iran") or {}).get("collapse_threshold")
    return RunInfo(
        name=results.name,
        escalation_ladder=escalation,
        support_ladder=support,
        war_threshold=int(ladders.get("war_threshold", 4)),
        turn_days=float(first.get("turn_days", 3.0)),
        collapse_threshold=None if collapse is None else float(collapse),
        actor_labels=labels,
        gulf_moves=gulf,
        action_levels=levels,
        action_order=order,
        descriptions=descriptions,
        description=" ".join(str(base.get("description") or "").split()),
    )


_ACRONYMS = {"us": "US", "uk": "UK", "un": "UN", "brics": "BRICS", "sco": "SCO", "uae": "UAE"}


def readable(name: str) -> str:
    """`direct_intervention` -> `direct intervention`; `alignment_against_us` -> `... US`."""
    return " ".join(_ACRONYMS.get(word, word) for word in str(name).split("_"))


def rung_label(ladder: Sequence[str], level: int) -> str:
    name = ladder[level] if 0 <= level < len(ladder) else f"rung {level}"
    return f"{level} {readable(name)}"


# ----------------------------------------------------------------------------- points


@dataclass(frozen=True)
class Point:
    point: int
    label: str
    frame: pd.DataFrame


def _short_names(parameters: Sequence[str]) -> dict[str, str]:
    short = {p: p.rsplit(".", 1)[-1] for p in parameters}
    if len(set(short.values())) < len(short):
        return {p: p for p in parameters}
    return short


def format_value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.3g}"
    return str(value)


def point_labels(results: Results) -> dict[int, str]:
    """A readable label per sweep point or scenario (parameters one per line)."""
    table = results.points.sort_values("point")
    parameters = results.parameters
    short = _short_names(parameters)
    several_scenarios = table["scenario"].nunique() > 1
    labels = {}
    for _, row in table.iterrows():
        parts = [str(row["scenario"])] if several_scenarios or not parameters else []
        parts += [f"{short[p]} = {format_value(row[p])}" for p in parameters]
        labels[int(row["point"])] = "\n".join(parts)
    return labels


def _points(results: Results, frame: pd.DataFrame | None = None) -> list[Point]:
    frame = results.outcomes if frame is None else frame
    labels = point_labels(results)
    return [
        Point(int(p), labels.get(int(p), f"point {p}"), group)
        for p, group in frame.groupby("point", sort=True)
    ]


def _is_list(results: Results) -> bool:
    return results.outcomes["scenario"].nunique() > 1


def _subtitle(results: Results, n: int | None = None, what: str = "replications") -> str:
    """`Scenario: baseline · n = 300 replications` (and the points of a sweep)."""
    counts = results.outcomes.groupby("point").size()
    if len(counts) <= 1:
        n = int(counts.sum()) if n is None else n
        return f"Scenario: {results.name} · n = {n:,} {what}"
    kind = "scenarios" if _is_list(results) else "sweep points"
    per = f"{counts.iloc[0]:,}" if counts.nunique() == 1 else f"{counts.min():,}-{counts.max():,}"
    total = int(counts.sum()) if n is None else n
    if n is not None and what != "replications":
        return f"Scenario: {results.name} · {len(counts)} {kind} · n = {total:,} {what}"
    return f"Scenario: {results.name} · {len(counts)} {kind} × {per} replications (n = {total:,})"


def _figure(width: float, height: float) -> SubFigure:
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


def _finish(content: SubFigure, question: str, subtitle: str, caption: str | None = None) -> Figure:
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


def _grid(count: int, max_columns: int = 4) -> tuple[int, int]:
    """Rows and columns for `count` panels, as evenly filled as possible."""
    rows = max(1, math.ceil(count / max_columns))
    return rows, max(1, math.ceil(count / rows))


def _percent_axis(axis: Any, top: float | None = None) -> None:
    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    if top is not None:
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    return stats.wilson_interval(int(k), int(n))


def _hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.flat[used:]:
        ax.set_visible(False)


def _line_colours(count: int) -> list[Any]:
    if count <= len(SERIES):
        return SERIES[:count]
    cmap = matplotlib.colormaps["cividis"]
    return [cmap(x) for x in np.linspace(0.0, 0.92, count)]


# ----------------------------------------------------------------------------- outcome fields

#: field -> (question, axis label with units); {days} is the length of a turn
_FIELD_TEXT: dict[str, tuple[str, str]] = {
    "war": ("Does the crisis turn into a US-Iran war?", "war broke out"),
    "max_escalation": (
        "How far up the escalation ladder does the crisis climb?",
        "highest rung reached on the escalation ladder (0-8)",
    ),
    "turns_at_war": ("How long does the fighting last?", "turns at war (1 turn = {days} days)"),
    "end_state": ("How does the crisis end?", "end state"),
    "russia_max_support": (
        "How far does Russia go to support Iran?",
        "Russia's highest support level (0-7 ladder)",
    ),
    "russia_intervened": ("Does Russia intervene militarily?", "Russia intervened"),
    "russia_covert_turns": (
        "How long does Russia help Iran covertly?",
        "turns of covert Russian support (1 turn = {days} days)",
    ),
    "china_max_support": (
        "How far does China go to support Iran?",
        "China's highest support level (0-7 ladder)",
    ),
    "china_intervened": ("Does China intervene militarily?", "China intervened"),
    "china_covert_turns": (
        "How long does China help Iran covertly?",
        "turns of covert Chinese support (1 turn = {days} days)",
    ),
    "hormuz_closed_turns": (
        "How long is the Strait of Hormuz closed?",
        "turns with the Strait closed (1 turn = {days} days)",
    ),
    "peak_oil_price": ("How high does the oil price spike?", "peak Brent oil price ($/bbl)"),
    "china_imports_start_kbd": (
        "How much Iranian crude does China buy at the outset?",
        "China's imports of Iranian crude at the start (thousand b/d)",
    ),
    "china_imports_end_kbd": (
        "How much Iranian crude does China still buy at the end?",
        "China's imports of Iranian crude at the end (thousand b/d)",
    ),
    "iran_exports_end_kbd": (
        "How much oil does Iran still export at the end?",
        "Iran's crude exports at the end (thousand b/d)",
    ),
    "iran_requested_help": ("Does Iran ask Russia and China for help?", "Iran asked for help"),
    "iran_min_stability": (
        "How close does the Iranian regime come to collapse?",
        "Iran's lowest regime stability (index, 0 = collapse, 1 = secure)",
    ),
    "iran_reliance_gap": (
        "Can Iran rely on its partners? Support expected minus support received",
        "reliance gap (support levels expected minus received, mean over turns)",
    ),
}


def field_text(field_name: str, info: RunInfo) -> tuple[str, str]:
    if field_name in _FIELD_TEXT:
        question, label = _FIELD_TEXT[field_name]
        return question, label.format(days=f"{info.turn_days:g}")
    if field_name.startswith("gulf_") and field_name.endswith("_stance"):
        actor = field_name.removeprefix("gulf_").removesuffix("_stance")
        who = info.label(actor)
        return f"What does {who} do at the end of the crisis?", f"{who}'s last move"
    return f"How is {readable(field_name)} distributed?", readable(field_name)


def _field_colour(field_name: str) -> str:
    if field_name.startswith("russia"):
        return RUSSIA
    if field_name.startswith("china"):
        return CHINA
    if field_name.startswith("iran"):
        return IRAN
    if field_name.startswith("gulf"):
        return GULF
    return CRISIS


def _field_kind(series: pd.Series, field_name: str) -> str:
    if field_name == "max_escalation":
        return "escalation"
    if field_name.endswith("_max_support"):
        return "support"
    kind = stats.field_kind(series)
    if kind == "proportion":
        return "boolean"
    if kind == "categorical":
        return "categorical"
    if kind == "numeric" and pd.api.types.is_integer_dtype(series.dtype):
        values = series.dropna()
        if values.empty or values.max() - values.min() <= 60:
            return "count"
    return "continuous"


def _categories(series: pd.Series, field_name: str, info: RunInfo) -> list[str]:
    seen = [str(v) for v in series.dropna().astype(str).value_counts().index]
    if field_name == "end_state":
        order = list(END_STATES)
    elif field_name.startswith("gulf_") and field_name.endswith("_stance"):
        actor = field_name.removeprefix("gulf_").removesuffix("_stance")
        order = list(info.gulf_moves.get(actor, []))
    else:
        order = []
    return order + [c for c in seen if c not in order]


@dataclass(frozen=True)
class _Shares:
    labels: list[str]
    counts: np.ndarray
    n: int

    @property
    def p(self) -> np.ndarray:
        return self.counts / self.n if self.n else np.full(len(self.counts), np.nan)

    @property
    def ci(self) -> np.ndarray:
        return np.array([_wilson(k, self.n) for k in self.counts]).reshape(-1, 2)


def _shares(series: pd.Series, kind: str, field_name: str, info: RunInfo) -> _Shares:
    values = series.dropna()
    n = len(values)
    if kind in ("escalation", "support"):
        ladder = info.escalation_ladder if kind == "escalation" else info.support_ladder
        top = max(len(ladder) - 1, int(values.max()) if n else 0)
        counts = np.bincount(values.astype(int).clip(lower=0), minlength=top + 1)
        return _Shares([rung_label(ladder, i) for i in range(top + 1)], counts, n)
    if kind == "boolean":
        yes = int(values.astype(bool).sum())
        return _Shares(["yes", "no"], np.array([yes, n - yes]), n)
    categories = _categories(values, field_name, info)
    tally = values.astype(str).value_counts()
    counts = np.array([int(tally.get(c, 0)) for c in categories])
    return _Shares([readable(c) if c else "(no move)" for c in categories], counts, n)


def _bar_panel(ax: Axes, shares: _Shares, colour: str, bottom_up: bool) -> None:
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
        ax.text(hi + right * 0.015, yi, f"{pi:.1%}", va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y, shares.labels)
    ax.set_xlim(0, right)
    _percent_axis(ax.xaxis, top=right)
    ax.set_xticks([t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    ax.grid(axis="x", zorder=0)
    ax.set_ylim(-0.6, len(y) - 0.4)
    if not bottom_up:
        ax.invert_yaxis()


def _forest(
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
                    f"{estimate:.1%}",
                    (upper, yi),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                    color=INK,
                )


def _forest_axes(ax: Axes, labels: Sequence[str], top: float) -> None:
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    right = min(1.2, max(top, 0.02) * 1.3 + 0.03)
    ax.set_xlim(0, right)
    _percent_axis(ax.xaxis, top=right)
    ax.set_xticks([t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    ax.grid(axis="x", zorder=0)


def _label_lines(labels: Sequence[str]) -> int:
    return max((label.count("\n") + 1 for label in labels), default=1)


def outcome_kind(results: Results, field_name: str) -> str:
    """How a field is drawn: escalation, support, boolean, categorical, count or continuous."""
    return _field_kind(results.outcomes[field_name], field_name)


@_styled
def outcome_figure(results: Results, field_name: str) -> Figure:
    """Histogram (bars for booleans, categories and ladders) of one outcome field.

    For a sweep or scenario list: shares per point with Wilson intervals, or box plots of
    numeric fields, one row per point.
    """
    if field_name not in results.outcomes.columns:
        raise WargameError(
            f"{field_name}: not an outcome of this run (fields: {', '.join(results.fields)})"
        )
    info = run_info(results)
    series = results.outcomes[field_name]
    kind = _field_kind(series, field_name)
    points = _points(results)
    if len(points) == 1:
        return _outcome_single(results, info, field_name, kind)
    return _outcome_points(results, info, field_name, kind, points)


def _outcome_single(results: Results, info: RunInfo, field_name: str, kind: str) -> Figure:
    question, label = field_text(field_name, info)
    series = results.outcomes[field_name]
    colour = _field_colour(field_name)
    n = int(series.notna().sum())
    subtitle = _subtitle(results, n)
    if kind in ("escalation", "support", "boolean", "categorical"):
        shares = _shares(series, kind, field_name, info)
        figure = _figure(7.5, 1.9 + 0.36 * len(shares.labels))
        ax = figure.add_subplot()
        _bar_panel(ax, shares, colour, bottom_up=kind in ("escalation", "support"))
        ax.set_xlabel("share of replications (%)")
        ax.set_ylabel(label)
        if kind == "escalation" and 0 < info.war_threshold < len(shares.labels):
            ax.axhline(info.war_threshold - 0.5, color=MUTED, linestyle=":", linewidth=1)
            ax.text(
                ax.get_xlim()[1], info.war_threshold - 0.45, "war from here up ",
                ha="right", va="bottom", fontsize=8, color=MUTED,
            )  # fmt: skip
        caption = f"Bars: share of the {n:,} replications; error bars: {INTERVAL}."
        return _finish(figure, question, subtitle, caption)
    values = series.dropna().to_numpy(dtype=float)
    figure = _figure(7.5, 4.2)
    ax = figure.add_subplot()
    ax.set_xlabel(label)
    ax.set_ylabel("share of replications (%)")
    _percent_axis(ax.yaxis)
    ax.grid(axis="y", zorder=0)
    if values.size == 0:
        ax.text(0.5, 0.5, "no replication has a value", ha="center", transform=ax.transAxes)
        return _finish(figure, question, subtitle, "No values to show.")
    if np.ptp(values) == 0:
        value = float(values[0])
        ax.bar([value], [1.0], width=max(abs(value) * 0.004, 0.004), color=colour, zorder=2)
        ax.set_xlim(value - max(abs(value) * 0.1, 0.1), value + max(abs(value) * 0.1, 0.1))
        ax.set_ylim(0, 1.08)
        ax.annotate(
            f"all {n:,} replications: {_num(value)}", (value, 1.0), xytext=(0, 4),
            textcoords="offset points", ha="center", va="bottom", fontsize=9, color=INK,
        )  # fmt: skip
        caption = f"Every one of the {n:,} replications has the same value, {_num(value)}."
        return _finish(figure, question, subtitle, caption)
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
    ax.axvline(median, color=INK, linewidth=1.4, label=f"median {_num(median)}")
    ax.axvline(
        mean,
        color=INK,
        linewidth=1.4,
        linestyle="--",
        label=f"mean {_num(mean)} (95 % CI {_num(ci[0])} to {_num(ci[1])})",
    )
    if field_name == "iran_min_stability" and info.collapse_threshold is not None:
        ax.axvline(info.collapse_threshold, color=RUSSIA, linestyle=":", linewidth=1.4)
        ax.text(
            info.collapse_threshold, 0.98, " regime collapse below",
            transform=ax.get_xaxis_transform(), va="top", fontsize=8, color=RUSSIA,
        )  # fmt: skip
    ax.legend(loc="best")
    q05, q95 = np.quantile(values, [0.05, 0.95])
    caption = (
        f"Histogram of the {n:,} replications ({bars}); 90 % of them lie between "
        f"{_num(q05)} and {_num(q95)}."
    )
    return _finish(figure, question, subtitle, caption)


def _num(value: float | None) -> str:
    """Three significant digits, thousands with separators: 0.667, 73.9, 1,380."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _outcome_points(
    results: Results, info: RunInfo, field_name: str, kind: str, points: list[Point]
) -> Figure:
    question, label = field_text(field_name, info)
    colour = _field_colour(field_name)
    labels = [p.label for p in points]
    lines = _label_lines(labels)
    row = 0.3 * lines + 0.12
    subtitle = _subtitle(results)
    if kind == "boolean":
        estimates, intervals = _point_shares(points, lambda f: f[field_name].astype(bool))
        figure = _figure(7.5, 1.9 + row * len(points))
        ax = figure.add_subplot()
        _forest(ax, estimates, intervals, colour)
        _forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_xlabel(f"share of replications in which: {label} (%)")
        caption = f"Dots: share of replications at each point; bars: {INTERVAL}."
        return _finish(figure, question, subtitle, caption)
    if kind in ("escalation", "support", "categorical"):
        return _categorical_points(results, info, field_name, kind, points, question, label)
    figure = _figure(7.5, 1.9 + row * len(points))
    ax = figure.add_subplot()
    _box_rows(ax, [p.frame[field_name].dropna().to_numpy(dtype=float) for p in points], colour)
    ax.set_yticks(np.arange(len(points)), labels)
    ax.set_ylim(len(points) - 0.5, -0.5)
    ax.set_xlabel(label)
    ax.grid(axis="x", zorder=0)
    caption = (
        "Box: middle 50 % of replications, whiskers: 5th-95th percentile, line: median, "
        "diamond: mean with its 95 % t-interval."
    )
    return _finish(figure, question, subtitle, caption)


def _point_shares(
    points: list[Point], event: Callable[[pd.DataFrame], pd.Series]
) -> tuple[np.ndarray, np.ndarray]:
    estimates, intervals = [], []
    for point in points:
        values = event(point.frame)
        n, k = int(len(values)), int(values.sum())
        estimates.append(k / n if n else math.nan)
        intervals.append(_wilson(k, n))
    return np.array(estimates, dtype=float), np.array(intervals, dtype=float).reshape(-1, 2)


def _box_rows(ax: Axes, samples: list[np.ndarray], colour: str) -> None:
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


def _categorical_points(
    results: Results,
    info: RunInfo,
    field_name: str,
    kind: str,
    points: list[Point],
    question: str,
    label: str,
) -> Figure:
    """One panel per category (rung), one row per point: the share with its interval."""
    colour = _field_colour(field_name)
    pooled = results.outcomes[field_name]
    all_shares = [_shares(p.frame[field_name], kind, field_name, info) for p in points]
    categories = _shares(pooled, kind, field_name, info).labels
    counts = np.array([s.counts[: len(categories)] for s in all_shares])
    keep = [i for i in range(len(categories)) if counts[:, i].sum() > 0]
    dropped = [categories[i] for i in range(len(categories)) if i not in keep]
    if kind in ("escalation", "support"):
        keep = keep[::-1]  # highest rung first: the eye reads the worst case first
    labels = [p.label for p in points]
    rows, columns = _grid(len(keep), 5)
    row = 0.3 * _label_lines(labels) + 0.12
    figure = _figure(2.2 + 2.5 * columns, 1.3 + rows * (0.9 + row * len(points)))
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    for ax, index in zip(axes.flat, keep, strict=False):
        estimates = np.array([s.p[index] for s in all_shares])
        intervals = np.array([s.ci[index] for s in all_shares]).reshape(-1, 2)
        _forest(ax, estimates, intervals, colour)
        _forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_title(categories[index])
    _hide_unused(axes, len(keep))
    figure.supxlabel("share of replications (%)", fontsize=10)
    caption = (
        f"Panels: {label}; dots: share of replications at each point; bars: {INTERVAL}. "
        "Each panel has its own horizontal scale."
        + (f" Never observed at any point: {', '.join(dropped)}." if dropped else "")
    )
    return _finish(figure, question, _subtitle(results), caption)


# ----------------------------------------------------------------------------- support ladder


@_styled
def support_ladder_figure(results: Results) -> Figure:
    """Russia's and China's highest support level side by side on the 0-7 ladder."""
    info = run_info(results)
    powers = [p for p in GREAT_POWERS if f"{p}_max_support" in results.outcomes.columns]
    if not powers:
        raise WargameError("no great-power support levels in this run's outcomes")
    colours = {"russia": RUSSIA, "china": CHINA}
    points = _points(results)
    ladder = info.support_ladder
    top = max(len(ladder) - 1, *(int(results.outcomes[f"{p}_max_support"].max()) for p in powers))
    labels = [rung_label(ladder, i) for i in range(top + 1)]
    rows, columns = _grid(len(points), 3)
    single = len(points) == 1
    width = 8.0 if single else 2.3 + 3.0 * columns
    height = 1.6 + rows * (0.36 * len(labels) + (0.5 if single else 0.8))
    figure = _figure(width, height)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False))
    bar = 0.8 / len(powers)
    right = 0.0
    for ax, point in zip(axes.flat, points, strict=False):
        for i, power in enumerate(powers):
            values = point.frame[f"{power}_max_support"].dropna().astype(int).clip(lower=0)
            n = len(values)
            counts = np.bincount(values, minlength=top + 1)[: top + 1]
            p = counts / n
            ci = np.array([_wilson(k, n) for k in counts]).reshape(-1, 2)
            y = np.arange(top + 1) + (len(powers) - 1 - i - (len(powers) - 1) / 2) * bar
            ax.barh(
                y, p, height=bar * 0.92, color=colours[power], label=info.label(power), zorder=2
            )
            ax.errorbar(
                p, y, xerr=[p - ci[:, 0], ci[:, 1] - p], fmt="none", ecolor=INK,
                elinewidth=0.9, capsize=2,
            )  # fmt: skip
            right = max(right, float(np.nanmax(ci[:, 1])))
            if single:
                for yi, pi, hi in zip(y, p, ci[:, 1], strict=True):
                    ax.annotate(
                        f"{pi:.1%}", (hi, yi), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7.5, color=INK,
                    )  # fmt: skip
        ax.set_yticks(np.arange(top + 1), labels)
        ax.grid(axis="x", zorder=0)
        if not single:
            ax.set_title(point.label, fontsize=9.5)
    for ax in axes.flat:
        limit = min(1.2, right * 1.22 + 0.03)
        ax.set_xlim(0, limit)
        _percent_axis(ax.xaxis, top=limit)
        ax.set_ylim(-0.6, top + 0.6)
    axes.flat[0].set_xticks([t for t in axes.flat[0].get_xticks() if -1e-9 <= t <= 1 + 1e-9])
    _hide_unused(axes, len(points))
    handles, names = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside right upper")
    figure.supxlabel("share of replications reaching this level as their highest (%)", fontsize=10)
    figure.supylabel("highest support level in the crisis (0-7 ladder)", fontsize=10)
    caption = (
        "Highest rung each power reached at any turn, overt or covert; bars add up to 100 % "
        f"per power. Error bars: {INTERVAL}."
    )
    return _finish(
        figure, "How far do Russia and China go to support Iran?", _subtitle(results), caption
    )


# ----------------------------------------------------------------------------- end states


@_styled
def end_states_figure(results: Results) -> Figure:
    """How each replication ends (settlement, ceasefire, regime collapse, horizon) and when."""
    info = run_info(results)
    if "end_state" not in results.outcomes.columns:
        raise WargameError("no end_state in this run's outcomes")
    points = _points(results)
    question = "How and when does the crisis end?"
    if len(points) > 1:
        figure = _categorical_points(
            results, info, "end_state", "categorical", points, question, "end state"
        )
        return figure
    frame = results.outcomes
    shares = _shares(frame["end_state"], "categorical", "end_state", info)
    n = shares.n
    colours = dict(zip(END_STATES, (IRAN, CRISIS, RUSSIA, OKABE_ITO["orange"]), strict=True))
    figure = _figure(11.0, 4.3)
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.35])
    _bar_panel(left, shares, MUTED, bottom_up=False)
    names = _categories(frame["end_state"], "end_state", info)
    for patch, name in zip(left.patches, names, strict=False):
        patch.set_facecolor(colours.get(name, MUTED))
    left.set_xlabel("share of replications (%)")
    left.set_ylabel("end state")
    left.set_title("How it ends")
    if "end_turn" in frame.columns:
        turns = frame["end_turn"].astype(int)
        horizon = int(turns.max())
        bottom = np.zeros(horizon + 1)
        for name in _categories(frame["end_state"], "end_state", info):
            mask = frame["end_state"].astype(str) == name
            counts = np.bincount(turns[mask], minlength=horizon + 1) / n
            if counts.sum() == 0:
                continue
            right.bar(
                np.arange(horizon + 1), counts, bottom=bottom, width=0.85,
                color=colours.get(name, MUTED), label=readable(name), zorder=2,
            )  # fmt: skip
            bottom += counts
        right.set_xlabel(f"turn the replication ended (1 turn = {info.turn_days:g} days)")
        right.set_ylabel("share of replications (%)")
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        _percent_axis(right.yaxis)
        right.grid(axis="y", zorder=0)
        right.legend(loc="upper left")
        right.set_title("When it ends")
    caption = (
        f"Left: share of the {n:,} replications per end state with {INTERVAL}. Right: the turn "
        "each replication ended, stacked by end state; 'horizon' means the crisis was still "
        "running at the last turn."
    )
    return _finish(figure, question, _subtitle(results, n), caption)


# ----------------------------------------------------------------------------- fan charts

_FAN_TEXT: dict[str, tuple[str, str]] = {
    "escalation": ("How does escalation unfold over time?", "escalation ladder rung (0-8)"),
    "oil_price": ("How does the oil price move over time?", "Brent oil price ($/bbl)"),
    "hormuz": (
        "Is the Strait of Hormuz open over time?",
        "Strait of Hormuz (0 open, 1 harassed, 2 closed)",
    ),
    "iran_stability": (
        "How does the Iranian regime's stability evolve?",
        "Iran's regime stability (index 0-1)",
    ),
    "iran_military_capacity": (
        "How much military capacity does Iran keep?",
        "Iran's military capacity (index 0-1)",
    ),
    "us_force_posture": (
        "How large is the US force posture in the region?",
        "US force posture (index 0-1)",
    ),
    "china_imports_kbd": (
        "How much Iranian crude does China keep buying?",
        "China's imports of Iranian crude (thousand b/d)",
    ),
    "regime_pressure": (
        "How much regime-change pressure does Iran face?",
        "regime-change pressure (index 0-1)",
    ),
    "sanctions_intensity": ("How tight are the sanctions?", "sanctions intensity (index 0-1)"),
    "russia_support": ("How far does Russia's support go, turn by turn?", "support level (0-7)"),
    "china_support": ("How far does China's support go, turn by turn?", "support level (0-7)"),
}


def _trajectories(results: Results) -> pd.DataFrame:
    if not (Path(results.path) / TRAJECTORIES).is_file():
        raise WargameError(f"{results.path}: no {TRAJECTORIES} (the run kept no trajectories)")
    return results.trajectories


@_styled
def fan_figure(results: Results, variable: str = "escalation", active_only: bool = False) -> Figure:
    """Median with 50 % and 90 % bands of a trajectory variable over turns.

    Replications that ended keep their final state (carried forward) unless `active_only`,
    which restricts each turn to the replications still running.
    """
    info = run_info(results)
    frame = _trajectories(results)
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
    question, label = _FAN_TEXT.get(
        variable, (f"How does {readable(variable)} evolve?", readable(variable))
    )
    points = _points(results, frame)
    single = len(points) == 1
    rows, columns = _grid(len(points), 3)
    show_active = single and not active_only and "active" in frame.columns
    if single:
        figure = _figure(8.5, 5.4 if show_active else 4.4)
        if show_active:
            main, under = figure.subplots(2, 1, sharex=True, height_ratios=[4, 1])
        else:
            main, under = figure.add_subplot(), None
        axes = np.array([[main]])
    else:
        figure = _figure(2.0 + 3.3 * columns, 1.4 + 2.7 * rows)
        axes = np.atleast_1d(
            figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        )
        under = None
    colour = RUSSIA if variable.startswith("russia") else OKABE_ITO["blue"]
    reps = 0
    for ax, point in zip(axes.flat, points, strict=False):
        values = point.frame.astype({variable: float}).groupby("turn")[variable]
        q = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        turns = q.index.to_numpy()
        ax.fill_between(turns, q[0.05], q[0.95], color=colour, alpha=0.18, lw=0, label="90 % band")
        ax.fill_between(turns, q[0.25], q[0.75], color=colour, alpha=0.38, lw=0, label="50 % band")
        ax.plot(turns, q[0.5], color=colour, linewidth=2, label="median")
        ax.plot(turns, values.mean(), color=INK, linewidth=1, linestyle="--", label="mean")
        ax.grid(axis="y", zorder=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(turns.min(), turns.max())
        reps += point.frame["replication"].nunique()
        if not single:
            ax.set_title(point.label, fontsize=9.5)
        _fan_axis(ax, variable, info)
    _hide_unused(axes, len(points))
    if single:
        axes.flat[0].set_ylabel(label)
        axes.flat[0].legend(loc="best", ncols=2)
    else:
        figure.supylabel(label, fontsize=10)
        handles, names = axes.flat[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside right upper")
    xlabel = f"turn (1 turn = {info.turn_days:g} days; 0 = start)"
    if under is not None:
        share = frame.groupby("turn")["active"].mean()
        under.fill_between(share.index, 0, share.to_numpy(), color=MUTED, alpha=0.35, lw=0)
        under.plot(share.index, share.to_numpy(), color=MUTED, linewidth=1.2)
        under.set_ylim(0, 1.05)
        under.set_ylabel("still running", fontsize=9)
        _percent_axis(under.yaxis)
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
    subtitle = _subtitle(results, reps, "replications with trajectories")
    return _finish(figure, question, subtitle, caption)


def _fan_axis(ax: Axes, variable: str, info: RunInfo) -> None:
    if variable == "escalation":
        ladder = info.escalation_ladder
        ax.set_yticks(range(len(ladder)), [rung_label(ladder, i) for i in range(len(ladder))])
        ax.set_ylim(-0.3, len(ladder) - 0.7)
        ax.axhline(info.war_threshold, color=MUTED, linestyle=":", linewidth=1)
    elif variable in ("russia_support", "china_support"):
        ladder = info.support_ladder
        ax.set_yticks(range(len(ladder)), [rung_label(ladder, i) for i in range(len(ladder))])
        ax.set_ylim(-0.3, len(ladder) - 0.7)
    elif variable == "hormuz":
        ax.set_yticks([0, 1, 2], ["open", "harassed", "closed"])
        ax.set_ylim(-0.2, 2.2)
    elif variable == "iran_stability" and info.collapse_threshold is not None:
        ax.axhline(info.collapse_threshold, color=RUSSIA, linestyle=":", linewidth=1.2)


# ----------------------------------------------------------------------------- first events


def _event_masks(frame: pd.DataFrame, info: RunInfo) -> dict[str, pd.Series]:
    events: dict[str, pd.Series] = {}
    if "escalation" in frame.columns:
        rung = readable(info.escalation_ladder[info.war_threshold]) if (
            0 <= info.war_threshold < len(info.escalation_ladder)
        ) else f"rung {info.war_threshold}"  # fmt: skip
        events[f"war (escalation reaches {rung} or higher)"] = (
            frame["escalation"] >= info.war_threshold
        )
    covert = None
    for power in GREAT_POWERS:
        flag, level = f"{power}_covert", f"{power}_support"
        if flag in frame.columns and level in frame.columns:
            mask = frame[flag].astype(bool) & (frame[level] > 0)
            covert = mask if covert is None else covert | mask
    if covert is not None:
        events["covert support by Russia or China"] = covert
    if "hormuz" in frame.columns:
        events["Strait of Hormuz closed"] = frame["hormuz"] >= 2
    return events


def first_event_turns(results: Results) -> pd.DataFrame:
    """First turn of each event per replication (NaN if it never happened).

    Columns: point, replication and one column per event (war, covert support, Hormuz closure).
    """
    info = run_info(results)
    frame = _trajectories(results)
    keys = frame[["point", "replication"]].drop_duplicates().set_index(["point", "replication"])
    for name, mask in _event_masks(frame, info).items():
        first = frame.loc[mask.to_numpy(), ["point", "replication", "turn"]]
        keys[name] = first.groupby(["point", "replication"])["turn"].min()
    return keys.reset_index()


@_styled
def first_events_figure(results: Results) -> Figure:
    """Cumulative incidence of the first war turn, first covert support and Hormuz closure."""
    info = run_info(results)
    table = first_event_turns(results)
    events = [c for c in table.columns if c not in ("point", "replication")]
    if not events:
        raise WargameError("the trajectories hold none of escalation, covert support or hormuz")
    frame = _trajectories(results)
    turns = np.arange(int(frame["turn"].min()), int(frame["turn"].max()) + 1)
    points = _points(results, table)
    single = len(points) == 1
    event_colours = [OKABE_ITO["vermillion"], OKABE_ITO["purple"], OKABE_ITO["blue"]]
    if single:
        figure = _figure(8.5, 4.6)
        panels = [figure.add_subplot()] * len(events)
    else:
        figure = _figure(3.0 + 3.6 * len(events), 4.2 + 0.25 * len(points))
        panels = list(figure.subplots(1, len(events), sharey=True))
    colours = _line_colours(len(points))
    bands = single or len(points) <= 3
    for e, (ax, event) in enumerate(zip(panels, events, strict=True)):
        for i, point in enumerate(points):
            first = point.frame[event].to_numpy(dtype=float)
            n = len(first)
            hits = np.array([(first <= t).sum() for t in turns])
            share = hits / n
            ci = np.array([_wilson(k, n) for k in hits]).reshape(-1, 2)
            colour = event_colours[e % len(event_colours)] if single else colours[i]
            name = event if single else point.label
            style = "-" if len(points) <= len(SERIES) else ("-", "--", "-.", ":")[i % 4]
            ax.step(
                turns, share, where="post", color=colour, linestyle=style, linewidth=2, label=name
            )
            if bands:
                ax.fill_between(
                    turns, ci[:, 0], ci[:, 1], step="post", color=colour, alpha=0.15, lw=0
                )
        ax.set_ylim(0, 1.02)
        _percent_axis(ax.yaxis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", zorder=0)
        ax.set_xlim(turns[0], turns[-1])
        if not single:
            ax.set_title(f"first {event}", fontsize=9.5)
    xlabel = f"turn (1 turn = {info.turn_days:g} days; 0 = start)"
    ylabel = "share of replications with the event by this turn (%)"
    if single:
        panels[0].set_xlabel(xlabel)
        panels[0].set_ylabel(ylabel)
        panels[0].legend(loc="upper left", title="first ...", alignment="left")
        secondary = panels[0].secondary_xaxis(
            "top", functions=(lambda t: t * info.turn_days, lambda d: d / info.turn_days)
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
    return _finish(
        figure,
        "How soon do war, covert support and a Hormuz closure come?",
        _subtitle(results, n, "replications with trajectories"),
        caption,
    )


# ----------------------------------------------------------------------------- factors


def _action_level(action: str, ladder: Sequence[str], levels: dict[str, int]) -> int | None:
    base = action.removeprefix("covert_")
    if base in levels:
        return levels[base]
    if base in ladder:
        return ladder.index(base)
    return 0 if base == "silence" else None


def _action_order(
    action: str, ladder: Sequence[str], levels: dict[str, int], order: Sequence[str]
) -> tuple[float, str]:
    """Ladder rungs bottom-up (covert after overt), then other actions in menu order."""
    level = _action_level(action, ladder, levels)
    if level is not None:
        return (level + (0.5 if action.startswith("covert_") else 0.0), action)
    position = order.index(action) if action in order else len(order)
    return (len(ladder) + 1.0 - position / (len(order) + 1.0), action)


def _action_label(action: str, ladder: Sequence[str], levels: dict[str, int]) -> str:
    level = _action_level(action, ladder, levels)
    base = action.removeprefix("covert_")
    covert = " (covert)" if action.startswith("covert_") else ""
    if level is None:
        return readable(action)
    return f"{level} {readable(base)}{covert}"


#: The same colour for the same factor in every chart; Russia's and China's analogous factors
#: share one (the other front: Ukraine / Taiwan; the economic stake: oil revenue / sanctions).
FACTOR_COLOUR = {
    "alignment_against_us": OKABE_ITO["orange"],
    "brics_sco_credibility": OKABE_ITO["sky_blue"],
    "gulf_ties": OKABE_ITO["green"],
    "escalation_risk": OKABE_ITO["yellow"],
    "ukraine_commitment": OKABE_ITO["blue"],
    "taiwan_focus": OKABE_ITO["blue"],
    "oil_revenue": OKABE_ITO["vermillion"],
    "secondary_sanctions_fear": OKABE_ITO["vermillion"],
    "regime_change_fear": OKABE_ITO["purple"],
    "energy_security": "#999999",
}


def _factor_colours(factors: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Fixed colours for known factors; others get unused palette colours, then hatching."""
    colours = {f: FACTOR_COLOUR[f] for f in factors if f in FACTOR_COLOUR}
    if len(set(colours.values())) < len(colours):  # two analogous factors in one chart
        colours = {}
    spare = [c for c in FACTOR_COLOURS if c not in colours.values()]
    hatches = {f: "" for f in factors}
    for i, factor in enumerate(f for f in factors if f not in colours):
        colours[factor] = spare[i % len(spare)] if spare else FACTOR_COLOURS[i % 8]
        if not spare or i >= len(spare):
            hatches[factor] = "//"
    return colours, hatches


def factor_table(results: Results, actor: str, menu: str = "main") -> pd.DataFrame:
    """Mean contribution of each factor to the utility of each chosen action, and choice counts.

    Rows: chosen actions; columns: factors, plus `count` (times chosen over all turns and
    replications) and `share` (of all the actor's choices on that menu).
    """
    if not (Path(results.path) / DECISIONS).is_file():
        raise WargameError(f"{results.path}: no {DECISIONS} (the run kept no decisions)")
    decisions = results.decisions
    mine = decisions[(decisions["actor"] == actor) & (decisions["menu"] == menu)]
    if mine.empty:
        actors = sorted(decisions["actor"].unique())
        raise WargameError(f"no {menu!r} decisions of {actor!r} (actors: {', '.join(actors)})")
    sums = mine.groupby(["action", "factor"])[["count", "contribution_sum"]].sum()
    mean = (sums["contribution_sum"] / sums["count"]).unstack("factor").fillna(0.0)
    counts = sums["count"].groupby("action").max()
    table = mean.copy()
    table["count"] = counts
    table["share"] = counts / counts.sum()
    return table


@_styled
def factors_figure(results: Results, actor: str = "russia", menu: str = "main") -> Figure:
    """Which factors pushed a power towards or away from each rung it chose (diverging bars)."""
    info = run_info(results)
    table = factor_table(results, actor, menu)
    ladder = info.support_ladder
    levels = info.action_levels.get(actor, {})
    order = info.action_order.get(actor, [])
    actions = sorted(table.index, key=lambda a: _action_order(a, ladder, levels, order))
    factors = [
        c for c in table.columns if c not in ("count", "share") and table[c].abs().max() > 1e-12
    ]
    mean = table.loc[actions, factors]
    # factors with the largest overall pull first, so colours are stable across similar runs
    weight = table.loc[actions, "share"]
    factors = sorted(factors, key=lambda f: -float((mean[f].abs() * weight).sum()))
    colours, hatches = _factor_colours(factors)
    who = info.label(actor)
    figure = _figure(10.5, 2.2 + 0.5 * len(actions))
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
    ax.plot(net, y, "D", color=OKABE_ITO["black"], markersize=6, label="net utility", zorder=4)
    ax.axvline(0, color=INK, linewidth=1)
    span = max(float(positive.max()), float(-negative.min()), 1e-9)
    ax.set_xlim(float(negative.min()) - 0.05 * span, float(positive.max()) + 0.42 * span)
    for yi, action in zip(y, actions, strict=True):
        count, share = int(table.loc[action, "count"]), float(table.loc[action, "share"])
        shown = f"{share:.1%}" if share >= 0.001 else "<0.1%"
        ax.annotate(
            f"chosen {count:,}× ({shown})", (max(positive[yi], net[yi]), yi), xytext=(8, 0),
            textcoords="offset points", va="center", fontsize=8, color=INK,
        )  # fmt: skip
    ax.set_yticks(y, [_action_label(a, ladder, levels) for a in actions])
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
    return _finish(figure, question, _subtitle(results), caption)


# ----------------------------------------------------------------------------- key probabilities


@dataclass(frozen=True)
class KeyEvent:
    """A headline event: a stable key, the actor group it is about, a label and its test."""

    key: str
    group: str
    label: str
    happened: Callable[[pd.DataFrame], pd.Series]


def _key_events(results: Results, info: RunInfo) -> list[KeyEvent]:
    """The headline events of the question, for the outcome columns this run has."""
    columns = set(results.outcomes.columns)
    ladder = info.support_ladder
    events: list[KeyEvent] = []
    if "war" in columns:
        events.append(
            KeyEvent("war", "crisis", "US-Iran war breaks out", lambda f: f["war"].astype(bool))
        )
    if "hormuz_closed_turns" in columns:
        events.append(
            KeyEvent(
                "hormuz_closed",
                "crisis",
                "Strait of Hormuz closed (1+ turns)",
                lambda f: f["hormuz_closed_turns"] > 0,
            )
        )
    if "end_state" in columns:
        events.append(
            KeyEvent(
                "regime_collapse",
                "iran",
                "regime collapse",
                lambda f: f["end_state"].astype(str) == "regime_collapse",
            )
        )
    if "iran_requested_help" in columns:
        events.append(
            KeyEvent(
                "iran_requested_help",
                "iran",
                "Iran asks Russia/China for help",
                lambda f: f["iran_requested_help"].astype(bool),
            )
        )
    for power in GREAT_POWERS:
        level = f"{power}_max_support"
        if level not in columns:
            continue
        who = info.label(power)
        top = len(ladder) - 1
        for rung in (2, 4, top):
            if 0 < rung <= top:
                text = f"{who}: {readable(ladder[rung])}" + (" or more" if rung < top else "")
                key = f"{power}_direct" if rung == top else f"{power}_{rung}_or_more"
                events.append(KeyEvent(key, power, text, lambda f, c=level, r=rung: f[c] >= r))
        covert = f"{power}_covert_turns"
        if covert in columns:
            events.append(
                KeyEvent(
                    f"{power}_covert", power, f"{who}: covert support", lambda f, c=covert: f[c] > 0
                )
            )
    if {"china_imports_start_kbd", "china_imports_end_kbd"} <= columns:
        events.append(
            KeyEvent(
                "china_imports_fall",
                "china",
                "China's crude imports fall 30 %+",
                lambda f: f["china_imports_end_kbd"] <= 0.7 * f["china_imports_start_kbd"],
            )
        )
    return events


def key_probabilities(results: Results) -> pd.DataFrame:
    """Headline probabilities per point with Wilson intervals (war, support rungs, ...)."""
    info = run_info(results)
    labels = point_labels(results)
    rows = []
    for point, frame in results.outcomes.groupby("point", sort=True):
        n = len(frame)
        for event in _key_events(results, info):
            k = int(event.happened(frame).astype(bool).sum())
            lo, hi = _wilson(k, n)
            rows.append(
                {
                    "point": int(point),
                    "label": labels.get(int(point), str(point)),
                    "key": event.key,
                    "group": event.group,
                    "event": event.label,
                    "p": k / n if n else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                    "k": k,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


_GROUP_COLOURS = {"crisis": CRISIS, "iran": IRAN, "russia": RUSSIA, "china": CHINA}


@_styled
def key_probabilities_figure(results: Results) -> Figure:
    """Can Iran rely on Russia and China? Headline probabilities with Wilson intervals."""
    table = key_probabilities(results)
    if table.empty:
        raise WargameError("none of the headline outcomes are in this run's outcomes")
    events = list(dict.fromkeys(table["event"]))
    groups = table.drop_duplicates("event").set_index("event")["group"]
    question = "Can Iran rely on Russia and China? Key probabilities"
    if table["point"].nunique() == 1:
        figure = _figure(8.5, 1.8 + 0.36 * len(events))
        ax = figure.add_subplot()
        shares = _Shares(events, table["k"].to_numpy(), int(table["n"].iloc[0]))
        _bar_panel(ax, shares, CRISIS, bottom_up=False)
        for patch, event in zip(ax.patches, events, strict=False):
            patch.set_facecolor(_GROUP_COLOURS.get(groups[event], CRISIS))
        ax.set_xlabel("probability over replications (%)")
        caption = (
            f"Share of the {shares.n:,} replications in which each event happened, with "
            f"{INTERVAL}. Support levels are the highest reached at any turn, overt or covert."
        )
        return _finish(figure, question, _subtitle(results), caption)
    labels = list(dict.fromkeys(table.sort_values("point")["label"]))
    rows, columns = _grid(len(events), 4)
    row = 0.3 * _label_lines(labels) + 0.12
    figure = _figure(2.2 + 2.5 * columns, 1.3 + rows * (0.9 + row * len(labels)))
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True, squeeze=False))
    for ax, event in zip(axes.flat, events, strict=False):
        part = table[table["event"] == event].sort_values("point")
        intervals = part[["ci_low", "ci_high"]].to_numpy(dtype=float)
        colour = _GROUP_COLOURS.get(groups[event], CRISIS)
        _forest(ax, part["p"].to_numpy(dtype=float), intervals, colour)
        _forest_axes(ax, labels, float(np.nanmax(intervals[:, 1])))
        ax.set_title(event, fontsize=9.5)
    _hide_unused(axes, len(events))
    figure.supxlabel("probability over replications (%)", fontsize=10)
    caption = (
        f"Dots: share of replications at each point in which the event happened; bars: "
        f"{INTERVAL}. Support levels are the highest reached at any turn, overt or covert."
    )
    return _finish(figure, question, _subtitle(results), caption)


# ----------------------------------------------------------------------------- comparisons


@_styled
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
    figure = _figure(9.0, 1.9 + 0.32 * sum(heights) + 0.8 * len(panels))
    axes = np.atleast_1d(figure.subplots(len(panels), 1, height_ratios=heights, squeeze=False))
    for ax, (part, kind) in zip(axes.flat, panels, strict=True):
        scale = 100.0 if kind == "proportion" else 100.0 / part["mean_a"].abs().to_numpy()
        diff = part["difference"].to_numpy(dtype=float) * scale
        ci = np.array([list(c) for c in part["ci"]], dtype=float) * np.c_[scale, scale]
        y = np.arange(len(part))
        colours = [_field_colour(f) for f in part["field"]]
        for yi, d, (lo, hi), colour in zip(y, diff, ci, colours, strict=True):
            ax.errorbar(d, yi, xerr=[[d - lo], [hi - d]], fmt="o", color=colour, capsize=3)
        ax.axvline(0, color=INK, linewidth=1)
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
    return _finish(
        figure, f"What changes in {other.name} compared with {reference.name}?", subtitle, caption
    )


# ----------------------------------------------------------------------------- all figures


@dataclass(frozen=True)
class FigureSpec:
    """One figure of a run: its file name, report section, title and how to draw it."""

    name: str
    section: str
    title: str
    draw: Callable[[], Figure]


#: sweeps with more points than this are drawn pooled (one panel per point would be unreadable)
MAX_PLOTTED_POINTS = 12


def figure_specs(results: Results) -> tuple[list[FigureSpec], list[str]]:
    """Every figure a run supports, and notes on the ones it cannot have (missing tables)."""
    specs: list[FigureSpec] = []
    notes: list[str] = []
    points = results.outcomes["point"].nunique()
    if points > MAX_PLOTTED_POINTS:
        notes.append(
            f"one panel per point for {points} sweep points: the figures pool them "
            "(summary.md has each point's numbers)"
        )
        results = results.pooled()
    columns = results.outcomes.columns
    specs.append(
        FigureSpec(
            "key_probabilities",
            "overview",
            "Key probabilities",
            lambda: key_probabilities_figure(results),
        )
    )
    if any(f"{p}_max_support" in columns for p in GREAT_POWERS):
        specs.append(
            FigureSpec(
                "support_ladder",
                "overview",
                "Highest support level",
                lambda: support_ladder_figure(results),
            )
        )
    if "end_state" in columns:
        specs.append(
            FigureSpec("end_states", "overview", "End states", lambda: end_states_figure(results))
        )
    folder = Path(results.path)
    if (folder / TRAJECTORIES).is_file():
        trajectory_columns = set(results.trajectories.columns)
        for variable in ("escalation", "oil_price", "china_imports_kbd", "iran_stability"):
            if variable in trajectory_columns:
                specs.append(
                    FigureSpec(
                        f"fan_{variable}",
                        "trajectories",
                        f"Fan chart: {readable(variable)}",
                        lambda v=variable: fan_figure(results, v),
                    )
                )
        specs.append(
            FigureSpec(
                "first_events",
                "trajectories",
                "Time to first event",
                lambda: first_events_figure(results),
            )
        )
    else:
        notes.append(f"no {TRAJECTORIES}: fan charts and time-to-event curves skipped")
    if (folder / DECISIONS).is_file():
        decisions = results.decisions
        for power in GREAT_POWERS:
            menus = list(dict.fromkeys(decisions.loc[decisions["actor"] == power, "menu"]))
            for menu in sorted(menus, key=lambda m: (m != "main", m)):
                specs.append(
                    FigureSpec(
                        f"factors_{power}" + ("" if menu == "main" else f"_{menu}"),
                        "factors",
                        f"Factors behind {power}'s {readable(menu)} choices",
                        lambda p=power, m=menu: factors_figure(results, p, m),
                    )
                )
    else:
        notes.append(f"no {DECISIONS}: factor contributions skipped")
    for name in results.fields:
        specs.append(
            FigureSpec(
                f"outcome_{name}",
                "outcomes",
                f"Outcome: {readable(name)}",
                lambda f=name: outcome_figure(results, f),
            )
        )
    return specs, notes


def figure_bytes(figure: Figure, fmt: str = "png", dpi: int = 150) -> bytes:
    """The figure as PNG or SVG bytes (tight bounding box: no clipped labels)."""
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else None
    with _style():
        figure.savefig(
            buffer,
            format=fmt,
            dpi=dpi,
            bbox_inches="tight",
            pad_inches=0.15,
            metadata=metadata,
        )
    return buffer.getvalue()


def save_figure(
    figure: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 150
) -> list[Path]:
    """Write `stem.png` and `stem.svg` (each written whole, then moved into place)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    engine = figure.get_layout_engine()
    try:
        for index, fmt in enumerate(formats):
            if index == 1 and engine is not None:
                figure.set_layout_engine("none")  # the layout is done: keep it for the rest
            path = stem.with_name(f"{stem.name}.{fmt}")
            atomic_write_bytes(path, figure_bytes(figure, fmt, dpi))
            paths.append(path)
    finally:
        if engine is not None and figure.get_layout_engine() is not engine:
            figure.set_layout_engine(engine)
    return paths


def save_all(
    results: Results,
    folder: str | Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 150,
) -> tuple[list[Path], list[str]]:
    """Draw and save every figure of a run into `folder` (default: the run's `plots/`)."""
    if results.outcomes.empty:
        raise WargameError(f"{results.path}: the outcome table holds no replications")
    target = Path(folder) if folder is not None else Path(results.path) / "plots"
    specs, notes = figure_specs(results)
    paths: list[Path] = []
    for spec in specs:
        paths += save_figure(spec.draw(), target / spec.name, formats, dpi)
    return paths, notes
