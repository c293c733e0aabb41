"""Benchmark: what a user waits for, every speed target measured in one run.

Rates and ratios come from the same run on the same machine (a shared machine's load moves
every absolute figure; ratios against a baseline measured alongside move less):

1. start-up: `wargame --help` and `wargame check`, against the bare interpreter's start-up;
2. the engine in one process at batch sizes 1 ... 5,000, and the same model driven the way
   Mesa users would, `mesa.batch_run` with one replication per model, on the same seeds,
   checking that both give identical outcome records; then the engine's CPU time per
   replication here and at an earlier commit (by default the engine before Israel and the
   mechanisms that came with it), each checked out into a temporary folder and timed in a
   fresh interpreter of this environment, in alternation, with whether their outcome
   records are identical;
3. `wargame batch` from the prompt to the summary, as a user sees it, at 2,000, 50,000 and
   200,000 runs (the last two with 2 workers), with the CPU time of its whole process tree;
4. the classroom's live forecast of 2,000 futures;
5. `wargame plot` and `wargame report` of the baseline, and a second `make run` with nothing
   new to compute;
6. with --million only: 1,000,000 replications with trajectories streamed to Parquet, and the
   peak memory of the whole process tree (slow, and heavy for a shared machine).

Usage: python bench/bench_batch.py [--quick] [--check] [--million] [--against REF]
  --quick        smaller sizes (a smoke run; the targets are not judged)
  --check        exit 1 unless every target measured is met
  --million      add the 1,000,000-run memory measurement
  --against REF  the commit to compare the engine with (default: PREVIOUS_ENGINE, the engine
                 before Israel and the new mechanisms); skipped with a note without git or REF
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.engine.model import CrisisModel  # noqa: E402
from sim.scenario.config import load_scenario  # noqa: E402

SEED = 20250613
BASELINE = ROOT / "configs" / "baseline.yaml"
CLASSROOM = ROOT / "configs" / "classroom.yaml"
WARGAME = Path(sys.executable).with_name("wargame")
GIB = 1 << 30
#: the engine before Israel and the mechanisms that came with it (the old layout: sim/model.py)
PREVIOUS_ENGINE = "14d61f8"


@dataclass
class Target:
    what: str
    measured: str
    goal: str
    met: bool


TARGETS: list[Target] = []


def target(what: str, measured: str, goal: str, met: bool) -> None:
    TARGETS.append(Target(what, measured, goal, met))


def wall(command: list[str], repeats: int = 1) -> float:
    """Best wall time of a command run from the prompt, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        best = min(best, time.perf_counter() - started)
    return best


