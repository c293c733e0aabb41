"""Playing only the live replications of a batch: ended ones are set aside, then put back.

An ended replication keeps its final state (the model freezes it every turn), so computing its
turns is wasted work, and after a few turns of a crisis half a batch may have ended. While a
batch runs, every per-replication value (world, actors, outcome records, random streams) can be
cut down to the rows still live, and is put back into the full batch when the run stops. Each
replication's numbers depend only on its own row, so the records are bit for bit those of the
full batch (the tests compare both ways of running).
"""

from __future__ import annotations

import numpy as np

#: Attributes never cut: the model itself, static tables and last turn's decision objects.
UNCUT = frozenset({"model", "menus", "config", "decisions", "unique_id"})


def _per_row(value, size: int) -> bool:
    return isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == size


def take_rows(value, rows: np.ndarray, size: int):
    """`value` cut to `rows` where it is indexed by replication (arrays, dicts, tuples of them).

    Anything else (a scalar, a lookup table) is returned as is, the very same object.
    """
    if _per_row(value, size):
        return value[rows]
    if isinstance(value, dict):
        parts = {k: take_rows(v, rows, size) for k, v in value.items()}
        return value if all(parts[k] is v for k, v in value.items()) else parts
    if isinstance(value, tuple):
        parts = tuple(take_rows(v, rows, size) for v in value)
        return value if all(p is v for p, v in zip(parts, value, strict=True)) else parts
    return value


def put_rows(full, part, rows: np.ndarray, size: int):
    """`full` (indexed by all replications) with `part`'s values at `rows`.

    The rows not in `rows` keep `full`'s values; `part` gives everything else (a turn counter
    that moved on, a key added on the way).
    """
    if _per_row(part, len(rows)) and len(rows) != size:
        if _per_row(full, size):
            merged = full.astype(np.result_type(full, part), copy=True)
        else:
            merged = np.zeros((size, *part.shape[1:]), dtype=part.dtype)
        merged[rows] = part
        return merged
    if isinstance(part, dict):
        known = full if isinstance(full, dict) else {}
        return {k: put_rows(known.get(k), v, rows, size) for k, v in part.items()}
    if isinstance(part, tuple) and isinstance(full, tuple) and len(full) == len(part):
        return tuple(put_rows(f, p, rows, size) for f, p in zip(full, part, strict=True))
    return part


class LiveRows:
    """Which rows of the full batch are playing, and the full batch's values meanwhile."""

    def __init__(self, size: int) -> None:
        self.size = size
        #: positions in the full batch of the rows now playing
        self.rows = np.arange(size)
        self._full: dict[tuple[int, str], object] = {}

    @property
    def cut(self) -> bool:
        return len(self.rows) < self.size

    def keep(self, objects: list, live: np.ndarray) -> None:
        """Cut every per-replication attribute of `objects` to the `live` rows (a mask)."""
        current = len(self.rows)
        kept = np.flatnonzero(live)
        for obj in objects:
            for name, value in list(vars(obj).items()):
                if name in UNCUT:
                    continue
                part = take_rows(value, kept, current)
                if part is value:
                    continue
                key = (id(obj), name)
                if key in self._full:
                    self._full[key] = put_rows(self._full[key], value, self.rows, self.size)
                else:
                    self._full[key] = value
                setattr(obj, name, part)
        self.rows = self.rows[kept]

    def expand(self, value, fill):
        """A per-row value of the rows playing, as a full-batch one with `fill` elsewhere."""
        full = np.full((self.size, *value.shape[1:]), fill, dtype=value.dtype)
        full[self.rows] = value
        return full

    def put_back(self, objects: list) -> None:
        """Restore the full batch, with the rows that played at their latest values."""
        if not self.cut:
            return
        for obj in objects:
            for name, value in list(vars(obj).items()):
                key = (id(obj), name)
                if key in self._full:
                    setattr(obj, name, put_rows(self._full[key], value, self.rows, self.size))
        self._full.clear()
        self.rows = np.arange(self.size)
