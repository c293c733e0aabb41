"""The output folder of a batch: its files, how they are written, and how they are checked.

Files are written to a temporary name and renamed into place, so a folder never holds a
half-written table; a chunk counts as finished once its outcome table exists.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.scenario.errors import WargameError

MANIFEST = "manifest.json"
OUTCOMES = "outcomes.parquet"
TRAJECTORIES = "trajectories.parquet"
DECISIONS = "decisions.parquet"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
CONFIG = "config.yaml"
CHUNKS = "chunks"
_CHUNK_NAME = re.compile(r"^p(\d+)-r(\d+)-(\d+)\.outcomes\.parquet$")


class ResultsFolderError(WargameError):
    """A results folder that is missing, corrupt or belongs to another experiment."""


@dataclass(frozen=True, order=True)
class Chunk:
    """A range of replications [start, stop) of one sweep point: the unit of work."""

    point: int
    start: int
    stop: int

    @property
    def stem(self) -> str:
        return f"p{self.point:04d}-r{self.start:09d}-{self.stop:09d}"

    @property
    def size(self) -> int:
        return self.stop - self.start


def _durable_replace(temporary: Path, path: Path) -> None:
    """Flush a finished temporary file to disk, then rename it into place, durably."""
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(payload)
    _durable_replace(temporary, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    _durable_replace(temporary, path)


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for a batch, so two batches never write one folder at once."""
    handle = open(folder / ".lock", "w")  # noqa: SIM115 - held for the with block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsFolderError(
                f"{folder}: another batch is writing to this folder; wait for it to finish"
            ) from None
        yield
    finally:
        handle.close()


def write_chunk(folder: Path, chunk: Chunk, tables: dict[str, pd.DataFrame]) -> None:
    """Write a finished chunk; the outcome table goes last and marks it complete."""
    directory = folder / CHUNKS
    directory.mkdir(parents=True, exist_ok=True)
    for kind in ("trajectories", "decisions"):
        if kind in tables:
            atomic_write_parquet(directory / f"{chunk.stem}.{kind}.parquet", tables[kind])
    atomic_write_parquet(directory / f"{chunk.stem}.outcomes.parquet", tables["outcomes"])


def _readable(path: Path) -> bool:
    try:
        pq.read_metadata(path)
    except Exception:
        return False
    return True


def finished_chunks(
    folder: Path, keeps_trajectories: Callable[[Chunk], bool] = lambda chunk: False
) -> list[Chunk]:
    """Chunks already on disk with all their tables readable.

    A chunk with a damaged or missing table is set aside (in chunks/corrupt/) so that it is
    computed again; run under the folder's lock, so stray temporary files are a dead run's.
    """
    directory = folder / CHUNKS
    if not directory.is_dir():
        return []
    for stray in directory.glob(".*.tmp"):  # left by a run killed mid-write
        stray.unlink(missing_ok=True)
    chunks = []
    for path in sorted(directory.iterdir()):
        match = _CHUNK_NAME.match(path.name)
        if not match:
            continue
        chunk = Chunk(*(int(g) for g in match.groups()))
        kinds = ["outcomes", "decisions"] + (["trajectories"] if keeps_trajectories(chunk) else [])
        if all(_readable(directory / f"{chunk.stem}.{kind}.parquet") for kind in kinds):
            chunks.append(chunk)
            continue
        quarantine = directory / "corrupt"
        quarantine.mkdir(exist_ok=True)
        for sibling in directory.glob(f"{chunk.stem}.*"):
            os.replace(sibling, quarantine / sibling.name)
    return chunks


def read_chunk_tables(folder: Path, kind: str, chunks: Iterable[Chunk]) -> list[pd.DataFrame]:
    """The tables of one kind of the given chunks (those that have one)."""
    directory = folder / CHUNKS
    paths = [directory / f"{chunk.stem}.{kind}.parquet" for chunk in sorted(chunks)]
    return [pd.read_parquet(p) for p in paths if p.is_file()]


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: not a results folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsFolderError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or "config_hash" not in manifest:
        raise ResultsFolderError(f"{path}: corrupt manifest (expected a config_hash field)")
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")


def read_table(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: no {name} (has the batch finished?)")
    try:
        return pd.read_parquet(path)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsFolderError(f"{path}: unreadable table ({reason})") from None


def git_commit() -> str | None:
    """The commit of the code that produced a run, when it runs from a git checkout."""
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
