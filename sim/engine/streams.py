"""Counter-based random streams, one independent stream per replication.

A replication's random numbers must depend only on (master seed, replication index, what the
draw is for, turn), never on how many replications share a batch or in which order the engine
asks. A stateful generator per replication would give that too, but costs a Python object per
replication; hashing the coordinates of each draw with the SplitMix64 finaliser gives the same
guarantee fully vectorised over a batch.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL_1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / (1 << 53)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection on uint64 with full avalanche."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _MUL_1
        x = x ^ (x >> np.uint64(27))
        x = x * _MUL_2
        return x ^ (x >> np.uint64(31))


_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))


def _mix_in_place(x: np.ndarray) -> np.ndarray:
    """`_mix` of an array of one's own, overwriting it: the same bits, fewer temporary arrays."""
    shifted = np.empty_like(x)
    with np.errstate(over="ignore"):
        for shift, multiplier in zip(_SHIFTS, (_MUL_1, _MUL_2, None), strict=True):
            np.right_shift(x, shift, out=shifted)
            np.bitwise_xor(x, shifted, out=x)
            if multiplier is not None:
                np.multiply(x, multiplier, out=x)
    return x


def stream_id(name: str) -> int:
    """A stable 32-bit id for a named use of randomness (the same in every Python process)."""
    return zlib.crc32(name.encode("utf-8"))


class ReplicationStreams:
    """Uniform draws addressed by (replication, purpose, turn) for a batch of replications."""

    def __init__(self, master_seed: int, replications: np.ndarray) -> None:
        self.master_seed = int(master_seed) % (1 << 64)
        self.replications = np.asarray(replications, dtype=np.uint64)
        seed_key = _mix(np.array([self.master_seed], dtype=np.uint64) + _GOLDEN)
        with np.errstate(over="ignore"):
            self._keys = _mix(seed_key ^ _mix(self.replications * _GOLDEN + np.uint64(1)))

    def uniform(self, purpose: str, turn: int = 0, draw: int = 0) -> np.ndarray:
        """One U[0, 1) number per replication for this purpose, turn and draw number."""
        counter = np.uint64((stream_id(purpose) << 32) ^ ((turn & 0xFFFF) << 16) ^ (draw & 0xFFFF))
        with np.errstate(over="ignore"):
            # The draw's coordinates are the same for every replication: mix them once.
            salt = _mix(np.array([counter], dtype=np.uint64) + _GOLDEN)
            bits = _mix_in_place(self._keys ^ salt)
        np.right_shift(bits, np.uint64(11), out=bits)
        unit = bits.astype(np.float64)
        unit *= _TO_UNIT
        return unit
