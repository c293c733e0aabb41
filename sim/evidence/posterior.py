"""The posterior store: the calibrated parameters as data, and how scenarios use them.

A posterior is a YAML file (what scenarios point to with `calibration:`) plus a Parquet table
of weighted particles beside it. Applying it replaces, in a scenario's merged tree, every
calibrated parameter whose value still comes from the shipped model files (configs/model/) by a
joint draw from the particles; a value a scenario or `--set` writes itself is left alone. Weights
and rationalities are drawn per replication (all from one particle, so their correlations are
kept); a dynamics constant holds one value per scenario, so it takes its posterior mean.

Writing is atomic: the particles go to a new file named by their content hash, then the YAML is
written to a temporary file and renamed over the old one, so an interrupted calibration leaves
either the old posterior or the new one, never half of either.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.scenario.config import CONFIG_ROOT, located_error
from sim.scenario.errors import ConfigError, WargameError
from sim.scenario.reader import LOADER

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

MODEL_ROOT = CONFIG_ROOT / "model"
SHIPPED = MODEL_ROOT / "posterior" / "posterior.yaml"
#: stream shared by every calibrated parameter, so a replication draws one particle for all
PARTICLE_STREAM = "posterior"
#: particles lighter than this share of the heaviest are dropped when a posterior is applied
MIN_RELATIVE_WEIGHT = 1e-4


def model_version() -> str:
    import sim

    return sim.__version__


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Posterior:
    """A loaded posterior: its metadata and its particles (one row each, with `weight`).

    The particles are kept as the Arrow table read from the Parquet file; applying a posterior
    (every scenario load, `wargame check` included) reads its columns without pandas, whose
    import alone would cost more than the whole check. `particles` is the pandas view.
    """

    def __init__(self, path: Path, meta: dict, table: pa.Table) -> None:
        self.path = path
        self.meta = meta
        self.table = table

    @property
    def parameters(self) -> list[str]:
        return list(self.meta["parameters"])

    @property
    def particles(self) -> pd.DataFrame:
        return self.table.to_pandas()

    def column(self, name: str) -> np.ndarray:
        """One column of the particles as float64, as pandas' `to_numpy(dtype=float)` gives it
        (missing values as NaN); converted through Python floats, which are exact."""
        return np.array(self.table.column(name).to_pylist(), dtype=float)

    def draws(self) -> tuple[dict[str, list[float]], list[float]]:
        """Particle values per parameter and their weights, light particles dropped."""
        weights = self.column("weight")
        keep = weights >= weights.max() * MIN_RELATIVE_WEIGHT
        kept = weights[keep] / weights[keep].sum()
        values = {p: self.column(p)[keep].tolist() for p in self.parameters}
        return values, kept.tolist()

    def mean(self, parameter: str) -> float:
        weights = self.column("weight")
        return float(np.average(self.column(parameter), weights=weights))


#: posterior file's (path, mtime, size) -> (the particle table's (mtime, size), the posterior)
_CACHE: dict[tuple[str, int, int], tuple[tuple[int, int], Posterior]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def load_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior file; a missing, damaged or foreign one is a one-line error."""
    path = Path(path)
    shown = _display(path)
    if not path.is_file():
        raise ConfigError(shown, None, "posterior file not found (run 'make calibrate')")
    # A recalibration may rewrite the particle table alone: a cached posterior is reused only
    # while both its files are as they were read.
    key = (str(path.resolve()), *_stamp(path))
    if key in _CACHE:
        table_stamp, cached = _CACHE[key]
        table = path.parent / str(cached.meta["particles"])
        if table.is_file() and _stamp(table) == table_stamp:
            return cached
    try:
        meta = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except yaml.YAMLError:
        raise ConfigError(shown, None, "not valid YAML") from None
    if not isinstance(meta, dict):
        raise ConfigError(shown, None, "expected a posterior (a mapping with model_version)")
    for field in ("model_version", "parameters", "particles"):
        if field not in meta:
            raise ConfigError(shown, field, "missing required field")
    version = model_version()
    if str(meta["model_version"]) != version:
        raise ConfigError(
            shown,
            "model_version",
            f"posterior from another model version ({meta['model_version']}, this model is "
            f"{version}): rerun 'make calibrate' or use --prior",
        )
    table = path.parent / str(meta["particles"])
    try:
        particles = _read_particles(table)
    except (OSError, ValueError) as exc:
        raise ConfigError(shown, "particles", f"cannot read {table.name} ({exc})") from None
    missing = [p for p in [*meta["parameters"], "weight"] if p not in particles.column_names]
    if missing:
        raise ConfigError(shown, "particles", f"{table.name} lacks column '{missing[0]}'")
    posterior = Posterior(path, meta, particles)
    _CACHE[key] = (_stamp(table), posterior)
    return posterior


