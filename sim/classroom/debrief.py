"""The debrief: what the class did, what the model would have done, and how unusual it was.

The class's game is one draw from the same start the model can play thousands of times, so the
honest comparison is a placement in that distribution ("the class escalated further than 88 %
of 2,000 simulated games"), computed from the outcome records of a batch run with the game's own
scenario and seed. The live forecast does the same from the current turn: a batch of simulated
futures forked from the game's present state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.labels import Labels, rung_label
from sim.classroom import channels, charts
from sim.classroom.game import Game, menu_title
from sim.classroom.record import hormuz_label
from sim.classroom.views import act_line, refusal
from sim.engine.model import CrisisModel
from sim.engine.outcomes import END_STATE_LABELS
from sim.engine.streams import stream_id

END_PHRASES = {
    "settlement": "ended in a negotiated settlement",
    "ceasefire": "ended in a ceasefire",
    "regime_collapse": "ended in the collapse of the regime",
    "horizon": "ran to the horizon without a settlement or a ceasefire",
}

_SIMULATED: dict[tuple[str, int, int], pd.DataFrame] = {}
_SIMULATED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Measure:
    """An outcome column, and which direction counts as going further (for `placement`)."""

    column: str
    title: str
    beyond: str  # what going further means, for the reader of the code and the exports
    higher_is_beyond: bool = True


def measures(game: Game) -> list[Measure]:
    result = [
        Measure("max_escalation", "Highest escalation rung", "escalated further than"),
        Measure("turns_at_war", "Turns at war", "spent more turns at war than"),
        Measure("peak_oil_price", "Peak oil price ($/bbl)", "pushed oil higher than"),
        Measure(
            "hormuz_closed_turns", "Turns with Hormuz closed", "kept Hormuz closed longer than"
        ),
    ]
    for power in game.model.world.great_power_ids():
        label = game.model.actors[power].label
        result.append(
            Measure(
                f"{power}_max_support",
                f"{label}'s highest support rung",
                f"drew more support from {label} than",
            )
        )
    result += [
        Measure(
            "iran_min_stability",
            "Iran's lowest regime stability",
            "brought Iran's regime closer to collapse than",
            higher_is_beyond=False,
        ),
        Measure(
            "iran_reliance_gap",
            "Iran's reliance gap (expected minus received support)",
            "left a wider gap between the help Iran expected and the help it got than",
        ),
    ]
    return result


def simulated(game: Game, n: int | None = None) -> pd.DataFrame:
    """Outcome records of simulated games from the same start (cached per scenario and seed)."""
    scenario = game.setup.scenario
    n = game.classroom.debrief_games if n is None else n
    key = (scenario.model_dump_json(), game.setup.seed, n)
    with _SIMULATED_LOCK:
        if key not in _SIMULATED:
            _SIMULATED[key] = CrisisModel(scenario, n, rng=game.setup.seed).run().outcome_frame()
        return _SIMULATED[key]


def forecast_seed(game: Game) -> int:
    """The master seed of the futures forecast after the turns played so far.

    The futures must not reuse the game's own seed (they would replay the dice the class is
    playing with), and each turn's forecast gets its own draws; it is the same every time it is
    asked for, so a forecast can be reproduced. NumPy's `SeedSequence` mixes the game's seed, the
    forecast's purpose and the turn into one well-spread seed.
    """
    sequence = np.random.SeedSequence([game.setup.seed, stream_id("forecast"), game.played])
    return int(sequence.generate_state(1, np.uint64)[0])


def forecast(game: Game, n: int | None = None) -> pd.DataFrame:
    """Simulated futures continued from the game's current state."""
    n = game.classroom.forecast_games if n is None else n
    return game.model.fork(n, forecast_seed(game)).run().outcome_frame()


def class_record(game: Game) -> dict[str, Any]:
    """The class's outcome record so far (its final one once the crisis has ended)."""
    row = game.model.outcome_frame().iloc[0]
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def placement(value: float, values: np.ndarray, higher_is_beyond: bool = True) -> dict[str, float]:
    """Shares (in %) of simulated values the class went beyond, matched, and fell short of."""
    values = np.asarray(values, dtype=float)
    if not higher_is_beyond:
        value, values = -value, -values
    tolerance = 1e-9 * max(1.0, abs(value))
    same = np.abs(values - value) <= tolerance
    beyond = (values < value) & ~same
    n = max(1, values.size)
    return {
        "beyond": 100.0 * beyond.sum() / n,
        "same": 100.0 * same.sum() / n,
        "short": 100.0 * (~beyond & ~same).sum() / n,
    }


