"""White-cell rulings: the state values the facilitator may override between turns, and how a
typed value is read for each (a rung, a Hormuz status by name or number, a price, a share)."""

from __future__ import annotations

from sim.engine.world import Hormuz

#: the state values a ruling may set, and what it accepts for each
RULINGS: dict[str, str] = {
    "escalation": "a rung of the escalation ladder",
    "hormuz": "open, harassed or closed",
    "oil_price": "a price from 1 to 1000 $/bbl",
    "iran_stability": "a number from 0 to 1",
}
#: the bounds of the numeric values (the escalation ladder's come from the scenario)
BOUNDS = {"hormuz": (0, len(Hormuz) - 1), "oil_price": (1.0, 1000.0), "iran_stability": (0.0, 1.0)}
WHOLE = frozenset({"escalation", "hormuz"})


def ruling_value(variable: str, value: str, ladder: int) -> int | float:
    """The value `value` (as typed) for `variable`; ValueError says what was expected."""
    expected = f"Expected {RULINGS[variable]} for {variable}, got '{value}'."
    if variable == "hormuz" and value.upper() in Hormuz.__members__:
        return int(Hormuz[value.upper()])
    try:
        number = float(value)
    except ValueError:
        raise ValueError(expected) from None
    low, high = (0, ladder - 1) if variable == "escalation" else BOUNDS[variable]
    whole = variable in WHOLE
    if not low <= number <= high or (whole and not number.is_integer()):
        raise ValueError(expected)
    return int(number) if whole else number
