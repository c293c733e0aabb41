"""China: Iran's oil customer, wary of US secondary sanctions and focused on Taiwan.

Besides the support ladder China sets its purchases of Iranian crude (a second menu), which
is where the article's "unfulfilled promises" and the 30-40 % fall in imports come from.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import stack
from actors.factors import FACTORS
from actors.great_power import GreatPower
from sim.engine.world import WorldState


class China(GreatPower):
    kind = "china"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["china"]

    def modulators(self, world: WorldState) -> np.ndarray:
        # Each further cut hurts more as imports fall, and a deeper discount makes the crude
        # more attractive: energy security weighs more the less Iranian oil China takes. A
        # threatened Strait (45 % of China's oil imports pass it) raises the stakes as well.
        scarcity = np.maximum(world.china_imports_reference, 1.0) / np.maximum(
            world.china_imports_kbd, 1.0
        )
        bargain = 1.0 + world.oil_discount / np.maximum(world.oil_price, 1.0)
        strait = 1.0 + world.hormuz / 2.0
        return stack(
            {
                "taiwan_focus": world.context["china_taiwan_tension"],
                "gulf_ties": world.context["gulf_china_trade"],
                "secondary_sanctions_fear": (
                    world.context["secondary_sanctions_on_china"]
                    + world.context["sanctions_intensity"]
                )
                / 2.0,
                "energy_security": scarcity * bargain * strait,
                "brics_sco_credibility": self.credibility_stake(world),
                "regime_change_fear": self.regime_change_prospect(world),
                "alignment_against_us": world.us_pressure(),
                "escalation_risk": self.escalation_risk(world),
            },
            self.factors,
            world.size,
        )

    def on_discovered(self, world: WorldState, discovered: np.ndarray) -> None:
        """Exposed covert help invites US secondary sanctions on Chinese buyers."""
        penalty = self.model.crisis.dynamics.support.discovered_sanctions
        key = "secondary_sanctions_on_china"
        world.context[key] = np.minimum(1.0, world.context[key] + penalty * discovered)
