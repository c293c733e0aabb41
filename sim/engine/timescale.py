"""Per-turn rates for any turn length.

Every rate in the configuration is written for a turn of `dynamics.time.reference_days` days.
A scenario with other turns must describe the same crisis, so each rate is converted once
here: a probability or a share lost per period compounds (1 - (1 - p)^(days / ref)), an amount
per period grows in proportion, and a random walk's step grows with the square root of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: tolerance for day counts that are sums of fractional turn lengths
_EPS = 1e-9


@dataclass(frozen=True)
class TimeScale:
    """Turn length against the reference period the configuration's rates are written for."""

    turn_days: float
    reference_days: float
    decision_interval_days: float

    @classmethod
    def of(cls, scenario) -> TimeScale:
        rules = scenario.dynamics.time
        return cls(scenario.turn_days, rules.reference_days, rules.decision_interval_days)

    @property
    def ratio(self) -> float:
        """Reference periods per turn."""
        return self.turn_days / self.reference_days

    def probability(self, p):
        """Chance of at least one occurrence in a turn, from the chance per reference period."""
        return 1.0 - (1.0 - p) ** self.ratio

    def share(self, rate):
        """Share lost (or closed) in a turn, from the share per reference period."""
        return 1.0 - (1.0 - rate) ** self.ratio

    def amount(self, x):
        """An amount per reference period (a cost, a gain), for one turn."""
        return x * self.ratio

    def volatility(self, sigma):
        """A random walk's standard deviation per turn, from that per reference period."""
        return sigma * self.ratio**0.5

    def reconsiders(self, turn: int) -> bool:
        """Whether actors reconsider their moves in this turn (always, for turns of the decision
        interval or longer).

        Decisions fall on a fixed calendar, days 0, I, 2I, ... of the crisis (I the decision
        interval); a turn holds a decision if one of those days falls within it. Every actor
        reconsiders on the same days whatever the turn length, so that turns shorter than the
        interval refine only what happens between decisions, not when the decisions are made.
        """
        if self.turn_days >= self.decision_interval_days:
            return True
        start = (turn - 1) * self.turn_days
        next_decision = math.ceil(start / self.decision_interval_days - _EPS)
        return next_decision * self.decision_interval_days < start + self.turn_days - _EPS
