"""The numbers behind the figures, without matplotlib: shares with intervals per point,
headline events, first-event turns, factor contributions and how each outcome is drawn.

Figures (`sim.output`) take these and draw; a notebook can use them directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.headline import BEYOND_WORDS
from sim.analysis.labels import Labels, readable, rung_label
from sim.analysis.results import Results
from sim.scenario.errors import WargameError

END_STATES = ["settlement", "ceasefire", "regime_collapse", "horizon"]
GREAT_POWERS = ("russia", "china")
INTERVAL = "95 % Wilson intervals"


# ----------------------------------------------------------------------------- points


@dataclass(frozen=True)
class Point:
    """One sweep point (or scenario) of a run: its id, readable label and outcome rows."""

    point: int
    label: str
    frame: pd.DataFrame


def point_labels(results: Results) -> dict[int, str]:
    """A readable label per sweep point or scenario (parameters one per line)."""
    table = results.points.sort_values("point")
    parameters = results.parameters
    words = results.labels
    several_scenarios = table["scenario"].nunique() > 1
    labels = {}
    for _, row in table.iterrows():
        parts = [str(row["scenario"])] if several_scenarios or not parameters else []
        parts += [f"{words.parameter(p)} = {fmt.value(row[p])}" for p in parameters]
        labels[int(row["point"])] = "\n".join(parts)
    return labels


def points_of(results: Results, frame: pd.DataFrame | None = None) -> list[Point]:
    """The run's points with their rows of `frame` (default: the outcomes)."""
    frame = results.outcomes if frame is None else frame
    labels = point_labels(results)
    return [
        Point(int(p), labels.get(int(p), f"point {p}"), group)
        for p, group in frame.groupby("point", sort=True)
    ]


def is_scenario_list(results: Results) -> bool:
    return results.outcomes["scenario"].nunique() > 1