def _share(percent: float, what: str) -> str:
    if percent <= 0:
        return ""
    if percent < 0.5:
        shown = "under 1 %"
    elif 99.5 <= percent < 100.0:
        shown = "over 99 %"
    else:
        shown = f"{percent:.0f} %"
    return f"{shown} {what}"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def placement_sentence(measure: Measure, value: float, shares: dict[str, float], n: int) -> str:
    """A sentence a student can read: the class's value, then how many simulated games stayed
    lower, reached the same and went higher (shares of 0 left out)."""
    lower = shares["beyond"] if measure.higher_is_beyond else shares["short"]
    higher = shares["short"] if measure.higher_is_beyond else shares["beyond"]
    parts = [
        _share(lower, "stayed lower"),
        _share(shares["same"], "reached the same"),
        _share(higher, "went higher"),
    ]
    said = [p for p in parts if p]
    listed = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return (
        f"{measure.title}: {_number(value)} in the class's game. Of {n:,} simulated games "
        f"from the same start, {listed}."
    )


def placements(game: Game, frame: pd.DataFrame, record: dict[str, Any]) -> list[dict[str, Any]]:
    """One sentence and one histogram per measure."""
    n = len(frame)
    rows = []
    for measure in measures(game):
        if measure.column not in frame:
            continue
        value = float(record[measure.column])
        shares = placement(value, frame[measure.column].to_numpy(), measure.higher_is_beyond)
        rows.append(
            {
                "column": measure.column,
                "title": measure.title,
                "value": value,
                "sentence": placement_sentence(measure, value, shares, n),
                **shares,
                "chart": charts.histogram(measure.title, frame[measure.column], value),
            }
        )
    return rows


def end_states(game: Game) -> dict[str, str]:
    """How a crisis may end (the outcome records' categories) -> in words."""
    return {s: game.labels.category(s) for s in END_STATE_LABELS if s != "ongoing"}


def end_summary(game: Game, frame: pd.DataFrame) -> dict[str, Any]:
    """How the class's game ended, and how often simulated games end that way."""
    shares = frame["end_state"].value_counts(normalize=True)
    state = game.end_id()
    if state is None:
        sentence = (
            f"The class's game is still running after {game.played} of {game.horizon} turns; "
            "the figures below are its record so far."
        )
    else:
        share = 100.0 * float(shares.get(state, 0.0))
        how = END_PHRASES.get(state, f"ended: {game.end_state()}")
        sentence = (
            f"The class's game {how} (turn {game.played}); "
            f"so did {share:.0f} % of {len(frame):,} simulated games."
        )
    chart = charts.categories(
        "How simulated games end", end_states(game), list(frame["end_state"]), state
    )
    return {"sentence": sentence, "chart": chart}


def choices(game: Game) -> list[dict[str, Any]]:
    """Each team's move every turn beside the advisor's top choice for it."""
    rows = []
    for record in game.turns:
        for actor, seat in game.seats.items():
            acts = [a for a in record.acts if a.actor == actor]
            for act in acts:
                advised = record.advice.get(actor, {}).get(act.menu)
                rows.append(
                    {
                        "turn": record.turn,
                        "team": seat.name,
                        "label": seat.label,
                        "menu": menu_title(act.menu),
                        "chosen": game.labels.action(act.action),
                        "covert": act.covert,
                        "advised": game.labels.action(advised) if advised else "",
                        "agreed": advised == act.action,
                        "by": _decided_by(game.labels, act, record.model_moved.get(actor)),
                        "rationale": record.rationales.get(actor, "") if act.by == "team" else "",
                    }
                )
    return rows