def wall_and_cpu(command: list[str]) -> tuple[float, float]:
    """Wall time of a command from the prompt, and the CPU time (user + system) of its whole
    process tree, workers included, sampled as it runs: on a shared machine the CPU time
    moves less with the load than the wall time."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT)
    used: dict[int, float] = {}
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(process.pid)
            for member in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    times = member.cpu_times()
                    used[member.pid] = times.user + times.system
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return seconds, sum(used.values())


def batch_command(runs: int, folder: Path, *extra: str) -> list[str]:
    return [str(WARGAME), "batch", str(BASELINE), "--runs", str(runs), "--out", str(folder),
            "--no-progress", *extra]  # fmt: skip


# ----------------------------------------------------------------------------- 1. start-up


def startup() -> None:
    print("\n1. start-up (best of 5)")
    python = wall([sys.executable, "-c", "pass"], 5)
    rows = {
        "python -c pass": python,
        "wargame --help": wall([str(WARGAME), "--help"], 5),
        "wargame check baseline": wall([str(WARGAME), "check", str(BASELINE)], 5),
    }
    for name, seconds in rows.items():
        print(f"   {name:<24} {seconds:6.3f} s  {seconds / python:5.1f}x the interpreter")
    for name in ("wargame --help", "wargame check baseline"):
        target(name, f"{rows[name]:.2f} s", "< 0.3 s", rows[name] < 0.3)


# ----------------------------------------------------------------------------- 2. engine


def rate_in_process(scenario, size: int, repeats: int) -> tuple[float, float]:
    """Best of `repeats` timings of one batch of `size` replications, in runs per second of
    CPU time and of wall time. The engine computes in this one thread, so on a quiet machine
    the two agree; on a shared one the CPU time moves less with the load."""
    cpu = wall_time = float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        CrisisModel(scenario, size, rng=SEED).run()
        cpu = min(cpu, time.process_time() - started_cpu)
        wall_time = min(wall_time, time.perf_counter() - started)
    return size / cpu, size / wall_time


def mesa_batch_run(scenario, runs: int) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    rows = mesa.batch_run(
        CrisisModel,
        {"scenario": [scenario], "replication": range(runs)},
        rng=SEED,
        number_processes=1,
        max_steps=10_000,
        data_collection_period=-1,
        display_progress=False,
    )
    elapsed = time.perf_counter() - started
    final = pd.DataFrame(rows).sort_values("replication").reset_index(drop=True)
    return runs / elapsed, final


def engine_records(scenario, runs: int) -> pd.DataFrame:
    return CrisisModel(scenario, runs, rng=SEED).run().outcome_frame()


def engine(quick: bool) -> dict[str, float]:
    scenario = load_scenario(BASELINE)
    sizes = [1, 10, 100, 1000] if quick else [1, 10, 100, 1000, 5000]
    print("\n2. the engine in one process, one model per batch")
    rates = {}
    for size in sizes:
        rates[size], by_wall = rate_in_process(scenario, size, repeats=3)
        print(f"   batch of {size:>5}: {rates[size]:>9,.0f} runs/s of CPU time "
              f"({by_wall:,.0f} by the clock)")  # fmt: skip
    mesa_runs = 50 if quick else 300
    mesa_rate, mesa_final = mesa_batch_run(scenario, mesa_runs)
    ours = engine_records(scenario, mesa_runs)
    fields = [c for c in ours.columns if c != "replication"]
    pd.testing.assert_frame_equal(
        mesa_final[fields].reset_index(drop=True),
        ours[fields].reset_index(drop=True),
        check_exact=True,
        check_dtype=False,
    )
    print(f"   mesa.batch_run, one replication per model ({mesa_runs} runs): "
          f"{mesa_rate:,.1f} runs/s; outcome records identical")  # fmt: skip
    largest = max(sizes)
    target(
        f"one process, batch of {largest}",
        f"{rates[largest]:,.0f} runs/s (CPU)",
        ">= 15,000 runs/s",
        rates[largest] >= 15_000,
    )
    return {"mesa": mesa_rate, "in_process": rates[largest]}


# ----------------------------------------------------------------------------- 2b. against a commit

#: run in a fresh interpreter with a source tree first on the path: the CPU time per
#: replication of the baseline at a batch of `size` (best of `repeats`) and a digest of the
#: outcome records of a fixed batch; works with the old layout (sim/model.py) and the new
_PER_REPLICATION = """
import hashlib, json, os, sys, time
root, size, repeats, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, root)
if os.path.exists(os.path.join(root, "sim", "engine", "model.py")):
    from sim.engine.model import CrisisModel
    from sim.scenario.config import load_scenario
else:
    from sim.model import CrisisModel
    from sim.config import load_scenario
import pandas as pd
import sim
assert sim.__file__.startswith(root), sim.__file__
scenario = load_scenario(root + "/configs/baseline.yaml")
CrisisModel(scenario, 200, rng=seed).run()
best = float("inf")
for _ in range(repeats):
    started = time.process_time()
    CrisisModel(scenario, size, rng=seed).run()
    best = min(best, time.process_time() - started)
