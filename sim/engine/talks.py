"""How a crisis short of war ends in a deal: talks far enough along, and terms that meet.

Talks make progress while the two capitals negotiate (`negotiation` effects, fading without
them, §7.4.6). A deal also needs terms both sides accept: what Tehran would concede (more when
sanctions bite and US forces stand ready, less when Washington wants the regime gone, for then
no concession buys its survival) against what Washington demands (`context.us_demands`, more
with regime-change intent). Once talks are under way on terms that meet, a deal is closed and
ratified with a chance per reference period; a strike on Iran wipes the talks out.

Every piece is a smooth function of the state, read at the end of a turn, so that the chance of
a deal per day is the same whether the crisis is played in 1-day or 7-day turns.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from sim.engine.timescale import TimeScale
from sim.engine.world import WorldState
from sim.scenario.config import Scenario


def iran_offer(world: WorldState, scenario: Scenario) -> np.ndarray:
    """What Tehran would concede (0-1, the scale of `us_demands`)."""
    rules = scenario.dynamics.talks
    return (
        rules.offer_base
        + rules.offer_per_bite * world.sanctions_bite()
        + rules.offer_per_posture * world.us_force_posture
        - rules.offer_per_intent * world.context["us_regime_change_intent"]
    )


def us_demands(world: WorldState, scenario: Scenario) -> np.ndarray:
    """What Washington demands (0-1): its stated terms, and more when it wants regime change."""
    rules = scenario.dynamics.talks
    return (
        world.context["us_demands"]
        + rules.demand_per_intent * world.context["us_regime_change_intent"]
    )


def terms_meet(world: WorldState, scenario: Scenario) -> np.ndarray:
    """How likely the terms on the table are acceptable to both (0-1; 1/2 when offer = demands)."""
    rules = scenario.dynamics.talks
    gap = iran_offer(world, scenario) - us_demands(world, scenario)
    return special.expit(gap / rules.terms_softness)


def talks_readiness(world: WorldState, scenario: Scenario) -> np.ndarray:
    """How far along the talks are (0-1): nothing below `progress_start`, all at `progress_full`.

    Mediation this turn carries the talks further (a mediator doubles what one effort adds).
    """
    rules = scenario.dynamics.talks
    progress = world.negotiation_progress * (1.0 + world.events["mediation"])
    return np.clip(
        (progress - rules.progress_start) / (rules.progress_full - rules.progress_start), 0, 1
    )


def break_off_talks(world: WorldState, scenario: Scenario) -> None:
    """A strike on Iran this turn (American or Israeli) sets the talks back (June 2025: the
    round due on the 15th was called off after the strikes of the 13th)."""
    struck = world.events["strike_on_iran"] > 0
    if struck.any():
        kept = 1.0 - scenario.dynamics.talks.strike_setback
        world.negotiation_progress = np.where(
            struck, kept * world.negotiation_progress, world.negotiation_progress
        )


def settlement_chance(world: WorldState, scenario: Scenario, time: TimeScale) -> np.ndarray:
    """Chance that a deal is closed this turn (before the war condition, checked by the caller)."""
    per_period = (
        scenario.dynamics.talks.closing_probability
        * talks_readiness(world, scenario)
        * terms_meet(world, scenario)
    )
    return time.probability(per_period)
