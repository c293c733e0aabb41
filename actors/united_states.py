"""The United States: stop the nuclear programme at an acceptable cost and oil price."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import CrisisActor, stack
from actors.factors import FACTORS
from sim.engine.world import Hormuz, WorldState


class UnitedStates(CrisisActor):
    kind = "united_states"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["united_states"]

    def modulators(self, world: WorldState) -> np.ndarray:
        base = self.model.crisis.dynamics.oil.base_price
        powers = world.great_power_ids()
        visible = np.max([world.public_support(p) for p in powers], axis=0) if powers else 0.0
        return stack(
            {
                "nonproliferation": 0.5 + 0.5 * world.nuclear_signal,
                # Using force is never free; its expected cost grows as the war widens.
                "cost_aversion": 0.25 + 0.75 * world.escalation_share(),
                "oil_price_sensitivity": np.maximum(0.0, world.oil_price / base - 1.0)
                + (world.hormuz == Hormuz.CLOSED),
                "ally_commitment": np.minimum(
                    1.0,
                    np.maximum(world.recent("iran_attack"), world.remembered("attack_on_israel"))
                    + world.hormuz / 2.0,
                ),
                "great_power_risk": visible / world.top_support,
                "regime_change_ambition": world.context["us_regime_change_intent"],
                # How much a strike lacks a trigger: none while Iran nears the threshold,
                # attacks or closes the Strait, or once the war is under way.
                "casus_belli": 1.0
                - np.minimum(
                    1.0,
                    world.nuclear_signal
                    + world.recent("iran_attack")
                    + world.hormuz / 2.0
                    + world.war,
                ),
                # Hosts that deny their bases make strikes costlier (flown from farther, fewer
                # sorties); hosts that open theirs make up for others' denial, no more.
                "basing_access": np.minimum(
                    0.0, world.us_basing - self.model.crisis.dynamics.basing.base_access
                ),
            },
            self.factors,
            world.size,
        )
