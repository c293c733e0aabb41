"""The output folder of a batch: its files, how they are written, and how they are checked.

Files are written to a temporary name and renamed into place, so a folder never holds a
half-written table; a chunk counts as finished once its outcome table exists.

pandas and pyarrow are imported by the functions that read or write tables, so that a rerun
with nothing new to compute (and `wargame check`) does not pay for them.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MANIFEST = "manifest.json"
OUTCOMES = "outcomes.parquet"
TRAJECTORIES = "trajectories.parquet"
DECISIONS = "decisions.parquet"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
CONFIG = "config.yaml"
CHUNKS = "chunks"
#: what a finished batch leaves in its folder; the manifest keeps their checksums
OUTPUTS = (CONFIG, OUTCOMES, TRAJECTORIES, DECISIONS, SUMMARY_JSON, SUMMARY_MD)
SUMS = "sha256.json"
_CHUNK_FILE = re.compile(
    r"^p(\d+)-r(\d+)-(\d+)\.(outcomes\.parquet|decisions\.parquet|trajectories\.parquet|sha256\.json)$"
)


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


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def output_error(path: Path, exc: OSError) -> ResultsFolderError:
    """One line for a failed write: which path, and why in the system's words."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ResultsFolderError(f"{path}: cannot write ({reason})")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_durably(temporary: Path, payload: bytes, durable: bool = True) -> None:
    """Write and flush a temporary file; on any failure remove it, so nothing half-written stays."""
    try:
        with open(temporary, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


#: folders whose renames wait for one fsync at the end of a `synced_together` block
_PENDING: set[Path] | None = None


def _commit(temporary: Path, path: Path, durable: bool = True) -> None:
    os.replace(temporary, path)
    if not durable:
        return
    if _PENDING is None:
        _fsync_directory(path.parent)
    else:
        _PENDING.add(path.parent)


@contextmanager
def synced_together() -> Iterator[None]:
    """Files put in place within the block are made durable together, by one fsync of their
    folder at its end instead of one per file. Each file's data is still flushed before it is
    renamed into place, so no file is ever seen half-written; what comes after the block (the
    manifest that calls a batch complete) is written only once all of them are durable."""
    global _PENDING
    if _PENDING is not None:  # already within a block: the outer one syncs
        yield
        return
    _PENDING = set()
    try:
        yield
        pending = sorted(_PENDING)
    finally:
        _PENDING = None
    for directory in pending:
        try:
            _fsync_directory(directory)
        except OSError as exc:
            raise output_error(directory, exc) from None


def atomic_write_bytes(path: Path, payload: bytes, durable: bool = True) -> None:
    """Replace `path` with `payload` all at once: readers see the old file or the new one.

    A failure (full disk, file-size limit, read-only folder) leaves the old file in place and
    no temporary behind, and becomes a one-line error naming the path. `durable=False` skips
    the disk syncs, for files that are made again from the folder's tables (figures).
    """
    temporary = _temporary(path)
    try:
        _write_durably(temporary, payload, durable)
        _commit(temporary, path, durable)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise output_error(path, exc) from None


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, parquet_bytes(frame))


