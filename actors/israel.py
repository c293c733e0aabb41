"""Israel: the actor that struck first in April 2024, October 2024 and June 2025.

Israel weighs the threat of Iran's nuclear and missile programmes against what Iran and its
proxies can do in return, against Washington's backing or restraint, international pressure and
its own domestic politics. Its strikes wear down the very programmes that motivate them, so a
campaign tends to end once it has done its work or the cost of going on has grown.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from actors.base import CrisisActor, stack
from actors.factors import FACTORS
from sim.engine.world import WorldState


class Israel(CrisisActor):
    kind = "israel"
    FACTORS: ClassVar[dict[str, str]] = FACTORS["israel"]

    def modulators(self, world: WorldState) -> np.ndarray:
        rules = self.model.crisis.dynamics.israel
        attacked = world.remembered("attack_on_israel")
        # The programme is a standing threat Israel lived with for years; a signal of a dash to
        # the threshold doubles its urgency, and an Iranian salvo makes the threat immediate.
        nuclear = world.nuclear_programme * (1.0 + world.nuclear_signal) / 2.0
        return stack(
            {
                "iran_threat": np.minimum(1.0, nuclear + attacked),
                # Signed: US forces in the region cover Israel (the interceptions of April and
                # October 2024) and a US campaign of its own backs Israeli action; a US push for
                # talks or de-escalation weighs against it.
                "us_coordination": np.clip(
                    world.us_force_posture / 2.0
                    + world.remembered("us_green_light")
                    - world.remembered("us_restraint"),
                    -1.0,
                    1.0,
                ),
                # What Iran and its proxies can still do in return; once Iran is firing at Israel
                # part of that risk is no longer a risk of striking but a fact.
                "retaliation_exposure": world.iran_military_capacity
                * (1.0 - rules.drawn_fire_discount * attacked),
                "international_pressure": np.minimum(
                    1.0,
                    (world.escalation_share() + np.minimum(1.0, world.recent("mediation"))) / 2.0,
                ),
                "domestic_politics": np.minimum(
                    1.0,
                    world.context["israel_domestic_hawkishness"]
                    + rules.retaliation_demand * attacked,
                ),
            },
            self.factors,
            world.size,
        )
