"""The advisor: what the model would do in a team's place, and the factors behind it.

Asking for advice must not change the game (the replay of a saved game depends on it):
`CrisisActor.advise` only reads the actor and the world.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors import CrisisActor
from sim.engine.world import WorldState

TOP_FACTORS = 4


@dataclass(frozen=True)
class Advice:
    """One feasible action as the model weighs it."""

    action: str
    description: str
    utility: float
    contributions: dict[str, float]

    def top(self, n: int = TOP_FACTORS) -> list[tuple[str, float]]:
        """The factors that weigh most on this action, strongest first."""
        ranked = sorted(self.contributions.items(), key=lambda kv: -abs(kv[1]))
        return [(f, c) for f, c in ranked[:n] if abs(c) >= 0.005]


def advise(
    actor: CrisisActor, world: WorldState, feasible_only: bool = True
) -> dict[str, list[Advice]]:
    """For each menu, the feasible actions (or all) best first, with their factor contributions."""
    raw = actor.advise(world, feasible_only)
    advice: dict[str, list[Advice]] = {}
    for menu_name, rows in raw.items():
        menu = actor.menus[menu_name]
        advice[menu_name] = [
            Advice(action, menu.descriptions[menu.index(action)], utility, parts)
            for action, utility, parts in rows
        ]
    return advice


def top_choices(actor: CrisisActor, world: WorldState) -> dict[str, str]:
    """The action the model rates best on each menu (its best response, before any dice)."""
    return {menu: rows[0].action for menu, rows in advise(actor, world).items() if rows}