def atomic_stream_parquet(path: Path, tables: Iterable[pa.Table]) -> int:
    """Write tables one after another into one Parquet file, replacing `path` all at once.

    Only one table is held at a time, so a file far larger than memory can be written (the
    trajectories of a million runs). Returns the rows written; an empty stream writes nothing.
    """
    import pyarrow.parquet as pq

    temporary = _temporary(path)
    writer = None
    rows = 0
    try:
        for table in tables:
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(temporary, schema)
            writer.write_table(table.cast(schema))
            rows += table.num_rows
        if writer is None:
            return 0
        writer.close()
        writer = None
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        _commit(temporary, path)
        return rows
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for a batch, so two batches never write one folder at once."""
    try:
        handle = open(folder / ".lock", "w")  # noqa: SIM115 - held for the with block
    except OSError as exc:
        raise output_error(folder / ".lock", exc) from None
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


# ----------------------------------------------------------------------------- chunks
#
# A chunk is written in two steps. Whoever computed it (a worker, or the batch process itself)
# stages its tables under temporary names and returns their checksums; only the process that
# holds the folder's lock commits it: renames the tables into place and writes the checksum
# file last. So a stray process (a worker of a killed batch) can never add a chunk to a folder,
# and every chunk on disk carries the checksums it is verified against before it is reused.

#: a staged chunk: the temporary file and the SHA-256 of each of its tables
Staged = dict[str, tuple[str, str]]


def _chunk_path(folder: Path, chunk: Chunk, kind: str) -> Path:
    return folder / CHUNKS / f"{chunk.stem}.{kind}.parquet"


def _sums_path(folder: Path, chunk: Chunk) -> Path:
    return folder / CHUNKS / f"{chunk.stem}.{SUMS}"


def stage_chunk(folder: Path, chunk: Chunk, tables: dict[str, pd.DataFrame]) -> Staged:
    """Write a chunk's tables under temporary names; nothing counts until `commit_chunk`."""
    directory = folder / CHUNKS
    staged: Staged = {}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for kind, frame in tables.items():
            payload = parquet_bytes(frame)
            temporary = _temporary(_chunk_path(folder, chunk, kind))
            _write_durably(temporary, payload)
            staged[kind] = (temporary.name, hashlib.sha256(payload).hexdigest())
    except BaseException as exc:
        discard_staged(folder, staged)
        if isinstance(exc, OSError):
            raise output_error(directory, exc) from None
        raise
    return staged


def discard_staged(folder: Path, staged: Staged) -> None:
    for name, _ in staged.values():
        (folder / CHUNKS / name).unlink(missing_ok=True)


def commit_chunk(folder: Path, chunk: Chunk, staged: Staged) -> None:
    """Move a staged chunk into place (outcomes last), then its checksums: now it counts."""
    directory = folder / CHUNKS
    try:
        for kind in sorted(staged, key=lambda k: k == "outcomes"):
            os.replace(directory / staged[kind][0], _chunk_path(folder, chunk, kind))
        sums = {kind: digest for kind, (_, digest) in staged.items()}
        # written last and synced with its folder, which makes the renames above durable too
        atomic_write_text(_sums_path(folder, chunk), json.dumps(sums, sort_keys=True) + "\n")
    except OSError as exc:
        discard_staged(folder, staged)
        raise output_error(directory, exc) from None


def write_chunk(folder: Path, chunk: Chunk, tables: dict[str, pd.DataFrame]) -> None:
    """Stage and commit a chunk in one go (the process that calls it holds the lock)."""
    commit_chunk(folder, chunk, stage_chunk(folder, chunk, tables))


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file, read a block at a time (a table may be larger than memory)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def output_digests(folder: Path) -> dict[str, str]:
    """Checksums of a finished batch's tables, summary and configuration (those it has)."""
    digests = {name: file_digest(folder / name) for name in OUTPUTS}
    return {name: digest for name, digest in digests.items() if digest is not None}


def outputs_intact(folder: Path, digests: Any) -> bool:
    """Whether a folder still holds the very outputs whose checksums a manifest recorded."""
    return isinstance(digests, dict) and OUTCOMES in digests and output_digests(folder) == digests


