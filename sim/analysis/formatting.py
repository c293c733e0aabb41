"""Numbers and shares as people read them, written in exactly one place.

Every table, sentence, figure annotation and report cell formats through these functions, so a
number prints the same way everywhere: probabilities as percentages with one decimal
(`12.3 %`), other numbers with three significant digits and thousands separators (`0.667`,
`73.9`, `1,380`, never `1.38e+03`), counts of replications as whole numbers with separators.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "n/a"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def number(value: Any, sign: bool = False) -> str:
    """Three significant digits, thousands with separators: 0.667, 73.9, 1,380, -0.0012."""
    x = _finite(value)
    if x is None:
        return MISSING if value is None or not isinstance(value, str) else value
    plus = "+" if sign and x > 0 else ""
    if x == 0:
        return "0"
    if abs(x) >= 999.5:
        return f"{plus}{x:,.0f}"
    text = f"{x:.3g}"
    if "e" in text:  # tiny values: fixed notation, three significant digits
        digits = max(0, 2 - math.floor(math.log10(abs(x))))
        text = f"{x:.{digits}f}"
    return plus + text


def count(value: Any) -> str:
    """A whole number with thousands separators: 5,000."""
    x = _finite(value)
    return MISSING if x is None else f"{round(x):,}"


def percent(p: Any, sign: bool = False) -> str:
    """A probability as a percentage with one decimal: 0.1234 -> `12.3 %`."""
    x = _finite(p)
    if x is None:
        return MISSING
    plus = "+" if sign and x * 100 >= 0.05 else ""
    return f"{plus}{x * 100:.1f} %"


def points(p: Any) -> str:
    """A difference of probabilities in percentage points: 0.052 -> `+5.2 pp`."""
    x = _finite(p)
    return MISSING if x is None else f"{x * 100:+.1f} pp"


def percent_interval(low: Any, high: Any) -> str:
    """`10.2–14.6 %`."""
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return MISSING
    return f"{lo * 100:.1f}–{hi * 100:.1f} %"


def points_interval(low: Any, high: Any) -> str:
    """`+1.0 to +3.2 pp`: an interval on a difference of probabilities."""
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return MISSING
    return f"{lo * 100:+.1f} to {hi * 100:+.1f} pp"


def interval(low: Any, high: Any, sign: bool = False) -> str:
    """`0.82 to 1.05` (numbers formatted by `number`)."""
    if _finite(low) is None or _finite(high) is None:
        return MISSING
    return f"{number(low, sign)} to {number(high, sign)}"


def value(x: Any) -> str:
    """Any cell: numbers by `number`, booleans as yes/no, text as it is."""
    if hasattr(x, "item") and not isinstance(x, str):  # NumPy scalars
        x = x.item()
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if _finite(x) is not None and not isinstance(x, str):
        return number(x)
    return MISSING if x is None else str(x)
