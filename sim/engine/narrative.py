"""A readable turn-by-turn account of one replication: who did what, and why."""

from __future__ import annotations

import numpy as np

from sim.engine.model import CrisisModel
from sim.engine.world import EndState, Hormuz

TOP_FACTORS = 3


def _factor_list(names: tuple[str, ...], contributions: np.ndarray) -> str:
    order = np.argsort(-np.abs(contributions))[:TOP_FACTORS]
    return ", ".join(
        f"{names[i]} {contributions[i]:+.2f}" for i in order if abs(contributions[i]) >= 0.005
    )


def _words(name: str) -> str:
    """A rung's name as it reads (`limited_strikes` -> `limited strikes`)."""
    return name.replace("_", " ")


def turn_lines(model: CrisisModel, turn: int, decisions, report, row: int = 0) -> list[str]:
    """Lines for one turn of replication `row` of a model that recorded its decisions."""
    crisis = model.crisis
    first_day = (turn - 1) * crisis.turn_days + 1
    last_day = turn * crisis.turn_days
    snapshot = model.trajectory[turn]
    rung = int(snapshot["escalation"][row])
    lines = [
        f"Turn {turn} (days {first_day:g}-{last_day:g}): escalation "
        f"{rung} {_words(crisis.ladders.escalation[rung])}, "
        f"oil ${snapshot['oil_price'][row]:.0f}, "
        f"Hormuz {Hormuz(int(snapshot['hormuz'][row])).name.lower()}, "
        f"Iran stability {snapshot['iran_stability'][row]:.2f}"
    ]
    for inject in crisis.injects:
        if inject.turn == turn and inject.note:
            lines.append(f"  * {inject.note}")
    for decision in decisions:
        action = decision.menu.actions[decision.chosen[row]]
        label = model.actors[decision.actor_id].label
        description = decision.menu.descriptions[decision.chosen[row]]
        level = decision.menu.levels[decision.chosen[row]]
        rung = crisis.ladders.support[level] if level >= 0 else ""
        rung_note = f" [support {level}: {_words(rung)}]" if level >= 0 else ""
        if decision.forced[row]:
            why = "imposed by the scenario or a player"
        else:
            why = _factor_list(decision.factors, decision.contributions[row])
        lines.append(f"  {label}: {action}{rung_note} - {description}")
        if why:
            lines.append(f"      because: {why}")
    for name, struck in report.incidents.items():
        if struck[row]:
            lines.append(f"  ! incident: {crisis.incidents[name].description}")
    for power, found in report.discovered.items():
        if found[row]:
            lines.append(f"  ! {model.actors[power].label}'s covert support is exposed")
    if report.ended[row]:
        state = EndState(int(model.world.end_state[row]))
        lines.append(f"  = the crisis ends: {_words(state.label)}")
    return lines


def narrate(model: CrisisModel, row: int = 0) -> str:
    """The whole story of a finished model's replication `row` (needs record_decisions)."""
    lines = [f"{model.crisis.name}: {model.crisis.description.strip()}", ""]
    for (turn, decisions), report in zip(model.decision_log, model.reports, strict=True):
        if not model.trajectory[turn - 1]["active"][row]:
            break
        lines += turn_lines(model, turn, decisions, report, row)
    return "\n".join(lines)
