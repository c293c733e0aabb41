"""Faults a batch must survive: a killed parent, damaged or overlapping chunks, a full disk."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.batch.runner import run_batch

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "configs" / "baseline.yaml")
WARGAME = str(Path(sys.executable).with_name("wargame"))
TABLES = ["outcomes.parquet", "trajectories.parquet", "decisions.parquet"]


def run(out: Path, runs: int = 600, **options):
    options.setdefault("workers", 1)
    options.setdefault("chunk_size", 100)
    return run_batch(BASELINE, runs=runs, out=out, show_progress=False, **options)


def assert_same_tables(folder: Path, other: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(folder / name), pd.read_parquet(other / name), check_exact=True
        )


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """An uninterrupted run that every damaged or interrupted one must reproduce exactly."""
    out = tmp_path_factory.mktemp("straight")
    run(out)
    return out


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, grandchildren), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_parent_leaves_no_process_and_resumes_exactly(tmp_path, kill):
    out = tmp_path / "killed"
    command = [WARGAME, "batch", BASELINE, "--runs", "2000", "--workers", "2"]
    command += ["--out", str(out), "--no-progress"]
    process = subprocess.Popen(
        [*command, "--chunk-size", "125"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(list(out.glob("chunks/*.sha256.json"))) < 2:
            time.sleep(0.02)
        workers = descendants(process.pid)
        assert workers, "the batch should run worker processes"
        process.send_signal(kill)  # the parent only, as a user's kill or a scheduler's would
        _, stderr = process.communicate(timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline and any(running(p) for p in workers):
            time.sleep(0.05)
        assert not [p for p in workers if running(p)], "a worker outlived its batch"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    saved = len(list(out.glob("chunks/*.sha256.json")))
    assert 0 < saved < 16, "the kill should land mid-way"
    assert not list(out.glob("chunks/.*.tmp")) or kill == signal.SIGKILL
    if kill == signal.SIGTERM:
        assert process.returncode == 143
        assert stderr.startswith("error: terminated:") and stderr.count("\n") == 1, stderr
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    report = run(out, runs=2000, chunk_size=150)  # resumed, with another chunk size
    assert 0 < report.reused < 2000 and not list(out.glob("chunks/.*.tmp"))
    reference = tmp_path / "straight"
    run(reference, runs=2000, chunk_size=500)
    assert_same_tables(out, reference)


def test_decision_sums_do_not_depend_on_the_chunk_layout(tmp_path, straight):
    run(tmp_path / "b", chunk_size=250)
    assert_same_tables(tmp_path / "b", straight)


def test_chunk_damaged_in_the_middle_is_computed_again(tmp_path, straight):
    run(tmp_path / "b")
    chunk = sorted((tmp_path / "b" / "chunks").glob("*.outcomes.parquet"))[3]
    payload = bytearray(chunk.read_bytes())
    middle = len(payload) // 2
    payload[middle : middle + 8] = bytes(b ^ 0xFF for b in payload[middle : middle + 8])
    chunk.write_bytes(bytes(payload))  # the footer is intact: only the checksum tells
    report = run(tmp_path / "b")
    assert report.computed == 100
    assert (tmp_path / "b" / "chunks" / "corrupt" / chunk.name).is_file()
    assert_same_tables(tmp_path / "b", straight)


def copy_chunks(source: Path, target: Path, stem: str) -> None:
    for path in (source / "chunks").glob(f"{stem}.*"):
        shutil.copy(path, target / "chunks" / path.name)


def test_overlapping_chunks_are_reconciled(tmp_path, straight):
    run(tmp_path / "b", chunk_size=100)
    run(tmp_path / "big", chunk_size=300)
    # a chunk covering the runs of three others, as two resumes with other sizes might leave
    copy_chunks(tmp_path / "big", tmp_path / "b", "p0000-r000000000-000000300")
    report = run(tmp_path / "b", chunk_size=200)
    assert report.computed == 0
    names = [p.name for p in (tmp_path / "b" / "chunks").glob("*.outcomes.parquet")]
    assert len(names) == 4 and "p0000-r000000000-000000300.outcomes.parquet" in names
    assert_same_tables(tmp_path / "b", straight)


def test_overlapping_chunks_that_disagree_are_all_computed_again(tmp_path, straight):
    run(tmp_path / "b", chunk_size=100)
    run(tmp_path / "other", chunk_size=300, seed=7)  # other runs under the same name
    copy_chunks(tmp_path / "other", tmp_path / "b", "p0000-r000000000-000000300")
    report = run(tmp_path / "b")
    assert report.computed == 300
    assert len(list((tmp_path / "b" / "chunks" / "corrupt").glob("*.outcomes.parquet"))) == 4
    assert_same_tables(tmp_path / "b", straight)


def limited_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("workers", ["1", "2"])
def test_file_size_limit_is_one_line_and_leaves_no_temporary_file(tmp_path, workers):
    out = tmp_path / "b"
    command = [WARGAME, "batch", BASELINE, "--runs", "400", "--chunk-size", "200"]
    command += ["--workers", workers, "--out", str(out), "--no-progress"]
    result = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=limited_file_size(4096), timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "cannot write" in result.stderr and str(out) in result.stderr
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    run_batch(BASELINE, runs=400, chunk_size=200, out=out, workers=1, show_progress=False)


def test_output_under_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    result = subprocess.run(
        [WARGAME, "batch", BASELINE, "--runs", "10", "--out", str(tmp_path / "file" / "b")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert str(tmp_path / "file") in result.stderr


def test_staged_tables_of_a_stray_worker_never_count(tmp_path, straight):
    from sim.batch.runfolder import Chunk, stage_chunk
    from sim.batch.runner import ChunkTask, run_chunk
    from sim.scenario.experiment import make_plan

    folder = tmp_path / "b"
    run(folder, runs=300)
    plan = make_plan(BASELINE, replications=600)
    point = plan.points[0]
    task = ChunkTask(Chunk(0, 300, 600), point.scenario, point.label, {}, 0, 500)
    stage_chunk(folder, task.chunk, run_chunk(task))  # a worker whose batch is gone
    assert list((folder / "chunks").glob(".*.tmp"))
    report = run(folder)
    assert report.computed == 300 and not list((folder / "chunks").glob(".*.tmp"))
    assert_same_tables(folder, straight)


def test_an_unexpected_failure_ends_the_manifest_failed(tmp_path, monkeypatch):
    import sim.analysis.summary as summary

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(summary, "write_summary", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run(tmp_path / "b", runs=100)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"] == "RuntimeError: boom"
