"""The engine's hot paths as first written: plain, obviously right, and slow.

The engine computes the same things faster (gathering only the effect columns a menu touches,
playing only the replications still live). Tests run both on the same inputs and require the
very same bits, so an optimisation can never change an outcome unnoticed. Keep these as they
are: they are the specification.
"""

from __future__ import annotations

import numpy as np

from sim.engine.decision import PHASES
from sim.engine.effects import EFFECTS, LEVEL_EFFECTS

_LEVEL = np.array([name in LEVEL_EFFECTS for name in EFFECTS])


def phase_effects(decisions, size: int) -> list[np.ndarray]:
    """[R, E] effects of all moves in each phase: added up, or the highest for level effects."""
    totals = [np.zeros((size, len(EFFECTS))) for _ in PHASES]
    for decision in decisions:
        rows = decision.menu.effects[decision.chosen]
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
