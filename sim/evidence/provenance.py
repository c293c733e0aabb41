"""Which parameters a run used (the prior, or which posterior), recorded beside its results.

Kept light (no figures, no scoring) because every `wargame batch` calls it.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.batch.runfolder import atomic_write_text
from sim.evidence.posterior import describe
from sim.scenario.config import _display, apply_override, load_tree, resolve_path

#: the file in a batch folder that says which parameters the batch used (read by the report)
PARAMETERS_JSON = "parameters.json"


def parameters_of(path: str | Path, overrides: tuple[str, ...] = ()) -> dict:
    """Which parameters a scenario runs with (prior, or which posterior), for a batch's record."""
    resolved = resolve_path(path)
    tree, positions = load_tree(resolved)
    for assignment in overrides:
        apply_override(tree, assignment, positions)
    return describe(tree, positions, _display(resolved))


def record_parameters(path: str | Path, overrides: tuple[str, ...], folder: Path) -> str:
    """Write which parameters a batch used into its folder (`parameters.json`) and return the
    line that says so, with the model's out-of-sample score."""
    provenance = parameters_of(path, overrides)
    target = Path(folder) / PARAMETERS_JSON
    text = json.dumps(provenance, indent=2) + "\n"
    try:
        unchanged = target.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:  # a rerun with nothing new leaves the folder as it was
        atomic_write_text(target, text)
    return provenance["line"]
