"""Gulf basing: what a host's stance lets the US do from its soil, and what Iran's strikes do to it.

A Gulf state that aligns with Washington opens its bases and airspace to offensive operations; one
that hedges denies them. The share open (`us_basing`) is what the US can count on when it next
decides: it enters the US's utilities and the preconditions of a sustained campaign. Iran's strikes
land on the hosts that did not deny their bases, and each host remembers being struck.
"""

from __future__ import annotations

import numpy as np

from actors.base import Decision
from sim.engine.world import WorldState
from sim.scenario.config import Scenario


def update_basing(
    world: WorldState, scenario: Scenario, decisions: list[Decision], ratio: float = 1.0
) -> None:
    """Strikes land on the hosts as they stood when the turn began; then the stances move.

    `ratio` is the turn's length against the reference period the memory is written for.
    """
    rules = scenario.dynamics.basing
    strike = world.events["gulf_strike"]
    kept = rules.strike_memory**ratio
    for host, struck in world.gulf_struck.items():
        hit = strike * (world.basing_stance[host] >= 0)  # a host that denied its bases is spared
        world.gulf_struck[host] = np.maximum(kept * struck, hit)
        world.events["gulf_hit"] = np.maximum(world.events["gulf_hit"], hit)
    for decision in decisions:
        if decision.actor_id not in world.basing_stance or decision.menu.name != "main":
            continue
        actions = decision.menu.actions
        opened = decision.chosen == actions.index(rules.open_action)
        denied = decision.chosen == actions.index(rules.deny_action)
        world.basing_stance[decision.actor_id] = opened.astype(np.int64) - denied
    access = rules.base_access + sum(
        share * world.basing_stance[host]
        for host, share in rules.hosts.items()
        if host in world.basing_stance
    )
    world.us_basing = np.clip(access, 0.0, 1.0)


def basing_denied(world: WorldState) -> np.ndarray:
    """Replications in which at least one Gulf host denies its bases to US operations."""
    denied = np.zeros(world.size, dtype=bool)
    for stance in world.basing_stance.values():
        denied |= stance < 0
    return denied
