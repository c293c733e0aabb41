"""The engine's hot paths as first written: plain, obviously right, and slow.

The engine computes the same things faster (gathering only the effect columns a menu touches,
playing only the replications still live, looping over a menu's few actions rather than
reducing row by row, mixing a draw's coordinates once). Tests run both on the same inputs and
require the very same bits, so an optimisation can never change an outcome unnoticed. Keep
these as they are: they are the specification.
"""

from __future__ import annotations

import numpy as np

from sim.engine.decision import PHASES
from sim.engine.effects import EFFECTS, LEVEL_EFFECTS, ONE_OFF_EFFECTS
from sim.engine.fixedpoint import to_fixed
from sim.engine.streams import _GOLDEN, _TO_UNIT, _mix, stream_id

_LEVEL = np.array([name in LEVEL_EFFECTS for name in EFFECTS])
_ONE_OFF = np.array([name in ONE_OFF_EFFECTS for name in EFFECTS])


def phase_effects(decisions, size: int) -> list[np.ndarray]:
    """[R, E] effects of all moves in each phase: added up, or the highest for level effects."""
    totals = [np.zeros((size, len(EFFECTS))) for _ in PHASES]
    for decision in decisions:
        rows = decision.menu.effects[decision.chosen]
        if decision.kept is not None:
            # a move kept to without reconsidering does not repeat its one-off effects
            rows = np.where(decision.kept[:, None] & _ONE_OFF & ~_LEVEL, 0.0, rows)
        phases = decision.menu.phases[decision.chosen]
        for phase, total in enumerate(totals):
            in_phase = phases == phase
            if not in_phase.any():
                continue
            moved = np.where(in_phase[:, None], rows, 0.0)
            total[:, ~_LEVEL] += moved[:, ~_LEVEL]
            total[:, _LEVEL] = np.maximum(total[:, _LEVEL], moved[:, _LEVEL])
    return totals


def run_every_row(model):
    """Play a batch to its end turn by turn, every replication every turn, ended ones frozen."""
    while model.running:
        model.step()
    return model


def choice_probabilities(utility, feasible, rationality):
    """Logit choice probabilities; infeasible actions get probability zero."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.where(feasible, rationality[:, None] * utility, -np.inf)
    limit = ~np.isfinite(np.where(feasible, scaled, 0.0)).all(axis=1)
    if limit.any():
        best = np.where(feasible[limit], utility[limit], -np.inf)
        scaled[limit] = np.where(best == best.max(axis=1, keepdims=True), 0.0, -np.inf)
    scaled -= scaled.max(axis=1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def logit_choice(utility, feasible, rationality, uniform):
    """Draw one action per replication from the logit rule using one uniform number each."""
    cumulative = np.cumsum(choice_probabilities(utility, feasible, rationality), axis=1)
    chosen = (cumulative < uniform[:, None] * cumulative[:, -1:]).sum(axis=1)
    chosen = np.minimum(chosen, utility.shape[1] - 1)
    bad = ~feasible[np.arange(len(chosen)), chosen]
    if bad.any():
        chosen[bad] = np.argmax(np.where(feasible[bad], utility[bad], -np.inf), axis=1)
    return chosen


def uniform(streams, purpose: str, turn: int = 0, draw: int = 0):
    """`ReplicationStreams.uniform`, every coordinate mixed per replication."""
    counter = np.uint64((stream_id(purpose) << 32) ^ ((turn & 0xFFFF) << 16) ^ (draw & 0xFFFF))
    with np.errstate(over="ignore"):
        bits = _mix(streams._keys ^ _mix(np.full_like(streams._keys, counter) + _GOLDEN))
    return (bits >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def pool_add(pool, turn: int, decisions, live) -> None:
    """`DecisionPool.add`: choices counted and contributions summed action by action."""
    rows = []
    for decision in decisions:
        chosen = decision.chosen[live]
        if chosen.size == 0:
            continue
        size = len(decision.menu.actions)
        counts = np.bincount(chosen, minlength=size)
        for factor_index, factor in enumerate(decision.factors):
            sums = np.zeros(size, dtype=np.int64)
            np.add.at(sums, chosen, to_fixed(decision.contributions[live, factor_index]))
            for action_index in np.flatnonzero(counts):
                rows.append(
                    {
                        "turn": turn,
                        "actor": decision.actor_id,
                        "menu": decision.menu.name,
                        "action": decision.menu.actions[action_index],
                        "factor": factor,
                        "count": int(counts[action_index]),
                        "contribution_fixed": int(sums[action_index]),
                    }
                )
    pool.add_rows(rows)
