"""The output folder of a batch: its files, how they are written, and how they are checked.

Files are written to a temporary name and renamed into place, so a folder never holds a
half-written table; a chunk counts as finished once its outcome table exists.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.errors import WargameError

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


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


def write_chunk(folder: Path, chunk: Chunk, tables: dict[str, pd.DataFrame]) -> None:
    """Write a finished chunk; the outcome table goes last and marks it complete."""
    directory = folder / CHUNKS
    directory.mkdir(parents=True, exist_ok=True)
    for kind in ("trajectories", "decisions"):
        if kind in tables:
            atomic_write_parquet(directory / f"{chunk.stem}.{kind}.parquet", tables[kind])
    atomic_write_parquet(directory / f"{chunk.stem}.outcomes.parquet", tables["outcomes"])


def finished_chunks(folder: Path) -> list[Chunk]:
    """Chunks already on disk; unreadable ones are set aside so they are computed again."""
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
        try:
            pq.read_metadata(path)
        except Exception:
            quarantine = directory / "corrupt"
            quarantine.mkdir(exist_ok=True)
            for sibling in directory.glob(f"{chunk.stem}.*"):
                os.replace(sibling, quarantine / sibling.name)
            continue
        chunks.append(chunk)
    return chunks


def read_chunk_tables(folder: Path, kind: str) -> list[pd.DataFrame]:
    directory = folder / CHUNKS
    return [pd.read_parquet(p) for p in sorted(directory.glob(f"p*-r*.{kind}.parquet"))]


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
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
