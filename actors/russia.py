"""Russia: a partner with its hands full in Ukraine and ties it will not burn in the Gulf."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import stack
from actors.factors import FACTORS
from actors.great_power import GreatPower
from sim.engine.world import WorldState


class Russia(GreatPower):
    kind = "russia"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["russia"]

    def modulators(self, world: WorldState) -> np.ndarray:
        base = self.model.crisis.dynamics.oil.base_price
        return stack(
            {
                "ukraine_commitment": world.context["russia_ukraine_commitment"],
                "gulf_ties": np.ones(world.size),
                "brics_sco_credibility": self.credibility_stake(world),
                "regime_change_fear": self.regime_change_prospect(world),
                "alignment_against_us": world.us_pressure(),
                "escalation_risk": self.escalation_risk(world),
                "oil_revenue": np.maximum(0.0, world.oil_price / base - 1.0),
            },
            self.factors,
            world.size,
        )
