"""Iran: survive, deter, keep oil revenue flowing, and judge how far its partners will go.

Iran is the only actor with a belief about others: what support it expects from Russia and
China. The gap between that belief and what arrives is the article's question ("can Tehran rely
on them?"), so the belief update lives here, with the rest of Iran's behaviour.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import CrisisActor, stack
from actors.factors import FACTORS
from sim.engine.world import WorldState


class Iran(CrisisActor):
    kind = "iran"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["iran"]

    def modulators(self, world: WorldState) -> np.ndarray:
        normal = self.model.crisis.dynamics.iran.normal_exports_kbd
        exports = world.china_imports_kbd + world.other_exports_kbd
        shortfall = np.clip(1.0 - exports / normal, 0.0, 1.0)
        beliefs = np.mean([world.iran_belief[p] for p in world.great_power_ids()], axis=0)
        return stack(
            {
                "regime_survival": world.regime_threat(),
                "deterrence_credibility": np.minimum(
                    1.0, world.recent("strike_on_iran") + world.escalation_share()
                ),
                "economic_need": (world.context["sanctions_intensity"] + shortfall) / 2.0,
                "partner_support_belief": beliefs / world.top_support,
                # A regime fighting for its life has less left to lose from a wider war.
                "escalation_risk": (world.us_force_posture + world.escalation_share())
                / 2.0
                * (1.0 - world.regime_threat()),
                # What a closure costs Beijing (Gulf trade, the 45 % of its oil imports through
                # the Strait) and the Gulf exporters: Tehran answers for it to both.
                "partner_cost": world.context["gulf_china_trade"],
                # Salvos need missiles: the answer weakens as strikes wear the arsenal down.
                "answer_israel": world.remembered("israel_strike") * world.iran_military_capacity,
            },
            self.factors,
            world.size,
        )

    def observe(self, world: WorldState) -> None:
        """Move the expected support of each partner towards what was actually received."""
        rate = self.model.crisis.dynamics.iran.belief_learning_rate
        for power in world.great_power_ids():
            received = world.received_support(power)
            world.iran_belief[power] = world.iran_belief[power] + rate * (
                received - world.iran_belief[power]
            )
