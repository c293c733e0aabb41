"""Benchmark: replications per second of the batch engine, against Mesa's own batch_run.

Everything is measured in the same run on the same machine, and reported as rates and
ratios, never against fixed timings:

1. the engine in one process at batch sizes 1 ... 5000 (one model advancing a whole batch);
2. the same model driven the way Mesa users would, `mesa.batch_run` with one replication
   per model, on the same seeds, checking that both give identical final states;
3. `wargame batch` with 2 worker processes (the parallel path an analyst uses).

Usage: python bench/bench_batch.py [--quick] [--check]
  --quick  smaller sizes (a smoke run)
  --check  exit 1 unless the parallel rate is >= 5,000 runs/s and >= 50x mesa.batch_run
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.batch.runner import run_batch  # noqa: E402
from sim.engine.model import CrisisModel  # noqa: E402
from sim.scenario.config import load_scenario  # noqa: E402

SEED = 20250613
FINAL_STATE = ["escalation", "oil_price", "iran_stability", "china_imports_kbd", "active"]


def rate_in_process(scenario, size: int, repeats: int) -> float:
    """Best of `repeats` timings of one batch of `size` replications, in runs per second."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        CrisisModel(scenario, size, rng=SEED).run()
        best = min(best, time.perf_counter() - started)
    return size / best


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


def engine_final_state(scenario, runs: int) -> pd.DataFrame:
    model = CrisisModel(scenario, runs, rng=SEED).run()
    world = model.world
    return pd.DataFrame(
        {
            "replication": model.replications,
            "escalation": world.escalation.astype(float),
            "oil_price": world.oil_price,
            "iran_stability": world.iran_stability,
            "china_imports_kbd": world.china_imports_kbd,
            "active": world.active.astype(int),
        }
    )


def parallel_rate(runs: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        report = run_batch(
            ROOT / "configs" / "baseline.yaml",
            runs=runs,
            workers=workers,
            out=Path(folder) / "bench",
            show_progress=False,
        )
    return report.computed / report.elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "configs" / "baseline.yaml")
    sizes = [1, 10, 100, 1000] if args.quick else [1, 10, 100, 1000, 5000]
    mesa_runs = 50 if args.quick else 300
    parallel_runs = 10_000 if args.quick else 100_000

    versions = f"numpy {np.__version__}, mesa {mesa.__version__}"
    print(f"baseline scenario, {os.cpu_count()} cores, {versions}")
    print("\n1. one process, one model per batch")
    print(f"{'batch size':>10}  {'runs/s':>10}  {'peak RSS MB':>11}")
    rates = {}
    for size in sizes:
        rates[size] = rate_in_process(scenario, size, repeats=3 if size <= 1000 else 1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>10}  {rates[size]:>10,.0f}  {peak:>11,.0f}")

    print(f"\n2. mesa.batch_run, one replication per model, {mesa_runs} runs")
    mesa_rate, mesa_final = mesa_batch_run(scenario, mesa_runs)
    ours = engine_final_state(scenario, mesa_runs)
    pd.testing.assert_frame_equal(
        mesa_final[["replication", *FINAL_STATE]].astype(float),
        ours[["replication", *FINAL_STATE]].astype(float),
    )
    print(f"   {mesa_rate:,.0f} runs/s; final states identical to the batch engine's")

    print(f"\n3. wargame batch --workers 2, {parallel_runs:,} runs (incl. start-up and I/O)")
    parallel = parallel_rate(parallel_runs, workers=2)
    print(f"   {parallel:,.0f} runs/s")

    largest = max(sizes)
    print("\nratios")
    print(f"   batch of {largest} vs mesa.batch_run:   {rates[largest] / mesa_rate:6.1f}x")
    print(f"   --workers 2 vs mesa.batch_run:    {parallel / mesa_rate:6.1f}x")
    print(f"   --workers 2 vs batch of 1:        {parallel / rates[1]:6.1f}x")
    if args.check:
        ok = parallel >= 5000 and parallel / mesa_rate >= 50
        print("\ntargets (>= 5,000 runs/s and >= 50x mesa.batch_run):", "met" if ok else "NOT met")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
