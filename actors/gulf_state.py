"""A Gulf monarchy (Saudi Arabia, the UAE, Qatar): hedging between Washington, Beijing, Tehran."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import CrisisActor, stack
from actors.factors import FACTORS
from sim.engine.world import WorldState


class GulfState(CrisisActor):
    kind = "gulf_state"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["gulf_state"]

    def modulators(self, world: WorldState) -> np.ndarray:
        return stack(
            {
                "us_security_dependence": np.minimum(
                    1.0, world.us_force_posture + world.recent("iran_attack")
                ),
                "retaliation_fear": np.minimum(
                    1.0, world.escalation_share() + world.recent("iran_attack") + world.hormuz / 2.0
                ),
                "china_trade": world.context["gulf_china_trade"],
                "iran_detente": 1.0 - world.escalation_share(),
                # What Iran's missiles and drones could do to this state as the crisis heats up,
                # and, more than any estimate, having just been struck by them.
                "missile_exposure": np.minimum(
                    1.0,
                    world.iran_military_capacity * world.escalation_share()
                    + world.gulf_struck[self.actor_id],
                ),
            },
            self.factors,
            world.size,
        )
