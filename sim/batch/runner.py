"""Batch experiments: thousands of seeded replications, cut into chunks, run anywhere.

A chunk is a range of replication indices of one sweep point. Its result depends only on the
scenario, the master seed and those indices, so chunks can run serially, in worker processes
or on a Dask cluster, in any order, be retried, or be resumed after a crash, and the combined
tables are the same.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim import __version__
from sim.batch.combine import combine
from sim.batch.hygiene import (
    Terminated,
    process_context,
    terminate_as_interrupt,
)
from sim.batch.pools import check_scheduler, execute_dask, execute_processes
from sim.batch.reconcile import reconcile
from sim.batch.runfolder import (
    CONFIG,
    Chunk,
    ResultsFolderError,
    Staged,
    atomic_write_text,
    commit_chunk,
    exclusive,
    finished_chunks,
    git_commit,
    output_digests,
    output_error,
    outputs_intact,
    read_manifest,
    remove_strays,
    stage_chunk,
    synced_together,
    write_chunk,
    write_manifest,
)
from sim.scenario.config import Scenario
from sim.scenario.errors import WargameError
from sim.scenario.experiment import Plan, make_plan
from sim.scenario.limits import MAX_REPLICATIONS, MAX_WORKERS
from sim.scenario.reader import dump

if TYPE_CHECKING:
    import pandas as pd

Engine = Literal["local", "dask"]
MAX_ATTEMPTS = 3
#: the largest chunk the runner chooses by itself for runs that keep their trajectories (a
#: chunk's trajectory table is held whole in its worker's memory); big enough that the engine
#: runs at full speed (it advances a chunk's replications together)
DEFAULT_CHUNK = 5000
#: the largest chunk otherwise: the engine is faster per run in bigger batches, and every
#: chunk costs a task, three Parquet files and a commit; a crash loses at most a few seconds
LARGE_CHUNK = 25_000
#: below this many replications to compute, a batch without --workers runs in the calling
#: process: starting worker processes (each imports the engine) costs more than it saves
SERIAL_RUNS = 20_000


class BatchIncomplete(WargameError):
    """Some chunks failed even after retries; the others are saved."""

    exit_code = 1


class BatchInterrupted(WargameError):
    """Ctrl-C (exit code 130) or SIGTERM (143): the finished chunks are saved."""

    exit_code = 130

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk (picklable, so Dask can ship it)."""

    chunk: Chunk
    scenario: Scenario
    label: str
    parameters: dict[str, Any]
    seed: int
    trajectories: int


def run_chunk(task: ChunkTask) -> dict[str, pd.DataFrame]:
    """Run the replications of one chunk and return its outcome, trajectory and decision tables."""
    from sim.engine.model import CrisisModel

    _freeze_imports()
    chunk = task.chunk
    model = CrisisModel(
        task.scenario, range(chunk.start, chunk.stop), rng=task.seed, pool_decisions=True
    ).run()

    def tag(frame: pd.DataFrame) -> pd.DataFrame:
        frame.insert(0, "scenario", task.label)
        frame.insert(0, "point", chunk.point)
        for name, value in task.parameters.items():
            frame[name] = value
        return frame

    outcomes = tag(model.outcome_frame())
    tables = {"outcomes": outcomes, "decisions": tag(model.decision_pool.frame())}
    if chunk.start < task.trajectories:
        kept = model.trajectory_frame(model.replications < task.trajectories)
        tables["trajectories"] = tag(kept)
    # A Mesa model and its agents reference each other, so only the cycle collector frees
    # them: collect now, or a worker running chunk after chunk holds many batches' arrays.
    del model
    gc.collect()
    return tables


def run_and_stage_chunk(task: ChunkTask, folder: Path) -> Staged:
    """Run a chunk and stage its tables from the worker; the batch process commits them."""
    return stage_chunk(folder, task.chunk, run_chunk(task))


def _freeze_imports() -> None:
    """Move everything that exists now (imported libraries) out of the cycle collector's view,
    so that collecting after each chunk takes microseconds instead of a tenth of a second."""
    global _FROZEN
    if not _FROZEN:
        gc.freeze()
        _keep_freed_memory()
        _FROZEN = True


_FROZEN = False
#: glibc's `mallopt` parameters and the values a process running chunks uses
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MAPPED_ABOVE = 32 << 20  # bytes: arrays below this come from the heap
_TRIMMED_ABOVE = 64 << 20  # bytes: free memory at the heap's top kept for the next arrays


