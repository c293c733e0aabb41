"""Fingerprints of what a run's figures and report are made from, read without heavy imports.

A fingerprint is a SHA-256 over the code that computes and draws them (every module of the
`sim` package and the report's templates) and the bytes of the run's files. `wargame plot` and
`wargame report` compare it with the one recorded when their files were last written: when
they match there is nothing to do, and the command ends without importing pandas or
matplotlib. Files are compared by content, not by date, so a batch that rewrites its tables
with the same rows changes nothing.

The gallery records its fingerprint in `plots/.gallery.json` (with each figure's key, formats
and title, and the notes on figures the run cannot have); the report carries its own in a
comment on the second line of the HTML file.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.batch.runfolder import CONFIG, DECISIONS, MANIFEST, OUTCOMES, TRAJECTORIES, file_digest

#: the gallery's record of the figures in a plots folder
CACHE = ".gallery.json"
#: the report's default file name in a results folder
REPORT = "report.html"
#: the tables and configuration every figure is drawn from
FIGURE_INPUTS = (OUTCOMES, TRAJECTORIES, DECISIONS, CONFIG)
#: the manifest fields the figures read (the run's name, its design and swept parameters)
MANIFEST_FIELDS = ("name", "design", "parameters")

_PACKAGE = Path(__file__).resolve().parents[1]
_TEMPLATES = Path(__file__).with_name("templates")


def _add_file(digest: Any, path: Path) -> None:
    """Add a file's name and checksum (the run folder's, read a block at a time)."""
    digest.update(f"{path.name}\0{file_digest(path)}\0".encode())


def add_manifest_fields(digest: Any, manifest: dict[str, Any]) -> None:
    """Add the manifest fields the figures read."""
    shown = {k: manifest.get(k) for k in MANIFEST_FIELDS}
    digest.update(json.dumps(shown, sort_keys=True, default=str).encode())


@lru_cache(maxsize=1)
def code_key() -> str:
    """A hash of the code and templates: a change to either redraws figures and the report."""
    digest = hashlib.sha256()
    files = [*_PACKAGE.rglob("*.py"), *(p for p in _TEMPLATES.iterdir() if p.is_file())]
    for file in sorted(files):
        digest.update(str(file.relative_to(_PACKAGE)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def figure_inputs(folder: Path, manifest: dict[str, Any]) -> str:
    """The fingerprint of everything a run's figures are drawn from (tables, configuration,
    the manifest fields they read, code)."""
    digest = hashlib.sha256(code_key().encode())
    for name in FIGURE_INPUTS:
        file = folder / name
        if file.is_file():
            _add_file(digest, file)
    add_manifest_fields(digest, manifest)
    return digest.hexdigest()


def figure_key(inputs: str, name: str, dpi: int) -> str:
    """The key of one figure: its inputs, its name and the dpi of its PNG."""
    return hashlib.sha256(f"{inputs}|{name}|{dpi}".encode()).hexdigest()


def read_gallery(target: Path) -> dict[str, Any]:
    """The gallery's record in `target` ({} when there is none or it is unreadable)."""
    try:
        data = json.loads((target / CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
        return {}
    return data


def is_current(entry: Any, key: str, formats: tuple[str, ...], files: list[Path]) -> bool:
    """Whether a recorded figure has this key, every format asked for and all its files."""
    return (
        isinstance(entry, dict)
        and entry.get("key") == key
        and set(formats) <= set(entry.get("formats") or [])
        and all(file.is_file() for file in files)
    )


def _complete_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest if it describes a finished batch, else None (the full command
    then loads the folder and says what is wrong with it)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "config_hash" not in manifest:
        return None
    if manifest.get("status", "complete") != "complete" or not (folder / OUTCOMES).is_file():
        return None
    return manifest


def current_gallery(
    folder: Path, target: Path, formats: tuple[str, ...], dpi: int
) -> dict[str, Any] | None:
    """The gallery's record when every figure of the run in `target` is up to date for
    `formats` and `dpi` (nothing to draw), else None."""
    manifest = _complete_manifest(folder)
    record = read_gallery(target)
    if manifest is None or not record:
        return None
    inputs = figure_inputs(folder, manifest)
    if record.get("inputs") != inputs:
        return None
    for name, entry in record["figures"].items():
        files = [target / f"{name}.{fmt}" for fmt in formats]
        if not is_current(entry, figure_key(inputs, name, dpi), formats, files):
            return None
    return record


def report_inputs(folder: Path, target: Path) -> str:
    """The fingerprint of everything a report is made from: the code and templates, every file
    of the results folder (tables, manifest, summary, parameters, discovery and sensitivity
    results) and every PNG in its plots folder, which the report embeds."""
    digest = hashlib.sha256(code_key().encode())
    skip = target.resolve()
    plots = folder / "plots"
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if plots.is_dir():
        files += sorted(plots.glob("*.png"))
    for file in files:
        if file.resolve() != skip:
            digest.update(str(file.relative_to(folder)).encode())
            _add_file(digest, file)
    return digest.hexdigest()


def report_mark(inputs: str) -> str:
    """The comment that records a report's fingerprint (second line of the HTML file)."""
    return f"<!-- wargame report of inputs {inputs} -->"


def current_report(folder: Path, target: Path) -> bool:
    """Whether the report `target` was made from exactly the folder's current files and code."""
    if _complete_manifest(folder) is None:
        return False
    try:
        with target.open("rb") as handle:
            head = handle.read(256).decode("utf-8", errors="replace")
    except OSError:
        return False
    lines = head.split("\n")
    return len(lines) > 1 and lines[1] == report_mark(report_inputs(folder, target))
