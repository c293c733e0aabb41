"""Combining a batch's chunks into the folder's outcome, trajectory and decision tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.batch.runfolder import (
    DECISIONS,
    OUTCOMES,
    TRAJECTORIES,
    Chunk,
    ResultsFolderError,
    atomic_stream_parquet,
    atomic_write_parquet,
    iter_chunk_arrow,
    iter_chunk_frames,
)
from sim.engine.fixedpoint import from_fixed, to_fixed

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from sim.scenario.experiment import Plan


def combine(folder: Path, plan: Plan, chunks: list[Chunk]) -> pd.DataFrame:
    """Merge the chunks' tables into the folder's outcome, trajectory and decision tables.

    Memory stays bounded however many runs: outcomes are held once (as Arrow, then converted
    in place for the summary), trajectories stream through a chunk at a time, and decisions
    are pooled a few dozen chunks at a time.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    runs = plan.experiment.replications
    expected = runs * len(plan.points)
    # Chunks come in (point, start) order, so sorting each by replication sorts them all.
    tables = [t.sort_by("replication") for t in iter_chunk_arrow(folder, "outcomes", chunks)]
    table = pa.concat_tables([t.cast(tables[0].schema) for t in tables]) if tables else None
    del tables
    held = 0 if table is None else table.num_rows
    if held != expected or not _strictly_ordered(table):
        raise ResultsFolderError(
            f"{folder}: chunks hold {held} runs for {expected} expected "
            "(overlapping or missing chunks); remove the folder and run again"
        )
    atomic_stream_parquet(folder / OUTCOMES, [table])
    outcomes = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    kept = min(runs, plan.experiment.trajectories)
    atomic_stream_parquet(
        folder / TRAJECTORIES,
        (
            t.filter(pc.less(t["replication"], kept)).sort_by(
                [("replication", "ascending"), ("turn", "ascending")]
            )
            for t in iter_chunk_arrow(folder, "trajectories", chunks)
        ),
    )
    decisions = _pooled_decisions(folder, chunks)
    if decisions is not None:
        atomic_write_parquet(folder / DECISIONS, decisions)
    pa.default_memory_pool().release_unused()
    return outcomes


def _strictly_ordered(table: pa.Table) -> bool:
    """Sorted by (point, replication) with no run twice: no overlapping chunks."""
    point = table["point"].to_numpy()
    replication = table["replication"].to_numpy()
    step = np.diff(point)
    return bool(np.all((step > 0) | ((step == 0) & (np.diff(replication) > 0))))


#: decision tables pooled at once: enough to amortise the grouping, few enough to stay small
_POOL_CHUNKS = 32


def _pooled_decisions(folder: Path, chunks: list[Chunk]) -> pd.DataFrame | None:
    """Choices and contributions summed over every chunk, a few dozen chunks at a time.

    The sums are exact integers (fixed point), so pooling in steps gives the very table that
    pooling all at once would.
    """
    import pandas as pd

    group = ["point", "scenario", "turn", "actor", "menu", "action", "factor"]

    def pool(frames: list[pd.DataFrame]) -> pd.DataFrame:
        table = pd.concat(frames, ignore_index=True)
        return table.groupby(group, sort=True)[["count", "contribution_fixed"]].sum().reset_index()

    pending: list[pd.DataFrame] = []
    for frame in iter_chunk_frames(folder, "decisions", chunks):
        if "contribution_fixed" not in frame:  # chunks saved before sums were exact
            frame["contribution_fixed"] = to_fixed(frame["contribution_sum"])
        pending.append(frame)
        if len(pending) > _POOL_CHUNKS:
            pending = [pool(pending)]
    if not pending:
        return None
    table = pool(pending)
    table["contribution_sum"] = from_fixed(table.pop("contribution_fixed"))
    return table
