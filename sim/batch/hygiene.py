"""Worker processes that never outlive their batch, and a batch that ends cleanly on SIGTERM.

A worker of a killed batch must not keep running: it would hold memory for nothing and, worse,
finish its chunk while a resumed batch owns the folder. Each worker therefore asks the kernel
to kill it when its parent dies (Linux) and also watches the batch process itself, since under
the fork server its parent is not the batch process.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.25


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop the workers, save what is finished, say so."""


def process_start(pid: int) -> str | None:
    """When a process started (in clock ticks since boot), to tell it from a later one."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # a zombie has finished running
        return None
    return fields[19]


def alive(pid: int, started: str | None) -> bool:
    """Whether the process `pid` that started at `started` still runs."""
    if started is not None:
        return process_start(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch(batch_pid: int, started: str | None) -> None:
    while alive(batch_pid, started):
        time.sleep(WATCH_INTERVAL)
    os._exit(1)


def worker_init(batch_pid: int, started: str | None) -> None:
    """Run first in every worker: die with the batch, and leave Ctrl-C to the batch process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if not alive(batch_pid, started):
        os._exit(1)
    threading.Thread(target=_watch, args=(batch_pid, started), daemon=True).start()


def init_arguments() -> tuple[int, str | None]:
    """What `worker_init` needs to recognise this (the batch) process."""
    pid = os.getpid()
    return pid, process_start(pid)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into a `Terminated` exception in the main thread for the block's duration."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough while we clean up
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: what the fork server imports, once for all the workers it starts
WORKER_MODULES = ("sim.batch.runner", "sim.batch.pools", "sim.engine.model")


def process_context():
    """How worker processes start, with the fork server already on its way.

    Not plain fork: the parent may already run threads (Arrow's pools, the progress bar),
    which fork would copy in an undefined state. The fork server imports the engine once, for
    every worker; started early, it does so while the batch process prepares the rest.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_MODULES))
    start_forkserver()
    return context


def start_forkserver() -> None:
    """Start the fork server from the folder that holds this package.

    Before Python 3.12.8 the fork server imported its preloaded modules with the current
    directory first on its path, so a batch started inside another checkout of the project
    ran that checkout's code in its workers.
    """
    from multiprocessing import forkserver

    here = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[2])
    try:
        forkserver.ensure_running()
    finally:
        os.chdir(here)


def stop_pool(pool: Any) -> None:
    """Kill a process pool's workers now (not after their chunks) and shut it down."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with suppress(OSError, ValueError, AttributeError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(timeout=5)
