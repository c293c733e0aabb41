"""Where chunks run: worker processes on this machine, or a Dask cluster.

The workers stage each chunk's tables and return their checksums; the batch process, which
holds the folder's lock, commits them (see `runfolder`). Workers never outlive the batch
(see `hygiene`), and a pool is killed on every way out, SIGTERM and Ctrl-C included.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.batch.hygiene import init_arguments, process_context, stop_pool, worker_init
from sim.batch.runfolder import remove_strays
from sim.scenario.errors import WargameError

#: a Dask scheduler address: an optional protocol, a host and a port
_SCHEDULER = re.compile(
    r"^(?:(?:tcp|tls|ws|wss|ucx)://)?[\w.\-]+:\d{1,5}/?$|^\[[0-9a-fA-F:]+\]:\d{1,5}$"
)


def check_scheduler(engine: str, scheduler: str | None) -> None:
    if scheduler is None:
        return
    if engine != "dask":
        raise WargameError("--scheduler: needs --engine dask")
    if not _SCHEDULER.match(scheduler):
        raise WargameError(
            f"--scheduler: expected an address like tcp://host:8786, got {scheduler!r}"
        )


def execute_processes(work, pending, workers, folder, finished, failed) -> None:
    """Run `work(task, folder)` for each pending task in a pool of worker processes."""
    context = process_context()
    while pending:
        # A killed worker breaks the whole pool: start a fresh one for what is left.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=worker_init,
            initargs=init_arguments(),
        )
        try:
            running = {pool.submit(work, task, folder): task for task in pending}
            pending.clear()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        staged = future.result()
                    except BrokenProcessPool as error:
                        failed(task, error)
                        for other in running.values():
                            pending.append(other)
                        running.clear()
                        break
                    except Exception as error:
                        failed(task, error)
                        continue
                    finished(task, staged)
        except BaseException:
            stop_pool(pool)
            remove_strays(folder)
            raise
        pool.shutdown(wait=True)


def _connect(client_class, scheduler: str, patience: float = 30.0):
    """A client of the scheduler at `scheduler`, or a one-line error within `patience` s.

    Connecting to something that is not a Dask scheduler may hang past the client's own
    timeout, or read a garbage length and try to allocate it: the attempt runs in a thread
    of its own, and any failure is told in one line.
    """
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = client_class(scheduler, timeout="15s")
        except BaseException as exc:  # noqa: BLE001 - reported below, in one line
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(patience)
    if "client" in outcome:
        return outcome["client"]
    error = outcome.get("error")
    if error is None:
        reason = f"no answer as a Dask scheduler within {patience:.0f} s"
    elif isinstance(error, OSError | TimeoutError):
        reason = f"cannot reach the Dask scheduler ({str(error).splitlines()[0]})"
    else:
        reason = "did not answer as a Dask scheduler"
    raise WargameError(f"--scheduler {scheduler}: {reason}")


def execute_dask(work, pending, workers, scheduler, finished, failed) -> None:
    """Run `work(task)` for each pending task on a Dask cluster (local, or at `scheduler`)."""
    from distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = _connect(Client, scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        while pending:
            futures = {client.submit(work, task, pure=False): task for task in pending}
            pending.clear()
            for future in as_completed(futures):
                task = futures[future]
                try:
                    tables = future.result()
                except Exception as error:
                    failed(task, error)
                    continue
                finished(task, tables)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
