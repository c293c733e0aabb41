"""A readable turn-by-turn account of one replication: who did what, and why.

The engine keeps structured records of a replication that recorded its decisions (the state per
turn, each decision with its factor contributions, each turn's incidents and endings); this
module words them with the run's labels, so moves, factors, rungs and endings read as words.
"""

from __future__ import annotations

import numpy as np

from sim.analysis import formatting as fmt
from sim.analysis.labels import Labels, readable, rung_label, sentence
from sim.engine.model import CrisisModel
from sim.engine.world import EndState, Hormuz

TOP_FACTORS = 3
#: contributions smaller than this are left out of a move's reasons
SMALLEST_REASON = 0.005


def _reasons(labels: Labels, names: tuple[str, ...], contributions: np.ndarray) -> str:
    order = np.argsort(-np.abs(contributions))[:TOP_FACTORS]
    return ", ".join(
        f"{labels.factor(names[i])} {fmt.number(round(float(contributions[i]), 2), sign=True)}"
        for i in order
        if abs(contributions[i]) >= SMALLEST_REASON
    )


def turn_lines(
    model: CrisisModel, labels: Labels, turn: int, decisions, report, row: int = 0
) -> list[str]:
    """Lines for one turn of replication `row` of a model that recorded its decisions."""
    crisis = model.crisis
    first_day = (turn - 1) * crisis.turn_days + 1
    last_day = turn * crisis.turn_days
    snapshot = model.trajectory[turn]
    rung = int(snapshot["escalation"][row])
    lines = [
        f"Turn {turn} (days {first_day:g}-{last_day:g}): escalation "
        f"{rung_label(labels.escalation_ladder, rung)}, "
        f"oil ${snapshot['oil_price'][row]:.0f}, "
        f"Strait of Hormuz {Hormuz(int(snapshot['hormuz'][row])).name.lower()}, "
        f"Iran's regime stability {fmt.number(round(float(snapshot['iran_stability'][row]), 2))}"
    ]
    for inject in crisis.injects:
        if inject.turn == turn and inject.note:
            lines.append(f"  * {inject.note}")
    for decision in decisions:
        chosen = decision.chosen[row]
        action = labels.action(decision.menu.actions[chosen])
        description = decision.menu.descriptions[chosen]
        level = decision.menu.levels[chosen]
        rung_note = (
            f" [support {level}: {readable(labels.support_ladder[level])}]" if level >= 0 else ""
        )
        if decision.forced[row]:
            why = "imposed by the scenario or a player"
        else:
            why = _reasons(labels, decision.factors, decision.contributions[row])
        lines.append(f"  {labels.label(decision.actor_id)}: {action}{rung_note} - {description}")
        if why:
            lines.append(f"      because: {why}")
    for name, struck in report.incidents.items():
        if struck[row]:
            lines.append(f"  ! incident: {crisis.incidents[name].description}")
    for power, found in report.discovered.items():
        if found[row]:
            lines.append(f"  ! {sentence(labels.whose(power))} covert support is exposed")
    if report.ended[row]:
        state = EndState(int(model.world.end_state[row]))
        lines.append(f"  = the crisis ends: {labels.category(state.label)}")
    return lines


def narrate(model: CrisisModel, row: int = 0) -> str:
    """The whole story of a finished model's replication `row` (needs record_decisions)."""
    labels = Labels.from_scenario(model.crisis)
    lines = [f"{model.crisis.name}: {model.crisis.description.strip()}", ""]
    for (turn, decisions), report in zip(model.decision_log, model.reports, strict=True):
        if not model.trajectory[turn - 1]["active"][row]:
            break
        lines += turn_lines(model, labels, turn, decisions, report, row)
    return "\n".join(lines)
