"""What Russia and China share: a support ladder climbed overt or covert, a step at a time."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import CrisisActor
from sim.engine.decision import ActionMenu
from sim.engine.world import WorldState


class GreatPower(CrisisActor):
    """A partner of Iran choosing a rung of the 0-7 support ladder each turn.

    Support is not an alliance: nothing obliges the power to help, so every rung is weighed
    against its other interests. Covert variants of material help cost less and earn less.
    """

    has_covert_variants: ClassVar[bool] = True

    def extra_feasibility(self, menu: ActionMenu, world: WorldState) -> np.ndarray | None:
        """Support climbs at most `max_step_up` rungs a turn (a decision at each step)."""
        if (menu.levels < 0).all():
            return None
        step = self.model.crisis.dynamics.support.max_step_up
        ceiling = world.support[self.actor_id][:, None] + step
        return (menu.levels[None, :] < 0) | (menu.levels[None, :] <= ceiling)

    def credibility_stake(self, world: WorldState) -> np.ndarray:
        """How much BRICS/SCO credibility rides on the response.

        A member's plea for help puts it on the line far more than the fighting itself does.
        """
        private = self.model.crisis.dynamics.support.private_request_weight
        plea = np.maximum(
            world.recent("help_request_public"), private * world.recent("help_request_private")
        )
        return np.minimum(1.0, world.escalation_share() / 2.0 + plea)

    def regime_change_prospect(self, world: WorldState) -> np.ndarray:
        """How likely a pro-Western Iran looks: the regime's erosion or Washington's declared aim.

        The powers fear the prospect of regime change, which Washington's stated intent signals
        before any strike lands; reading only the damage done (`regime_threat`) made a higher
        intent lower their help, because the war it brings raises their escalation risk first.
        """
        weight = self.model.crisis.dynamics.support.declared_intent_weight
        declared = np.minimum(1.0, weight * world.context["us_regime_change_intent"]) ** 2
        # Two roads to a new regime, from within or pushed from without: either may succeed.
        return 1.0 - (1.0 - world.regime_threat()) * (1.0 - declared)

    def escalation_risk(self, world: WorldState) -> np.ndarray:
        """Risk of being drawn into war with the US: the crisis level, US forces and warnings."""
        return (
            (world.escalation_share() + world.us_force_posture)
            / 2.0
            * (1.0 + world.recent("great_power_warning"))
        )
