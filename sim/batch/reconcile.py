"""Overlapping chunks, reduced to one chunk per replication before anything is combined.

Overlaps should not arise (a resume computes only the gaps), but a folder written by an older
version, or copied together from two machines, may hold chunks that cover some replications
twice. The combined tables must count each replication once: of overlapping chunks the one
that starts first (and reaches furthest) is kept; another is dropped once its outcomes are
verified identical to the kept ones for the replications they share. When they differ, no
one can tell which is right: all of them are set aside as damaged and computed again.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from sim.batch.runfolder import CHUNKS, Chunk, remove_chunk, set_aside

if TYPE_CHECKING:
    import pandas as pd


def _outcomes(folder: Path, chunks: list[Chunk], start: int, stop: int) -> pd.DataFrame:
    import pandas as pd

    frames = [pd.read_parquet(folder / CHUNKS / f"{c.stem}.outcomes.parquet") for c in chunks]
    table = pd.concat(frames, ignore_index=True)
    table = table[(table.replication >= start) & (table.replication < stop)]
    return table.sort_values("replication").reset_index(drop=True)


def _agrees(folder: Path, chunk: Chunk, kept: list[Chunk]) -> bool:
    """Whether `chunk` holds the same outcomes as the kept chunks where they overlap."""
    covering = [c for c in kept if c.start < chunk.stop and chunk.start < c.stop]
    start = max(chunk.start, min(c.start for c in covering))
    stop = min(chunk.stop, max(c.stop for c in covering))
    try:
        mine = _outcomes(folder, [chunk], start, stop)
        theirs = _outcomes(folder, covering, start, stop)
        theirs = theirs[theirs.replication.isin(mine.replication)].reset_index(drop=True)
        mine = mine[mine.replication.isin(theirs.replication)].reset_index(drop=True)
        import pandas as pd

        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    except Exception:
        return False
    return True


def reconcile(folder: Path, chunks: list[Chunk]) -> list[Chunk]:
    """The chunks to use, none overlapping another; the redundant ones are removed."""
    kept: list[Chunk] = []
    for _, group in groupby(sorted(chunks), key=lambda c: c.point):
        mine: list[Chunk] = []
        redundant: list[Chunk] = []
        reach = 0
        for chunk in sorted(group, key=lambda c: (c.start, -c.stop)):
            if chunk.start >= reach:
                mine.append(chunk)
                reach = chunk.stop
            else:
                redundant.append(chunk)
        doubtful: set[Chunk] = set()
        for chunk in redundant:
            if _agrees(folder, chunk, mine):
                remove_chunk(folder, chunk)
            else:  # which one is right cannot be told: compute them all again
                set_aside(folder, chunk)
                doubtful |= {c for c in mine if c.start < chunk.stop and chunk.start < c.stop}
        for chunk in doubtful:
            set_aside(folder, chunk)
        kept += [c for c in mine if c not in doubtful]
    return kept