def _keep_freed_memory() -> None:
    """Let the C allocator serve the engine's arrays (hundreds of kB to a few MB each) from its
    heap, and keep what they free for the next ones, instead of mapping fresh zeroed pages from
    the system for each array and unmapping them when it is freed: in a thread other than the
    main one (Dask runs its tasks in one) that costs several times what the engine computes.
    Results do not change; only glibc offers `mallopt`, elsewhere nothing is done."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MAPPED_ABOVE)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIMMED_ABOVE)
    except (OSError, AttributeError):
        return


def usable_chunks(plan: Plan, done: Iterable[Chunk]) -> list[Chunk]:
    """Finished chunks that lie wholly within the requested runs.

    A chunk that reaches past a lowered --runs is not used (its pooled decisions cannot be
    cut back to the runs asked for); the runs it covered below the limit are computed again.
    """
    runs = plan.experiment.replications
    return [c for c in done if c.stop <= runs and c.point < len(plan.points)]


def _saved_usable_chunks(folder: Path, plan: Plan) -> list[Chunk]:
    """The folder's finished chunks (each with the tables it must have: trajectories for the
    first runs of a point) that lie within the runs asked for."""
    kept = plan.experiment.trajectories
    return usable_chunks(plan, finished_chunks(folder, lambda chunk: chunk.start < kept))


def missing_chunks(plan: Plan, done: Iterable[Chunk], chunk_size: int) -> list[Chunk]:
    """Chunks still to run: replications no usable chunk covers, cut on a fixed grid.

    Within a block of the grid each contiguous gap becomes its own chunk, so a resume with
    another chunk size never runs a finished replication twice.
    """
    runs = plan.experiment.replications
    covered: dict[int, np.ndarray] = {}
    for chunk in usable_chunks(plan, done):
        covered.setdefault(chunk.point, np.zeros(runs, dtype=bool))[chunk.start : chunk.stop] = True
    todo = []
    for point in plan.points:
        mask = covered.get(point.point, np.zeros(runs, dtype=bool))
        for start in range(0, runs, chunk_size):
            missing = np.flatnonzero(~mask[start : min(start + chunk_size, runs)]) + start
            if missing.size == 0:
                continue
            gaps = np.flatnonzero(np.diff(missing) > 1) + 1
            for span in np.split(missing, gaps):
                todo.append(Chunk(point.point, int(span[0]), int(span[-1]) + 1))
    return todo


@dataclass
class BatchReport:
    folder: Path
    plan: Plan
    computed: int
    reused: int
    elapsed: float
    failures: list[tuple[Chunk, str]] = field(default_factory=list)


def default_out(plan: Plan) -> Path:
    return Path(plan.experiment.out or f"runs/{plan.name}")


def default_workers(plan: Plan, engine: Engine) -> int:
    """All cores for a big batch or a cluster; the calling process alone for a small one."""
    runs = plan.experiment.replications * len(plan.points)
    if engine == "local" and runs <= SERIAL_RUNS:
        return 1
    return os.cpu_count() or 1


def default_chunk_size(plan: Plan, workers: int) -> int:
    """Replications per chunk: a whole small batch at once, else about four chunks a worker,
    at most `LARGE_CHUNK` (`DEFAULT_CHUNK` when most runs keep their trajectories)."""
    runs = plan.experiment.replications
    largest = DEFAULT_CHUNK if 2 * plan.experiment.trajectories > runs else LARGE_CHUNK
    if workers == 1:
        return max(1, min(largest, runs))
    return max(1000, min(largest, -(-runs // (4 * workers))))


def _prepare_folder(folder: Path, plan: Plan) -> dict[str, Any]:
    """Check that a folder is new or holds this very experiment, and never mix results."""
    if any(path.name != ".lock" for path in folder.iterdir()):
        manifest = read_manifest(folder)
        if manifest.get("config_hash") != plan.config_hash:
            raise ResultsFolderError(
                f"{folder}: holds results of a different config (config hash "
                f"{manifest.get('config_hash')}, this one {plan.config_hash}); "
                "choose another --out or remove the folder"
            )
        if manifest.get("package_version") != __version__:
            raise ResultsFolderError(
                f"{folder}: made by wargame {manifest.get('package_version')}, this is "
                f"{__version__}; choose another --out or remove the folder"
            )
        return manifest
    return {}


def _execute(
    tasks: list[ChunkTask],
    folder: Path,
    engine: Engine,
    workers: int,
    scheduler: str | None,
    progress: Callable[[int], None],
) -> list[tuple[Chunk, str]]:
    """Run tasks, saving each finished chunk at once; retry failures; return what still failed."""
    attempts = {task.chunk: 0 for task in tasks}
    failures: dict[Chunk, str] = {}
    pending = list(tasks)

    def finished(task: ChunkTask, result: dict[str, pd.DataFrame] | Staged) -> None:
        import pandas as pd

        # Only this process, which holds the folder's lock, commits a chunk.
        if any(isinstance(table, pd.DataFrame) for table in result.values()):
            write_chunk(folder, task.chunk, result)
        else:  # a worker staged the tables itself, sparing this process the I/O
            commit_chunk(folder, task.chunk, result)
        progress(task.chunk.size)

    def failed(task: ChunkTask, error: BaseException) -> None:
        if isinstance(error, WargameError):  # a full disk or a read-only folder: stop now
            raise error
        attempts[task.chunk] += 1
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        if attempts[task.chunk] < MAX_ATTEMPTS:
            pending.append(task)
        else:
            failures[task.chunk] = message

    if engine == "dask":
        execute_dask(run_chunk, pending, workers, scheduler, finished, failed)
    elif workers <= 1:
        while pending:
            task = pending.pop(0)
            try:
                tables = run_chunk(task)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as error:
                failed(task, error)
                continue
            finished(task, tables)
    else:
        execute_processes(run_and_stage_chunk, pending, workers, folder, finished, failed)
    return sorted(failures.items())


def run_batch(
    config: str | Path,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    engine: Engine = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    chunk_size: int | None = None,
    show_progress: bool | None = None,
) -> BatchReport:
    """Run (or resume) an experiment and write its results folder."""
    started = time.perf_counter()
    _check_arguments(workers, chunk_size)
    check_scheduler(engine, scheduler)
    with _planning_bar(show_progress) as progress:
        plan = make_plan(config, overrides, runs, seed, progress=progress)
    folder = Path(out) if out is not None else default_out(plan)
    if folder.exists() and not folder.is_dir():
        raise ResultsFolderError(f"{folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(folder, exc) from None
    with exclusive(folder):
        manifest = _prepare_folder(folder, plan)
        if _finished(folder, plan, manifest):
            total = plan.experiment.replications * len(plan.points)
            return BatchReport(folder, plan, 0, total, time.perf_counter() - started)
        return _run_locked(
            plan,
            folder,
            manifest,
            config,
            engine,
            workers,
            scheduler,
            chunk_size,
            show_progress,
            started,
        )


def _finished(folder: Path, plan: Plan, manifest: dict[str, Any]) -> bool:
    """Whether the folder already holds this batch, complete and intact, so that running it
    again has nothing to compute, combine or summarise: the same configuration (checked by
    `_prepare_folder`), the same runs and points, outputs that match their checksums, and
    chunks that match theirs and cover every run once (a damaged chunk is set aside, and the
    batch then computes it again as any rerun would)."""
    experiment = plan.experiment
    if not (
        manifest.get("status") == "complete"
        and manifest.get("replications") == experiment.replications
        and manifest.get("points") == len(plan.points)
        and outputs_intact(folder, manifest.get("outputs"))
    ):
        return False
    chunks = _saved_usable_chunks(folder, plan)
    runs = experiment.replications
    return sum(c.size for c in chunks) == runs * len(plan.points) and not missing_chunks(
        plan, chunks, runs
    )


def _check_arguments(workers: int | None, chunk_size: int | None) -> None:
    """The same limits as the command line's, for callers of the Python API."""
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise WargameError(f"--workers: expected a number from 1 to {MAX_WORKERS}, got {workers}")
    if chunk_size is not None and not 1 <= chunk_size <= MAX_REPLICATIONS:
        raise WargameError(
            f"--chunk-size: expected a number from 1 to {MAX_REPLICATIONS}, got {chunk_size}"
        )