records = CrisisModel(scenario, 1000, rng=seed).run().outcome_frame()
digest = hashlib.sha256(",".join(records.columns).encode())
digest.update(pd.util.hash_pandas_object(records, index=False).to_numpy().tobytes())
print(json.dumps({"us": best / size * 1e6, "records": digest.hexdigest()}))
"""


def checkout(ref: str, into: Path) -> str | None:
    """Extract commit `ref` of this repository into `into`; its full id, or None (and a note)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        print("   skipped: git or the repository's history is not available")
        return None
    found = subprocess.run([git, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                           cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    if found.returncode != 0:
        print(f"   skipped: no commit {ref} in this repository")
        return None
    commit = found.stdout.strip()
    archive = subprocess.run([git, "archive", "--format=tar", commit], cwd=ROOT,
                             capture_output=True, check=True)  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def per_replication(tree: Path, size: int, repeats: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PER_REPLICATION, str(tree), str(size), str(repeats), str(SEED)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout.strip().splitlines()[-1])


def against(ref: str, quick: bool) -> None:
    """The engine's CPU time per replication here and at commit `ref`, measured alike."""
    size, rounds = (1000, 1) if quick else (5000, 3)
    print(f"\n2b. the engine here and at commit {ref}: CPU time per replication, batch of "
          f"{size:,}, best of {3 * rounds} in fresh interpreters taking turns")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        commit = checkout(ref, Path(tmp))
        if commit is None:
            return
        trees = {"here": ROOT, commit[:7]: Path(tmp)}
        best = {name: float("inf") for name in trees}
        records = {}
        try:
            for _ in range(rounds):
                for name, tree in trees.items():
                    measured = per_replication(tree, size, 3)
                    best[name] = min(best[name], measured["us"])
                    records[name] = measured["records"]
        except RuntimeError as error:
            print(f"   skipped: the engine at {commit[:7]} does not run here ({error})")
            return
    ratio = best["here"] / best[commit[:7]]
    same = records["here"] == records[commit[:7]]
    for name in trees:
        print(f"   {name:<8} {best[name]:7.1f} us per replication")
    print(f"   here / {commit[:7]}: {ratio:.2f}; outcome records of the same seeds "
          f"{'identical' if same else 'differ (the model changed in between)'}")  # fmt: skip
    before = " (before Israel)" if ref == PREVIOUS_ENGINE else ""
    target(f"engine per replication vs {commit[:7]}{before}", f"{ratio:.2f}x its time",
           "<= 1.00x", ratio <= 1.0)  # fmt: skip


# ----------------------------------------------------------------------------- 3. batches


def batches(quick: bool, work: Path, mesa_rate: float) -> Path:
    """`wargame batch` end to end; returns the folder of the default baseline batch."""
    print("\n3. `wargame batch` from the prompt to the summary (start-up included)")
    sizes = [(2000, ()), (10_000, ("--workers", "2"))] if quick else [
        (2000, ()), (50_000, ("--workers", "2")), (200_000, ("--workers", "2"))
    ]  # fmt: skip
    print(f"   {'runs':>9}  {'workers':>7}  {'seconds':>8}  {'runs/s':>8}  "
          f"{'x mesa.batch_run':>16}  {'CPU s':>6}  {'CPU us/run':>10}")  # fmt: skip
    seconds = {}
    for runs, extra in sizes:
        folder = work / f"batch-{runs}"
        seconds[runs], cpu = wall_and_cpu(batch_command(runs, folder, *extra))
        rate = runs / seconds[runs]
        workers = extra[-1] if extra else "1"
        print(f"   {runs:>9,}  {workers:>7}  {seconds[runs]:>8.2f}  {rate:>8,.0f}  "
              f"{rate / mesa_rate:>15,.0f}x  {cpu:>6.1f}  {cpu / runs * 1e6:>10.1f}")  # fmt: skip
    target("2,000-run batch end to end", f"{seconds[2000]:.2f} s", "< 1.5 s", seconds[2000] < 1.5)
    largest = max(seconds)
    rate = largest / seconds[largest]
    target(f"--workers 2, {largest:,} runs", f"{rate:,.0f} runs/s", ">= 30,000 runs/s",
           rate >= 30_000)  # fmt: skip
    target("--workers 2 vs mesa.batch_run", f"{rate / mesa_rate:,.0f}x", ">= 1,000x",
           rate / mesa_rate >= 1000)  # fmt: skip
    return work / "batch-2000"


# ----------------------------------------------------------------------------- 4. classroom


def classroom(work: Path) -> None:
    from sim.classroom.debrief import forecast_summary
    from sim.classroom.session import GameSession

    print("\n4. the classroom's live forecast of 2,000 futures (best of 3)")
    game = GameSession.create(str(work / "game.sqlite"), str(CLASSROOM)).game
    scenario = game.setup.scenario
    best = fresh = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        forecast_summary(game, 2000)
        best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        CrisisModel(scenario, 2000, rng=SEED).run().outcome_frame()
        fresh = min(fresh, time.perf_counter() - started)
    print(f"   forecast {best:.3f} s; a fresh batch of 2,000 in one process {fresh:.3f} s")
    target("classroom forecast, 2,000 futures", f"{best:.2f} s", "< 0.5 s", best < 0.5)


# ----------------------------------------------------------------------------- 5. output


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU time (the command's processes, children included) of one command."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


def output(folder: Path, repeats: int = 2) -> None:
    """Figures and report of a fresh batch (best of `repeats` copies of its folder, each
    without figures), then `make run` again with nothing new (best of three)."""
    print(f"\n5. figures and report of the baseline ({folder.name}; best of {repeats})")
    best = {"plot": (float("inf"), 0.0), "report": (float("inf"), 0.0)}
    for copy in range(repeats):
        fresh = folder.with_name(f"{folder.name}-fresh-{copy}")
        shutil.copytree(folder, fresh, ignore=shutil.ignore_patterns("plots", "report.html"))
        for name in best:
            best[name] = min(best[name], timed([str(WARGAME), name, str(fresh)]))
    steps: dict[str, float] = {}
    for _ in range(3):  # the first round draws the folder's figures and report; best of 3
        for name, command in (
            ("batch", batch_command(2000, folder)),
            ("plot", [str(WARGAME), "plot", str(folder)]),
            ("report", [str(WARGAME), "report", str(folder)]),
        ):
            steps[name] = min(steps.get(name, float("inf")), timed(command)[0])
    plot, report = best["plot"][0], best["report"][0]
    print(f"   plot {plot:.2f} s ({best['plot'][1]:.2f} s CPU in its processes), "
          f"report {report:.2f} s ({best['report'][1]:.2f} s CPU)")  # fmt: skip
    rerun = sum(steps.values())
    each = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items())
    print(f"   rerun with nothing new {rerun:.2f} s ({each})")
    together = plot + report
    target("plot + report", f"{together:.1f} s", "< 5 s", together < 5)
    target("make run again, nothing new", f"{rerun:.1f} s", "< 3 s", rerun < 3)


# ----------------------------------------------------------------------------- 6. a million


def tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants, in bytes: the proportional set size, which
    counts a page shared by several processes (forked workers) once, split between them."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = process.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return total


def million(work: Path) -> None:
    runs = 1_000_000
    print(f"\n6. {runs:,} runs with trajectories, 2 workers, streamed to Parquet")
    command = batch_command(runs, work / "million", "--workers", "2",
                            "--set", f"experiment.trajectories={runs}")  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.1):
            peak = max(peak, tree_memory(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the {runs:,}-run batch failed with exit code {process.returncode}")
    size = sum(p.stat().st_size for p in (work / "million").glob("*.parquet"))
    print(f"   {seconds:.0f} s ({runs / seconds:,.0f} runs/s); peak memory of the process tree "
          f"{peak / GIB:.2f} GiB; Parquet tables {size / GIB:.2f} GiB")  # fmt: skip
    target("1,000,000 runs with trajectories", f"{peak / GIB:.2f} GiB peak", "< 1 GiB",
           peak < GIB)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--against", default=PREVIOUS_ENGINE, metavar="REF")
    args = parser.parse_args()
    versions = f"Python {sys.version.split()[0]}, numpy {np.__version__}, mesa {mesa.__version__}"
    print(f"baseline scenario, {os.cpu_count()} cores, {versions}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        startup()
        rates = engine(args.quick)
        against(args.against, args.quick)
        folder = batches(args.quick, work, rates["mesa"])
        classroom(work)
        output(folder)
        if args.million:
            million(work)
    print("\ntargets")
    for t in TARGETS:
        print(f"   {'met    ' if t.met else 'NOT met'}  {t.what:<36} {t.measured:>16}  ({t.goal})")
    if args.check and not args.quick:
        return 0 if all(t.met for t in TARGETS) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