def _read_particles(table: Path) -> pa.Table:
    """The particle table, read by pyarrow's Parquet reader alone: `pyarrow.parquet.read_table`
    and pandas would import pyarrow's dataset and compute layers, several times the read."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(table) as file:
        return file.read(use_pandas_metadata=True)


def _declared_path(tree: dict, positions: dict, shown: str) -> Path:
    """The posterior file a tree names, relative to the file that names it."""
    value = tree["calibration"]
    file, _ = positions.get(("calibration",), (shown, None))
    base = Path(file).parent if file not in ("--set", None) else Path.cwd()
    candidate = Path(value)
    if candidate.is_absolute():
        return candidate
    for root in (base, Path.cwd(), CONFIG_ROOT):
        if (root / candidate).is_file():
            return root / candidate
    return base / candidate


def check_calibration_value(value: Any, positions: dict, shown: str) -> None:
    if not isinstance(value, str) or not value:
        raise located_error(
            ("calibration",), "expected 'prior' or the path of a posterior file", positions, shown
        )


def _from_model_files(positions: dict, path: tuple) -> bool:
    """Whether the value at `path` was written by the shipped model files (the prior)."""
    source = positions.get(path)
    if source is None or source[0] in (None, "--set"):
        return False
    try:
        Path(source[0]).resolve().relative_to(MODEL_ROOT.resolve())
    except ValueError:
        return False
    return True


def _node(tree: dict, keys: list[str]) -> dict | None:
    node: Any = tree
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, dict) else None


def apply_posterior(tree: dict, positions: dict, shown: str) -> None:
    """Put the posterior in place of the model's priors in a merged scenario tree."""
    if not isinstance(tree.get("calibration"), str):
        return
    path = _declared_path(tree, positions, shown)
    posterior = load_posterior(path)
    values, weights = posterior.draws()
    for parameter in posterior.parameters:
        keys = parameter.split(".")
        parent = _node(tree, keys[:-1])
        if parent is None or keys[-1] not in parent:
            raise ConfigError(
                _display(path),
                f"parameters.{parameter}",
                "not a parameter of this model (posterior from another model version?)",
            )
        if not _from_model_files(positions, tuple(keys)):
            continue  # the scenario (or --set) chose this value itself
        if keys[0] == "dynamics":
            parent[keys[-1]] = posterior.mean(parameter)
        else:
            parent[keys[-1]] = {
                "dist": "choice",
                "values": values[parameter],
                "p": weights,
                "stream": PARTICLE_STREAM,
            }


def describe(tree: dict, positions: dict, shown: str) -> dict[str, Any]:
    """Which parameters a scenario runs with: the prior, or which posterior (date, episodes)."""
    if tree.get("calibration") in (None, "prior"):
        return {"parameters": "prior", "line": "Parameters: the uncalibrated prior."}
    path = _declared_path(tree, positions, shown)
    posterior = load_posterior(path)
    meta = posterior.meta
    episodes = meta.get("episodes", [])
    scores = meta.get("scores", {})
    line = (
        f"Parameters: posterior of {meta.get('created', '?')} "
        f"({len(episodes)} episodes, model {meta['model_version']})."
    )
    if "loo_brier" in scores:
        line += (
            f" Out of sample (leave one episode out): Brier {scores['loo_brier']:.3f}, log score"
            f" {scores['loo_log_score']:.3f} against {scores['base_rate_brier']:.3f} /"
            f" {scores['base_rate_log_score']:.3f} for the base rate (lower is better)."
        )
    return {
        "parameters": "posterior",
        "file": _display(path),
        "created": meta.get("created"),
        "episodes": episodes,
        "scores": scores,
        "line": line,
    }


# ----------------------------------------------------------------------------- writing


def write_posterior(folder: Path, meta: dict, particles: pd.DataFrame) -> Path:
    """Write particles, then the YAML that points to them; old particle files are removed."""
    from sim.batch.runfolder import atomic_write_bytes, parquet_bytes

    data = parquet_bytes(particles)
    name = f"particles-{hashlib.sha256(data).hexdigest()[:12]}.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / name, data)
    meta = {**meta, "particles": name}
    target = folder / "posterior.yaml"
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_bytes(target, text.encode("utf-8"))
    for old in folder.glob("particles-*.parquet"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return target


class CalibrationError(WargameError):
    """A calibration that cannot run (empty library, bad configuration)."""