def subtitle(results: Results, n: int | None = None, what: str = "replications") -> str:
    """`Scenario: baseline · n = 5,000 replications` (and the points of a sweep).

    Always counts every run in the folder, or says which subset (`what`) it counts.
    """
    counts = results.outcomes.groupby("point").size()
    if len(counts) <= 1:
        n = int(counts.sum()) if n is None else n
        return f"Scenario: {results.name} · n = {fmt.count(n)} {what}"
    kind = "scenarios" if is_scenario_list(results) else "sweep points"
    if counts.nunique() == 1:
        per = fmt.count(counts.iloc[0])
    else:
        per = f"{fmt.count(counts.min())}-{fmt.count(counts.max())}"
    total = int(counts.sum()) if n is None else n
    if n is not None and what != "replications":
        return f"Scenario: {results.name} · {len(counts)} {kind} · n = {fmt.count(total)} {what}"
    return (
        f"Scenario: {results.name} · {len(counts)} {kind} × {per} replications "
        f"(n = {fmt.count(total)})"
    )


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson interval of k successes in n (NaN for no runs)."""
    if n <= 0:
        return (math.nan, math.nan)
    return stats.wilson_interval(int(k), int(n))


# ----------------------------------------------------------------------------- outcome kinds


def field_kind(series: pd.Series, field_name: str) -> str:
    """How a field is drawn: escalation, support, boolean, categorical, count or continuous."""
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


def outcome_kind(results: Results, field_name: str) -> str:
    """How a field of this run is drawn (see `field_kind`)."""
    return field_kind(results.outcomes[field_name], field_name)


def is_constant(series: pd.Series) -> bool:
    """True when every replication has the same value: nothing to draw."""
    return series.dropna().astype(str).nunique() <= 1


def categories(series: pd.Series, field_name: str, labels: Labels) -> list[str]:
    """The categories of a categorical field in their natural order, then any others seen."""
    seen = [str(v) for v in series.dropna().astype(str).value_counts().index]
    if field_name == "end_state":
        order = list(END_STATES)
    elif field_name.startswith("gulf_") and field_name.endswith("_stance"):
        actor = field_name.removeprefix("gulf_").removesuffix("_stance")
        order = list(labels.gulf_moves.get(actor, []))
    elif field_name.endswith("_max_action"):  # an actor's highest move, in its menu's order
        order = list(labels.action_order.get(field_name.removesuffix("_max_action"), []))
    else:
        order = []
    return order + [c for c in seen if c not in order]


@dataclass(frozen=True)
class Shares:
    """Counts of each category (rung, yes/no) among n replications, with Wilson intervals."""

    labels: list[str]
    counts: np.ndarray
    n: int

    @property
    def p(self) -> np.ndarray:
        return self.counts / self.n if self.n else np.full(len(self.counts), np.nan)

    @property
    def ci(self) -> np.ndarray:
        return np.array([wilson(k, self.n) for k in self.counts]).reshape(-1, 2)


def shares(series: pd.Series, kind: str, field_name: str, labels: Labels) -> Shares:
    """The distribution of a ladder, boolean or categorical field."""
    values = series.dropna()
    n = len(values)
    if kind in ("escalation", "support"):
        ladder = labels.escalation_ladder if kind == "escalation" else labels.support_ladder
        top = max(len(ladder) - 1, int(values.max()) if n else 0)
        counts = np.bincount(values.astype(int).clip(lower=0), minlength=top + 1)
        return Shares([rung_label(ladder, i) for i in range(top + 1)], counts, n)
    if kind == "boolean":
        yes = int(values.astype(bool).sum())
        return Shares(["yes", "no"], np.array([yes, n - yes]), n)
    names = categories(values, field_name, labels)
    tally = values.astype(str).value_counts()
    counts = np.array([int(tally.get(c, 0)) for c in names])
    return Shares([labels.category(c) for c in names], counts, n)


def point_shares(
    points: list[Point], event: Callable[[pd.DataFrame], pd.Series]
) -> tuple[np.ndarray, np.ndarray]:
    """Share of replications with `event` per point, and its Wilson interval."""
    estimates, intervals = [], []
    for point in points:
        values = event(point.frame)
        n, k = int(len(values)), int(values.sum())
        estimates.append(k / n if n else math.nan)
        intervals.append(wilson(k, n))
    return np.array(estimates, dtype=float), np.array(intervals, dtype=float).reshape(-1, 2)


# ----------------------------------------------------------------------------- key events


@dataclass(frozen=True)
class KeyEvent:
    """A headline event: a stable key, the actor group it is about, a label and its test."""

    key: str
    group: str
    label: str
    happened: Callable[[pd.DataFrame], pd.Series]


def key_events(results: Results, labels: Labels) -> list[KeyEvent]:
    """The headline events of the question, for the outcome columns this run has."""
    columns = set(results.outcomes.columns)
    ladder = labels.support_ladder
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
    if "leader_killed" in columns:
        events.append(
            KeyEvent(
                "leader_killed",
                "iran",
                "Supreme Leader killed",
                lambda f: f["leader_killed"].astype(bool),
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
        who = labels.label(power)
        top = len(ladder) - 1
        for rung in (2, BEYOND_WORDS, 4, top):
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
    labels = point_labels(results)
    events = key_events(results, results.labels)
    rows = []
    for point, frame in results.outcomes.groupby("point", sort=True):
        n = len(frame)
        for event in events:
            k = int(event.happened(frame).astype(bool).sum())
            lo, hi = wilson(k, n)
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


# ----------------------------------------------------------------------------- first events


def trajectories(results: Results) -> pd.DataFrame:
    """The trajectory table, or a one-line error if the run kept none."""
    if not results.has_trajectories:
        raise WargameError(f"{results.path}: no trajectories (the run kept none)")
    return results.trajectories


def event_masks(frame: pd.DataFrame, labels: Labels) -> dict[str, pd.Series]:
    events: dict[str, pd.Series] = {}
    if "escalation" in frame.columns:
        rung = readable(labels.escalation_ladder[labels.war_threshold]) if (
            0 <= labels.war_threshold < len(labels.escalation_ladder)
        ) else f"rung {labels.war_threshold}"  # fmt: skip
        events[f"war (escalation reaches {rung} or higher)"] = (
            frame["escalation"] >= labels.war_threshold
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
    labels = results.labels
    frame = trajectories(results)
    keys = frame[["point", "replication"]].drop_duplicates().set_index(["point", "replication"])
    for name, mask in event_masks(frame, labels).items():
        first = frame.loc[mask.to_numpy(), ["point", "replication", "turn"]]
        keys[name] = first.groupby(["point", "replication"])["turn"].min()
    return keys.reset_index()


# ----------------------------------------------------------------------------- factors


def action_level(action: str, ladder: Sequence[str], levels: dict[str, int]) -> int | None:
    base = action.removeprefix("covert_")
    if base in levels:
        return levels[base]
    if base in ladder:
        return ladder.index(base)
    return 0 if base == "silence" else None


def action_order(
    action: str, ladder: Sequence[str], levels: dict[str, int], order: Sequence[str]
) -> tuple[float, str]:
    """Ladder rungs bottom-up (covert after overt), then other actions in menu order."""
    level = action_level(action, ladder, levels)
    if level is not None:
        return (level + (0.5 if action.startswith("covert_") else 0.0), action)
    position = order.index(action) if action in order else len(order)
    return (len(ladder) + 1.0 - position / (len(order) + 1.0), action)


def action_label(action: str, ladder: Sequence[str], levels: dict[str, int]) -> str:
    level = action_level(action, ladder, levels)
    base = action.removeprefix("covert_")
    covert = " (covert)" if action.startswith("covert_") else ""
    if level is None:
        return readable(action)
    return f"{level} {readable(base)}{covert}"


def factor_table(results: Results, actor: str, menu: str = "main") -> pd.DataFrame:
    """Mean contribution of each factor to the utility of each chosen action, and choice counts.

    Rows: chosen actions; columns: factors, plus `count` (times chosen over all turns and
    replications) and `share` (of all the actor's choices on that menu).
    """
    if not results.has_decisions:
        raise WargameError(f"{results.path}: no decisions (the run kept none)")
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


# ----------------------------------------------------------------------------- ordinal over time

#: trajectory variables that are rungs of a ladder (or states), not quantities
ORDINAL_VARIABLES = ("escalation", "russia_support", "china_support", "hormuz")
HORMUZ_STATES = ["open", "harassed", "closed"]


def ordinal_levels(variable: str, labels: Labels) -> list[str]:
    """The named levels of an ordinal trajectory variable, bottom rung first."""
    if variable == "escalation":
        ladder = labels.escalation_ladder
    elif variable.endswith("_support"):
        ladder = labels.support_ladder
    elif variable == "hormuz":
        return list(HORMUZ_STATES)
    else:
        raise WargameError(f"{variable}: not a ladder variable ({', '.join(ORDINAL_VARIABLES)})")
    return [rung_label(ladder, i) for i in range(len(ladder))]


def rung_shares(frame: pd.DataFrame, variable: str, levels: int) -> pd.DataFrame:
    """Share of replications on each level per turn (rows: turns, columns: levels 0..)."""
    values = frame[variable].round().astype(int).clip(0, levels - 1)
    counts = pd.crosstab(frame["turn"], values)
    counts = counts.reindex(columns=range(levels), fill_value=0)
    return counts.div(counts.sum(axis=1), axis=0)
