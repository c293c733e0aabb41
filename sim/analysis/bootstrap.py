"""Bootstrap intervals, for means whose t-interval would leave the values the data can take."""

from __future__ import annotations

import numpy as np

#: bootstrap resamples for the interval of a mean the t-interval cannot describe
BOOTSTRAP_RESAMPLES = 4000


def bootstrap_mean_ci(x: np.ndarray, confidence: float, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean: it stays within the values the data can take.

    Resampling draws the count of each distinct value from a multinomial, which is exact for
    resampling with replacement and cheap for counts with few distinct values. Seeded, so the
    same data always give the same interval.
    """
    values, counts = np.unique(x, return_counts=True)
    rng = np.random.default_rng(seed)
    if values.size <= 64:
        draws = rng.multinomial(x.size, counts / x.size, size=BOOTSTRAP_RESAMPLES)
        means = draws @ values / x.size
    else:  # many distinct values: resample indices, a few hundred resamples at a time
        means = np.concatenate(
            [
                x[rng.integers(0, x.size, size=(250, x.size))].mean(axis=1)
                for _ in range(BOOTSTRAP_RESAMPLES // 250)
            ]
        )
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return (float(lo), float(hi))