def _decided_by(labels: Labels, act, model_moved: str | None) -> str:
    """Who decided a team actor's act, and why the team did not."""
    refused = labels.action(act.refused)
    if act.by == "model" and act.refused:
        return f"model ({refused} was no longer possible after the turn's events)"
    if act.by == "white cell" and act.refused:
        return f"white cell (an event forced it in place of {refused})"
    if act.by == "model" and model_moved:
        return f"model ({model_moved})"
    return act.by


def agreement(game: Game, rows: list[dict[str, Any]]) -> list[str]:
    """Per team: how often its own moves matched the advisor."""
    lines = []
    for seat in game.seats.values():
        own = [r for r in rows if r["team"] == seat.name and r["by"] == "team"]
        if own:
            agreed = sum(r["agreed"] for r in own)
            lines.append(
                f"Team {seat.name} ({seat.label}) chose what the advisor ranked first "
                f"in {agreed} of {len(own)} moves."
            )
    return lines


def timeline(game: Game) -> list[dict[str, Any]]:
    """Every turn in full, covert acts included (the debrief reveals everything)."""
    ladder = game.setup.scenario.ladders.escalation
    messages = channels.visible(game, "facilitator")
    rows = []
    for record in game.turns:
        state = record.state
        rows.append(
            {
                "turn": record.turn,
                "notes": [p["note"] + ("" if p["public"] else " (secret)") for p in record.injects],
                "acts": [act_line(act, game, "facilitator") for act in record.acts],
                "model_moved": {game.seats[a].name: why for a, why in record.model_moved.items()},
                "refused": [
                    refusal(game, act, record, reader="white cell")
                    for act in record.acts
                    if act.refused
                ],
                "incidents": record.incidents,
                "exposed": [game.model.actors[p].label for p in record.discovered],
                "ended": record.ended,
                "escalation": rung_label(ladder, state["escalation"]),
                "oil_price": state["oil_price"],
                "hormuz": hormuz_label(state["hormuz"]),
                "iran_stability": state["iran_stability"],
                "rationales": {game.seats[a].name: why for a, why in record.rationales.items()},
                "messages": [m for m in messages if m["turn"] == record.turn],
            }
        )
    return rows


def debrief(game: Game, n: int | None = None) -> dict[str, Any]:
    """Everything the debrief page, the terminal debrief and the after-action review show."""
    frame = simulated(game, n)
    record = class_record(game)
    rows = choices(game)
    return {
        "title": game.classroom.title or game.setup.scenario.name,
        "games": len(frame),
        "seed": game.setup.seed,
        "record": record,
        "placements": placements(game, frame, record),
        "end": end_summary(game, frame),
        "choices": rows,
        "agreement": agreement(game, rows),
        "timeline": timeline(game),
        "messages": channels.visible(game, "facilitator"),
    }


def draw(context: dict[str, Any], end_axis: str = "") -> dict[str, Any]:
    """Draw a debrief's placement and end-state charts as inline SVG (for its pages)."""
    for row in context["placements"]:
        row["svg"] = charts.svg(row["chart"])
    context["end"]["svg"] = charts.svg(context["end"]["chart"], x_title=end_axis)
    return context


def forecast_summary(game: Game, n: int | None = None) -> dict[str, Any]:
    """The live forecast: where the crisis goes from here in simulated futures."""
    frame = forecast(game, n)
    powers = game.model.world.great_power_ids()
    war = 100.0 * float(frame["war"].mean())
    chart_list = [
        charts.histogram("Highest escalation rung", frame["max_escalation"]),
        charts.categories("How the crisis ends", end_states(game), list(frame["end_state"])),
        charts.histogram("Peak oil price ($/bbl)", frame["peak_oil_price"]),
    ]
    for power in powers:
        label = game.model.actors[power].label
        chart_list.append(
            charts.histogram(f"{label}'s highest support rung", frame[f"{power}_max_support"])
        )
    return {
        "turn": game.played,
        "games": len(frame),
        "sentences": [
            f"From turn {game.played}, {war:.0f} % of {len(frame):,} simulated futures "
            "reach armed conflict (or are already there).",
            *(
                f"{game.model.actors[p].label} intervenes militarily in "
                f"{100.0 * float(frame[f'{p}_intervened'].mean()):.0f} % of them."
                for p in powers
            ),
        ],
        "charts": chart_list,
    }
