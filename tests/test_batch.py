"""Batch experiments: output folder, determinism across engines, resume, refusal, retries."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.results import Results
from sim.batch import runner as batch_module
from sim.batch.runfolder import ResultsFolderError
from sim.batch.runner import BatchIncomplete, BatchInterrupted, run_batch
from sim.scenario.errors import WargameError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "configs" / "baseline.yaml")
WARGAME = str(Path(sys.executable).with_name("wargame"))
BOOLEAN_OUTCOMES = [
    "war",
    "russia_intervened",
    "china_intervened",
    "iran_requested_help",
]


def run(out: Path, runs: int = 600, **options) -> batch_module.BatchReport:
    options.setdefault("workers", 1)
    options.setdefault("chunk_size", 100)
    return run_batch(BASELINE, runs=runs, out=out, show_progress=False, **options)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    """An uninterrupted serial run that the other runs must reproduce exactly."""
    out = tmp_path_factory.mktemp("reference")
    run(out)
    return pd.read_parquet(out / "outcomes.parquet")


def test_folder_holds_every_table_and_the_manifest(tmp_path):
    report = run(tmp_path / "b", runs=300)
    folder = report.folder
    for name in [
        "config.yaml",
        "manifest.json",
        "outcomes.parquet",
        "trajectories.parquet",
        "decisions.parquet",
        "summary.json",
        "summary.md",
    ]:
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ["config_hash", "package_version", "master_seed", "replications", "engine"]:
        assert key in manifest
    assert manifest["status"] == "complete"
    assert manifest["replications"] == 300
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    assert list(outcomes.replication) == list(range(300))
    decisions = pd.read_parquet(folder / "decisions.parquet")
    # every live actor decides once per menu and turn: counts add up to the live runs
    china = decisions[(decisions.actor == "china") & (decisions.menu == "main")]
    per_turn = china[china.factor == china.factor.iloc[0]].groupby("turn")["count"].sum()
    trajectories = pd.read_parquet(folder / "trajectories.parquet")
    live = trajectories[trajectories.turn >= 1].groupby("turn").size()
    alive_before = trajectories.groupby("turn").active.sum().shift(1).dropna()
    assert per_turn.loc[1] == 300
    assert (per_turn.reindex(alive_before.index[1:]).fillna(0) <= live.max()).all()


def test_summary_json_reports_wilson_intervals(tmp_path):
    report = run(tmp_path / "b", runs=400)
    summary = json.loads((report.folder / "summary.json").read_text())
    outcomes = pd.read_parquet(report.folder / "outcomes.parquet")
    for field in BOOLEAN_OUTCOMES:
        block = summary["outcomes"][field]
        assert set(block) >= {"p", "ci", "n"}
        assert block["n"] == 400
        assert block["p"] == pytest.approx(outcomes[field].mean())
        assert block["ci"][0] <= block["p"] <= block["ci"][1]
    assert summary["given"]["war"]["n"] == int(outcomes.war.sum())
    assert "runs" in summary["convergence"]["text"]


def test_same_seed_same_rows_for_any_worker_count(tmp_path, reference):
    run(tmp_path / "w2", workers=2, chunk_size=70)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "w2" / "outcomes.parquet"), reference, check_exact=True
    )


def test_dask_local_cluster_gives_the_serial_result(tmp_path, reference):
    pytest.importorskip("distributed")
    run(tmp_path / "dask", engine="dask", workers=2, chunk_size=150)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "dask" / "outcomes.parquet"), reference, check_exact=True
    )


def test_interrupted_batch_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, reference):
    real = batch_module.run_chunk
    calls = {"n": 0}

    def interrupt_after_two(task):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(batch_module, "run_chunk", interrupt_after_two)
    with pytest.raises(BatchInterrupted, match="200 of 600 runs saved"):
        run(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    monkeypatch.setattr(batch_module, "run_chunk", real)
    report = run(tmp_path / "b")
    assert (report.computed, report.reused) == (400, 200)
    outcomes = pd.read_parquet(tmp_path / "b" / "outcomes.parquet")
    assert outcomes.replication.is_unique
    pd.testing.assert_frame_equal(outcomes, reference, check_exact=True)


def test_killed_batch_resumes_from_the_command_line(tmp_path):
    """A real crash: kill -9 the whole batch mid-way, rerun the same command."""
    out = tmp_path / "killed"
    command = [WARGAME, "batch", BASELINE, "--runs", "20000", "--workers", "2"]
    command += ["--chunk-size", "200", "--out", str(out), "--no-progress"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    chunks = out / "chunks"
    while time.time() < deadline:
        if chunks.is_dir() and len(list(chunks.glob("*.outcomes.parquet"))) >= 4:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    saved = len(list(chunks.glob("*.outcomes.parquet")))
    assert 0 < saved < 100, "the kill should land mid-way"
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    assert f"{20000 - saved * 200} runs computed, {saved * 200} reused" in finished.stdout
    resumed = pd.read_parquet(out / "outcomes.parquet")
    assert len(resumed) == 20000 and resumed.replication.is_unique
    straight = tmp_path / "straight"
    run_batch(BASELINE, runs=20000, workers=1, out=straight, show_progress=False)
    pd.testing.assert_frame_equal(
        resumed, pd.read_parquet(straight / "outcomes.parquet"), check_exact=True
    )


def test_more_runs_extend_an_existing_folder(tmp_path, reference):
    run(tmp_path / "b", runs=250)
    report = run(tmp_path / "b", runs=600)
    assert (report.computed, report.reused) == (350, 250)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "b" / "outcomes.parquet"), reference, check_exact=True
    )


def test_folder_of_another_config_is_refused_and_left_intact(tmp_path):
    run(tmp_path / "b", runs=200)
    before = (tmp_path / "b" / "outcomes.parquet").read_bytes()
    with pytest.raises(ResultsFolderError, match="different config"):
        run(tmp_path / "b", runs=200, overrides=["context.sanctions_intensity=0.9"])
    with pytest.raises(ResultsFolderError, match="different config"):
        run(tmp_path / "b", runs=200, seed=1)
    assert (tmp_path / "b" / "outcomes.parquet").read_bytes() == before


def test_refusal_is_one_line_and_exit_code_2_on_the_command_line(tmp_path):
    run(tmp_path / "b", runs=100)
    other = str(ROOT / "configs" / "ukraine_ceasefire.yaml")
    result = subprocess.run(
        [WARGAME, "batch", other, "--runs", "100", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "different config" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_manifest_and_chunk(tmp_path, reference):
    run(tmp_path / "b")
    chunk = sorted((tmp_path / "b" / "chunks").glob("*.outcomes.parquet"))[2]
    chunk.write_bytes(b"not parquet")
    report = run(tmp_path / "b")
    assert report.computed == 100  # the damaged chunk, and only it, is computed again
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "b" / "outcomes.parquet"), reference, check_exact=True
    )
    (tmp_path / "b" / "manifest.json").write_text("{not json")
    with pytest.raises(ResultsFolderError, match="manifest"):
        run(tmp_path / "b")
    with pytest.raises(ResultsFolderError, match="manifest"):
        Results.load(tmp_path / "b")


def test_failing_chunk_is_retried(tmp_path, monkeypatch, reference):
    real = batch_module.run_chunk
    failed_once: set = set()

    def flaky(task):
        if task.chunk.start == 300 and task.chunk not in failed_once:
            failed_once.add(task.chunk)
            raise RuntimeError("worker lost")
        return real(task)

    monkeypatch.setattr(batch_module, "run_chunk", flaky)
    run(tmp_path / "b")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "b" / "outcomes.parquet"), reference, check_exact=True
    )


def test_chunk_that_keeps_failing_is_reported_with_its_range(tmp_path, monkeypatch):
    real = batch_module.run_chunk

    def broken(task):
        if task.chunk.start == 300:
            raise RuntimeError("disk full")
        return real(task)

    monkeypatch.setattr(batch_module, "run_chunk", broken)
    with pytest.raises(BatchIncomplete, match=r"runs 300-399: RuntimeError: disk full"):
        run(tmp_path / "b")
    saved = list((tmp_path / "b" / "chunks").glob("*.outcomes.parquet"))
    assert len(saved) == 5  # the other chunks finished
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["failed_chunks"][0]["replications"] == [300, 400]


def write_experiment(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(f"extends: {BASELINE}\nname: sweep\n{body}")
    return path


def test_grid_sweep_uses_common_random_numbers(tmp_path):
    config = write_experiment(
        tmp_path,
        "experiment:\n  seed: 5\n  grid:\n"
        "    context.russia_ukraine_commitment: [0.1, 0.9]\n"
        "    actors.russia.rationality: [2.0, 4.0]\n",
    )
    report = run_batch(config, runs=300, workers=1, out=tmp_path / "g", show_progress=False)
    outcomes = pd.read_parquet(report.folder / "outcomes.parquet")
    assert outcomes.point.nunique() == 4
    assert set(outcomes["context.russia_ukraine_commitment"]) == {0.1, 0.9}
    # same replication, same seed: the draws that no sweep touches are shared by all points
    start = outcomes.pivot(index="replication", columns="point", values="china_imports_start_kbd")
    assert (start.nunique(axis=1) == 1).all()
    summary = json.loads((report.folder / "summary.json").read_text())
    assert len(summary["per_point"]) == 4
    assert len(summary["comparisons"]) == 3
    freer = [c for c in summary["comparisons"] if c["point"]["point"] == 2][0]
    difference = freer["differences"]["russia_max_support"]
    assert difference["n_pairs"] == 300
    # a Russia tied down in Ukraine (0.9) gives less support than a free one (0.1)
    assert difference["ci"][1] < 0


def test_latin_hypercube_sample_covers_its_ranges(tmp_path):
    config = write_experiment(
        tmp_path,
        "experiment:\n  sample:\n    method: lhs\n    points: 6\n    ranges:\n"
        "      context.sanctions_intensity: [0.4, 0.9]\n",
    )
    report = run_batch(config, runs=50, workers=1, out=tmp_path / "s", show_progress=False)
    values = (
        pd.read_parquet(report.folder / "outcomes.parquet")
        .groupby("point")["context.sanctions_intensity"]
        .first()
    )
    assert len(values) == 6
    assert values.between(0.4, 0.9).all()
    # one value in each sixth of the range: that is what a Latin hypercube guarantees
    assert sorted(((values - 0.4) / 0.5 * 6).astype(int).clip(0, 5)) == list(range(6))


def test_scenario_list_compares_scenarios(tmp_path):
    config = write_experiment(tmp_path, "experiment:\n  scenarios: [baseline, ukraine_ceasefire]\n")
    report = run_batch(config, runs=400, workers=1, out=tmp_path / "c", show_progress=False)
    outcomes = pd.read_parquet(report.folder / "outcomes.parquet")
    assert set(outcomes.scenario) == {"baseline", "ukraine_ceasefire"}
    summary = json.loads((report.folder / "summary.json").read_text())
    difference = summary["comparisons"][0]["differences"]["russia_max_support"]
    assert difference["ci"][0] > 0


def test_unknown_sweep_path_is_a_clear_error(tmp_path):
    config = write_experiment(tmp_path, "experiment:\n  grid:\n    context.no_such: [1]\n")
    with pytest.raises(WargameError, match="no_such"):
        run_batch(config, runs=10, workers=1, out=tmp_path / "x", show_progress=False)
    assert not (tmp_path / "x" / "outcomes.parquet").exists()


@pytest.mark.parametrize(
    "sweep",
    [
        "grid:\n    experiment.replications: [10, 20]\n",
        "sample:\n    points: 4\n    ranges:\n      experiment.seed: [1, 9]\n",
    ],
)
def test_the_experiment_settings_cannot_be_swept(tmp_path, sweep):
    """A swept replication count or seed would be ignored by the batch: it is refused."""
    config = write_experiment(tmp_path, f"experiment:\n  {sweep}")
    with pytest.raises(WargameError, match="experiment's own settings cannot be swept"):
        run_batch(config, runs=10, workers=1, out=tmp_path / "x", show_progress=False)
    assert not (tmp_path / "x").exists()


def test_summary_and_compare_commands(tmp_path):
    run(tmp_path / "a", runs=300)
    run(tmp_path / "b", runs=300, overrides=["context.russia_ukraine_commitment=0.1"])
    shown = subprocess.run(
        [WARGAME, "summary", str(tmp_path / "a")], capture_output=True, text=True, check=True
    )
    assert "war" in shown.stdout and "%" in shown.stdout
    compared = subprocess.run(
        [WARGAME, "compare", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "paired by replication" in compared.stdout
    assert "russia_max_support" in compared.stdout
    # a probability reads as a percentage and its change in percentage points
    war = next(line for line in compared.stdout.splitlines() if line.startswith("| US-Iran war"))
    assert re.fullmatch(
        r"\| US-Iran war.* \| [\d.]+ % \| [\d.]+ % \| [+-][\d.]+ pp "
        r"\| [+-][\d.]+ to [+-][\d.]+ pp \| 300 \|",
        war,
    ), war
    missing = subprocess.run(
        [WARGAME, "summary", str(tmp_path / "nothing")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and missing.stderr.startswith("error:")


def test_resume_with_another_chunk_size_runs_nothing_twice(tmp_path, reference):
    run(tmp_path / "b", chunk_size=100)
    chunks = sorted((tmp_path / "b" / "chunks").glob("*.parquet"))
    for path in chunks:
        if "-r000000100-" in path.name or "-r000000300-" in path.name:
            path.unlink()  # two finished chunks lost, with a gap between them
    report = run(tmp_path / "b", chunk_size=600)
    assert (report.computed, report.reused) == (200, 400)
    outcomes = pd.read_parquet(tmp_path / "b" / "outcomes.parquet")
    assert outcomes.replication.is_unique
    pd.testing.assert_frame_equal(outcomes, reference, check_exact=True)


def turn_one_decisions(folder: Path) -> int:
    decisions = pd.read_parquet(folder / "decisions.parquet")
    iran = decisions[(decisions.actor == "iran") & (decisions.turn == 1)]
    return int(iran[iran.factor == iran.factor.iloc[0]]["count"].sum())


def test_fewer_runs_later_keep_every_table_consistent(tmp_path):
    run(tmp_path / "b", runs=600, chunk_size=250)
    assert turn_one_decisions(tmp_path / "b") == 600
    report = run(tmp_path / "b", runs=400, chunk_size=250)
    # the chunk [250, 500) reaches past 400 runs: its runs below 400 are computed again
    assert (report.computed, report.reused) == (150, 250)
    assert len(pd.read_parquet(tmp_path / "b" / "outcomes.parquet")) == 400
    assert turn_one_decisions(tmp_path / "b") == 400
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["n"] == 400


def test_damaged_decision_table_is_computed_again(tmp_path, reference):
    run(tmp_path / "b")
    damaged = sorted((tmp_path / "b" / "chunks").glob("*.decisions.parquet"))[1]
    damaged.write_bytes(b"garbage")
    report = run(tmp_path / "b")
    assert report.computed == 100
    assert (tmp_path / "b" / "chunks" / "corrupt" / damaged.name).is_file()
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "b" / "outcomes.parquet"), reference, check_exact=True
    )


def test_two_batches_never_write_one_folder(tmp_path):
    from sim.batch.runfolder import exclusive

    (tmp_path / "b").mkdir()
    with exclusive(tmp_path / "b"), pytest.raises(ResultsFolderError, match="another batch"):
        run(tmp_path / "b", runs=50)


def test_unfinished_folder_is_not_read_as_results(tmp_path, monkeypatch):
    run(tmp_path / "b", runs=200)
    real = batch_module.run_chunk

    def interrupt(task):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module, "run_chunk", interrupt)
    with pytest.raises(BatchInterrupted):
        run(tmp_path / "b", runs=400)  # an extension that did not finish
    monkeypatch.setattr(batch_module, "run_chunk", real)
    with pytest.raises(ResultsFolderError, match="has not finished"):
        Results.load(tmp_path / "b")


def test_replications_in_the_file_do_not_change_the_config_hash(tmp_path):
    run(tmp_path / "b", runs=100)
    report = run(tmp_path / "b", runs=200, overrides=["experiment.replications=5000"])
    assert report.reused == 100


def test_a_recalibrated_posterior_is_another_config(tmp_path):
    """The scenario files name the posterior by path; a folder made under one posterior must
    not be extended, or its results reused, under a posterior recalibrated at the same path."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    shipped = ROOT / "configs" / "model" / "posterior"
    posterior = tmp_path / "posterior"
    posterior.mkdir()
    meta = yaml.safe_load((shipped / "posterior.yaml").read_text())
    shutil.copy(shipped / "posterior.yaml", posterior / "posterior.yaml")
    shutil.copy(shipped / meta["particles"], posterior / meta["particles"])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        f"extends: {BASELINE}\nname: recalibrated\ncalibration: {posterior / 'posterior.yaml'}\n"
    )
    run_batch(str(scenario), runs=100, out=tmp_path / "b", show_progress=False)
    before = (tmp_path / "b" / "outcomes.parquet").read_bytes()

    table = pq.read_table(posterior / meta["particles"])
    weights = table.column("weight").to_numpy()
    recalibrated = weights[::-1].copy()
    column = table.column_names.index("weight")
    table = table.set_column(column, "weight", pa.array(recalibrated))
    pq.write_table(table, posterior / meta["particles"])

    with pytest.raises(ResultsFolderError, match="different config"):
        run_batch(str(scenario), runs=200, out=tmp_path / "b", show_progress=False)
    assert (tmp_path / "b" / "outcomes.parquet").read_bytes() == before