def _fully_readable(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        pq.read_table(path)
    except Exception:
        return False
    return True


def _verified(folder: Path, chunk: Chunk, kinds: list[str]) -> bool:
    """Whether a chunk's tables are all there and intact.

    With a checksum file, every table must match its checksum. A chunk without one (committed
    by an older version, or a batch killed between the tables and the checksums) is read in
    full instead, and its checksums are written when it passes.
    """
    sums_path = _sums_path(folder, chunk)
    if sums_path.is_file():
        try:
            sums = json.loads(sums_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(sums, dict) or not set(kinds) <= set(sums):
            return False
        return all(file_digest(_chunk_path(folder, chunk, kind)) == sums[kind] for kind in sums)
    present = [
        k
        for k in ("outcomes", "decisions", "trajectories")
        if _chunk_path(folder, chunk, k).is_file()
    ]
    if not set(kinds) <= set(present):
        return False
    if not all(_fully_readable(_chunk_path(folder, chunk, kind)) for kind in present):
        return False
    sums = {kind: file_digest(_chunk_path(folder, chunk, kind)) for kind in present}
    atomic_write_text(sums_path, json.dumps(sums, sort_keys=True) + "\n")
    return True


def set_aside(folder: Path, chunk: Chunk) -> None:
    """Move a damaged chunk's files to chunks/corrupt/, where they are kept but never read."""
    directory = folder / CHUNKS
    quarantine = directory / "corrupt"
    quarantine.mkdir(exist_ok=True)
    for sibling in directory.glob(f"{chunk.stem}.*"):
        os.replace(sibling, quarantine / sibling.name)


def remove_chunk(folder: Path, chunk: Chunk) -> None:
    for sibling in (folder / CHUNKS).glob(f"{chunk.stem}.*"):
        sibling.unlink(missing_ok=True)


def remove_strays(folder: Path) -> None:
    """Delete temporary files: under the folder's lock they are a dead run's."""
    for directory in (folder, folder / CHUNKS):
        if directory.is_dir():
            for stray in directory.glob(".*.tmp"):
                stray.unlink(missing_ok=True)


def finished_chunks(
    folder: Path, keeps_trajectories: Callable[[Chunk], bool] = lambda chunk: False
) -> list[Chunk]:
    """Chunks on disk whose tables are all there and match their checksums.

    A damaged chunk is set aside (in chunks/corrupt/) so that it is computed again; run under
    the folder's lock, so stray temporary files and tables without outcomes are a dead run's.
    """
    directory = folder / CHUNKS
    if not directory.is_dir():
        return []
    remove_strays(folder)
    found = set()
    for path in directory.iterdir():
        match = _CHUNK_FILE.match(path.name)
        if match:
            found.add(Chunk(*(int(g) for g in match.groups()[:3])))
    chunks = []
    for chunk in sorted(found):
        if not _chunk_path(folder, chunk, "outcomes").is_file():
            remove_chunk(folder, chunk)  # tables of a commit that never finished
            continue
        kinds = ["outcomes", "decisions"] + (["trajectories"] if keeps_trajectories(chunk) else [])
        if _verified(folder, chunk, kinds):
            chunks.append(chunk)
        else:
            set_aside(folder, chunk)
    return chunks


def _chunk_tables(folder: Path, kind: str, chunks: Iterable[Chunk]) -> Iterator[Path]:
    """The files of one kind of the given chunks that exist, in chunk order."""
    directory = folder / CHUNKS
    for chunk in sorted(chunks):
        path = directory / f"{chunk.stem}.{kind}.parquet"
        if path.is_file():
            yield path


def iter_chunk_arrow(folder: Path, kind: str, chunks: Iterable[Chunk]) -> Iterator[pa.Table]:
    """The tables of one kind of the given chunks, in chunk order, one at a time (Arrow)."""
    import pyarrow.parquet as pq

    return (pq.read_table(path) for path in _chunk_tables(folder, kind, chunks))


def iter_chunk_frames(folder: Path, kind: str, chunks: Iterable[Chunk]) -> Iterator[pd.DataFrame]:
    """The tables of one kind of the given chunks, in chunk order, one at a time."""
    import pandas as pd

    return (pd.read_parquet(path) for path in _chunk_tables(folder, kind, chunks))


def read_chunk_tables(folder: Path, kind: str, chunks: Iterable[Chunk]) -> list[pd.DataFrame]:
    """The tables of one kind of the given chunks (those that have one)."""
    return list(iter_chunk_frames(folder, kind, chunks))


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ResultsFolderError(f"{folder}: not a results folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
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
    import pandas as pd

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