@contextlib.contextmanager
def _planning_bar(show_progress: bool | None):
    """A progress bar for planning a large design, shown once it has taken a second."""
    from tqdm import tqdm

    bar = None
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if total < 100 or time.perf_counter() - started < 1.0:
                return
            disable = None if show_progress is None else not show_progress
            bar = tqdm(total=total, unit="point", desc="planning", disable=disable)
            bar.update(done - 1)
        bar.update(1)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()


def _run_locked(
    plan: Plan,
    folder: Path,
    manifest: dict[str, Any],
    config: str | Path,
    engine: Engine,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    show_progress: bool | None,
    started: float,
) -> BatchReport:
    from tqdm import tqdm

    experiment = plan.experiment
    if workers is None:
        workers = default_workers(plan, engine)
    chunk_size = chunk_size or experiment.chunk_size or default_chunk_size(plan, workers)
    atomic_write_text(folder / CONFIG, dump(plan.resolved, sort_keys=False, allow_unicode=True))

    def saved_chunks() -> list[Chunk]:
        """Verified, non-overlapping chunks within the runs asked for."""
        return reconcile(folder, _saved_usable_chunks(folder, plan))

    done = saved_chunks()
    todo = missing_chunks(plan, done, chunk_size)
    total = experiment.replications * len(plan.points)
    to_compute = sum(c.size for c in todo)
    if todo and engine == "local" and workers > 1:
        process_context()  # the workers' fork server imports the engine meanwhile
    from sim.analysis.summary import write_summary

    manifest.update(
        {
            "name": plan.name,
            "config": str(config),
            "config_hash": plan.config_hash,
            "package_version": __version__,
            "git_commit": git_commit(),
            "master_seed": experiment.seed,
            "replications": experiment.replications,
            "points": len(plan.points),
            "design": plan.design,
            "parameters": plan.parameter_names,
            "scenarios": list(dict.fromkeys(p.label for p in plan.points)),
            "chunk_size": chunk_size,
            "engine": engine,
            "workers": workers,
            "scheduler": scheduler,
            "python": platform.python_version(),
            "status": "running",
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    write_manifest(folder, manifest)
    tasks = [
        ChunkTask(
            chunk,
            plan.points[chunk.point].scenario,
            plan.points[chunk.point].label,
            plan.points[chunk.point].parameters,
            experiment.seed,
            experiment.trajectories,
        )
        for chunk in todo
    ]
    bar = tqdm(
        total=total,
        initial=total - to_compute,
        unit="run",
        desc=plan.name,
        disable=(None if show_progress is None else not show_progress),
        dynamic_ncols=True,
    )
    with terminate_as_interrupt():
        try:
            failures = _execute(tasks, folder, engine, workers, scheduler, bar.update)
            bar.close()
            if failures:
                raise _incomplete(folder, manifest, failures)
            with synced_together():  # then the manifest that calls the batch complete
                outcomes = combine(folder, plan, saved_chunks())
                write_summary(folder, plan, outcomes)
            elapsed = time.perf_counter() - started
            manifest.update(
                {
                    "outputs": output_digests(folder),
                    "status": "complete",
                    "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                    "elapsed_seconds": round(elapsed, 3),
                    "computed_runs": to_compute,
                    "runs_per_second": round(to_compute / elapsed, 1) if elapsed > 0 else None,
                }
            )
            write_manifest(folder, manifest)
        except KeyboardInterrupt as interrupt:
            bar.close()
            remove_strays(folder)
            saved = sum(c.size for c in usable_chunks(plan, finished_chunks(folder)))
            _end(folder, manifest, "interrupted")
            signal = "terminated" if isinstance(interrupt, Terminated) else "interrupted"
            raise BatchInterrupted(
                f"{signal}: {saved} of {total} runs saved in {folder}; "
                "run the same command again to resume",
                exit_code=143 if isinstance(interrupt, Terminated) else 130,
            ) from None
        except BatchIncomplete:
            raise
        except BaseException as error:
            bar.close()
            remove_strays(folder)
            _end(folder, manifest, "failed", f"{type(error).__name__}: {error}".splitlines()[0])
            raise
    return BatchReport(folder, plan, to_compute, total - to_compute, elapsed)


def _end(folder: Path, manifest: dict[str, Any], status: str, error: str | None = None) -> None:
    """Record how a batch ended, if the disk still lets us; the error in hand matters more."""
    manifest["status"] = status
    if error:
        manifest["error"] = error
    with contextlib.suppress(OSError, WargameError):
        write_manifest(folder, manifest)


def _incomplete(
    folder: Path, manifest: dict[str, Any], failures: list[tuple[Chunk, str]]
) -> BatchIncomplete:
    manifest["failed_chunks"] = [
        {"point": c.point, "replications": [c.start, c.stop], "error": e} for c, e in failures
    ]
    _end(folder, manifest, "failed")
    ranges = "; ".join(f"point {c.point} runs {c.start}-{c.stop - 1}: {e}" for c, e in failures)
    return BatchIncomplete(
        f"{len(failures)} chunk(s) failed after {MAX_ATTEMPTS} attempts ({ranges}); "
        f"the other runs are saved in {folder}; rerun to retry"
    )