def test_summary_is_recomputed_when_missing_or_stale(tmp_path):
    config = write_experiment(
        tmp_path, "experiment:\n  grid:\n    context.russia_ukraine_commitment: [0.2, 0.8]\n"
    )
    report = run_batch(config, runs=100, workers=1, out=tmp_path / "g", show_progress=False)
    saved = json.loads((report.folder / "summary.json").read_text())
    (report.folder / "summary.json").unlink()
    again = Results.load(report.folder).summary()
    assert again["per_point"][1]["parameters"] == {"context.russia_ukraine_commitment": 0.8}
    assert again["outcomes"]["war"] == saved["outcomes"]["war"]
    assert len(again["comparisons"]) == 1
    stale = {**saved, "n": 5}
    (report.folder / "summary.json").write_text(json.dumps(stale))
    assert Results.load(report.folder).summary()["n"] == 200


def _files(folder: Path) -> dict[Path, tuple[int, bytes]]:
    """Every file of a results folder (but its lock) with its modification time and bytes."""
    return {
        path: (path.stat().st_mtime_ns, path.read_bytes())
        for path in folder.rglob("*")
        if path.is_file() and path.name != ".lock"
    }


def test_a_rerun_of_a_finished_batch_computes_and_writes_nothing(tmp_path, monkeypatch):
    """Nothing new to compute: no run, no combining, no summary, every file left as it was."""
    run(tmp_path / "b", runs=300)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {
        "config.yaml",
        "outcomes.parquet",
        "trajectories.parquet",
        "decisions.parquet",
        "summary.json",
        "summary.md",
    }
    before = _files(tmp_path / "b")

    def fail(*args, **kwargs):
        raise AssertionError("a finished batch was run or combined again")

    monkeypatch.setattr(batch_module, "run_chunk", fail)
    monkeypatch.setattr(batch_module, "combine", fail)
    report = run(tmp_path / "b", runs=300)
    assert (report.computed, report.reused) == (0, 300)
    assert _files(tmp_path / "b") == before


