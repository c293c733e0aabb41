"""Exact sums of decision contributions, whatever the order they are added in.

Floating-point addition is not associative: pooled sums would change in their last digits
with the way a batch is cut into chunks. Contributions are therefore summed as integers in
units of 2**-32 (far finer than any contribution means anything), and integer sums are exact.
"""

from __future__ import annotations

import numpy as np

FIXED_POINT = 2.0**32


def to_fixed(values) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=float) * FIXED_POINT).astype(np.int64)


def from_fixed(values):
    return values / FIXED_POINT
