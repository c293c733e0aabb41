"""Monotone responses of the partners to the drivers the article names, each with its counter-check.

Every comparison runs the same seed and replication indices at each level of a driver (common
random numbers), so a difference comes from the driver. The counter-check sets the weight of the
factor through which the driver acts to zero: the response must then (nearly) vanish, which shows
it comes from that factor and not from some side path.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SIZE = 600


def means(outcomes, path: str, levels, column: str, *overrides: str) -> list[float]:
    return [
        float(outcomes("baseline", f"{path}={level}", *overrides, size=SIZE)[column].mean())
        for level in levels
    ]


def paired(outcomes, path: str, low, high, column: str, *overrides: str) -> tuple[float, float]:
    """Mean paired change of `column` from `path=low` to `path=high`, and its standard error."""
    before = outcomes("baseline", f"{path}={low}", *overrides, size=SIZE)
    after = outcomes("baseline", f"{path}={high}", *overrides, size=SIZE)
    difference = (after[column] - before[column]).to_numpy(dtype=float)
    return difference.mean(), difference.std(ddof=1) / np.sqrt(len(difference))


def test_more_fear_of_secondary_sanctions_means_less_chinese_buying(outcomes):
    path, column = "context.secondary_sanctions_on_china", "china_imports_end_kbd"
    bought = means(outcomes, path, (0.1, 0.5, 0.9), column)
    assert bought[0] > bought[1] > bought[2]
    fearless = means(
        outcomes, path, (0.1, 0.9), column, "actors.china.weights.secondary_sanctions_fear=0"
    )
    assert abs(fearless[0] - fearless[1]) < (bought[0] - bought[2]) / 3


def test_more_ukraine_commitment_means_less_russian_help(outcomes):
    path, column = "context.russia_ukraine_commitment", "russia_max_support"
    helped = means(outcomes, path, (0.1, 0.5, 0.9), column)
    assert helped[0] > helped[1] > helped[2]
    free = means(outcomes, path, (0.1, 0.9), column, "actors.russia.weights.ukraine_commitment=0")
    assert abs(free[0] - free[1]) < (helped[0] - helped[2]) / 3


def test_more_taiwan_tension_means_less_chinese_help(outcomes):
    path, column = "context.china_taiwan_tension", "china_max_support"
    helped = means(outcomes, path, (0.1, 0.5, 0.9), column)
    assert helped[0] > helped[1] > helped[2]
    free = means(outcomes, path, (0.1, 0.9), column, "actors.china.weights.taiwan_focus=0")
    assert abs(free[0] - free[1]) < (helped[0] - helped[2]) / 3


FEARLESS = (
    "actors.russia.weights.regime_change_fear=0",
    "actors.china.weights.regime_change_fear=0",
)


@pytest.mark.parametrize(
    ("path", "low", "middle", "high"),
    [
        # More US regime-change intent: the powers read Washington's declared aim.
        ("context.us_regime_change_intent", 0.0, 0.5, 1.0),
        # Lower regime stability at the outset.
        ("initial.iran_stability", 0.8, 0.55, 0.3),
    ],
)
def test_a_threatened_regime_gets_more_help_but_not_intervention(outcomes, path, low, middle, high):
    for power in ("russia", "china"):
        column = f"{power}_max_support"
        helped = means(outcomes, path, (low, middle, high), column)
        assert helped[0] < helped[1] < helped[2], power
        gain, error = paired(outcomes, path, low, middle, column)
        assert gain > 3 * error, power
        # The rise comes from the fear of regime change: without it, no significant rise.
        fearless_gain, fearless_error = paired(outcomes, path, low, middle, column, *FEARLESS)
        assert fearless_gain < max(3 * fearless_error, gain / 3), power
    for level in (low, middle, high):
        frame = outcomes("baseline", f"{path}={level}", size=SIZE)
        assert (frame.russia_intervened | frame.china_intervened).mean() < 0.05