def test_a_rerun_restores_outputs_changed_since_the_batch_finished(tmp_path, monkeypatch):
    """A table or summary that no longer matches its checksum is rebuilt from the chunks."""
    run(tmp_path / "b", runs=300)
    before = _files(tmp_path / "b")
    outcomes, summary = tmp_path / "b" / "outcomes.parquet", tmp_path / "b" / "summary.md"
    outcomes.write_bytes(outcomes.read_bytes()[:100])
    summary.write_text("edited by hand\n")
    monkeypatch.setattr(batch_module, "run_chunk", None)  # the saved runs suffice
    report = run(tmp_path / "b", runs=300)
    assert (report.computed, report.reused) == (0, 300)
    after = _files(tmp_path / "b")
    for path in (outcomes, summary):
        assert after[path][1] == before[path][1]


def test_a_rerun_with_nothing_to_compute_claims_no_rate(tmp_path):
    """A rerun that reuses every saved run says so, without a meaningless '0 runs/s'."""
    command = [WARGAME, "batch", BASELINE, "--runs", "40", "--out", str(tmp_path / "b")]
    command += ["--no-progress"]
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "40 runs computed, 0 reused" in first.stdout and "runs/s" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "0 runs computed, 40 reused" in again.stdout
    assert "runs/s" not in again.stdout


def test_files_put_in_place_together_are_synced_once(tmp_path, monkeypatch):
    """A batch's final tables and summary are renamed into place and then made durable by one
    fsync of their folder, before the manifest that calls the batch complete."""
    from sim.batch import runfolder

    synced: list[Path] = []
    monkeypatch.setattr(runfolder, "_fsync_directory", synced.append)
    with runfolder.synced_together():
        for name in "abc":
            runfolder.atomic_write_text(tmp_path / name, name)
        assert synced == []
    assert synced == [tmp_path]
    runfolder.atomic_write_text(tmp_path / "d", "d")
    assert synced == [tmp_path, tmp_path]
    assert [(tmp_path / name).read_text() for name in "abcd"] == list("abcd")
