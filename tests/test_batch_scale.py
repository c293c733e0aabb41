"""What keeps batches cheap at both ends: no pool for small ones, bounded memory for big ones."""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from sim.batch import runner
from sim.batch.runfolder import Chunk, atomic_stream_parquet
from sim.engine.model import CrisisModel
from sim.scenario.experiment import make_plan

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "baseline.yaml"


def test_streamed_tables_make_one_file_as_if_written_at_once(tmp_path):
    frames = [
        pd.DataFrame({"replication": range(i * 10, i * 10 + 10), "x": [0.5 * i] * 10})
        for i in range(3)
    ]
    path = tmp_path / "t.parquet"
    rows = atomic_stream_parquet(
        path, (pa.Table.from_pandas(f, preserve_index=False) for f in frames)
    )
    assert rows == 30
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.concat(frames, ignore_index=True))
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind
    assert atomic_stream_parquet(tmp_path / "empty.parquet", iter(())) == 0
    assert not (tmp_path / "empty.parquet").exists()


def test_a_small_batch_runs_in_the_calling_process_in_one_chunk(tmp_path, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a small batch started worker processes")

    monkeypatch.setattr(runner, "execute_processes", no_pool)
    report = runner.run_batch(BASELINE, runs=300, out=tmp_path / "b", show_progress=False)
    manifest = json.loads((report.folder / "manifest.json").read_text())
    assert (manifest["workers"], manifest["chunk_size"]) == (1, 300)
    assert len(list((report.folder / "chunks").glob("*.outcomes.parquet"))) == 1


def test_a_big_batch_uses_every_core_in_chunks_of_thousands(monkeypatch):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    plan = make_plan(BASELINE, [], runner.SERIAL_RUNS + 1, None)
    assert runner.default_workers(plan, "local") == 2
    assert runner.default_workers(make_plan(BASELINE, [], 2000, None), "dask") == 2
    assert runner.default_chunk_size(plan, 2) == -(-(runner.SERIAL_RUNS + 1) // 8)
    big = make_plan(BASELINE, [], 200_000, None)
    assert runner.default_chunk_size(big, 2) == runner.LARGE_CHUNK
    kept = make_plan(BASELINE, ["experiment.trajectories=200000"], 200_000, None)
    assert runner.default_chunk_size(kept, 2) == runner.DEFAULT_CHUNK  # trajectories held
    assert runner.default_chunk_size(make_plan(BASELINE, [], 50_000, None), 2) == 6250
    assert runner.default_chunk_size(make_plan(BASELINE, [], 4000, None), 2) == 1000


def test_a_chunk_frees_its_model_before_the_next_one(monkeypatch):
    """A worker runs chunk after chunk: no batch may outlive its chunk."""
    models = []
    run = CrisisModel.run

    def tracked(model):
        models.append(weakref.ref(model))
        return run(model)

    monkeypatch.setattr(CrisisModel, "run", tracked)
    plan = make_plan(BASELINE, [], 400, None)
    task = runner.ChunkTask(Chunk(0, 0, 400), plan.points[0].scenario, "baseline", {}, 1, 100)
    tables = runner.run_chunk(task)
    assert len(tables["outcomes"]) == 400
    assert models and models[0]() is None


@pytest.mark.parametrize("chunk_size", [70, 400])
def test_combined_tables_are_sorted_whatever_the_chunks(tmp_path, chunk_size):
    folder = tmp_path / str(chunk_size)
    runner.run_batch(
        BASELINE, runs=400, workers=1, chunk_size=chunk_size, out=folder, show_progress=False
    )
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    assert outcomes.replication.tolist() == list(range(400))
    trajectories = pd.read_parquet(folder / "trajectories.parquet")
    keys = trajectories[["replication", "turn"]]
    assert keys.equals(keys.sort_values(["replication", "turn"]).reset_index(drop=True))
    assert trajectories.replication.nunique() == 400
