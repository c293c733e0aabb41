"""The episode library: historical crises as scenarios with an observed record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.evidence.observed import EpisodeInfo, Observation, parse_episode_info, parse_observed
from sim.scenario.config import (
    CONFIG_ROOT,
    Scenario,
    _display,
    apply_override,
    load_tree,
    resolve_path,
    validate_tree,
)
from sim.scenario.errors import ConfigError, WargameError

EPISODE_ROOT = CONFIG_ROOT / "episodes"


@dataclass(frozen=True)
class Episode:
    name: str
    path: Path
    scenario: Scenario
    observed: dict[str, Observation]
    info: EpisodeInfo


class EmptyLibrary(WargameError):
    """No episode to validate or calibrate against."""


def load_episode(path: str | Path, prior: bool = False) -> Episode:
    """Load one episode; `prior=True` runs it without the calibrated posterior."""
    resolved = resolve_path(path, EPISODE_ROOT) if not Path(path).is_file() else Path(path)
    shown = _display(resolved)
    tree, positions = load_tree(resolved)
    if prior:
        apply_override(tree, "calibration=prior", positions)
    for section in ("observed", "episode"):
        if section not in tree:
            raise ConfigError(shown, section, "missing required field (an episode needs it)")
    observed_raw, info_raw = tree["observed"], tree["episode"]
    scenario = validate_tree(tree, positions, shown)
    return Episode(
        name=resolved.stem,
        path=resolved,
        scenario=scenario,
        observed=parse_observed(observed_raw, scenario, positions, shown),
        info=parse_episode_info(info_raw, positions, shown),
    )


def library_paths(names: list[str] | tuple[str, ...] = (), root: Path = EPISODE_ROOT) -> list[Path]:
    """Episode files by name or path, or every file of the library when none is named."""
    if names:
        return [resolve_path(n, root) if not Path(n).is_file() else Path(n) for n in names]
    paths = sorted(root.glob("*.yaml")) if root.is_dir() else []
    if not paths:
        raise EmptyLibrary(f"{_display(root)}: no episodes found (expected *.yaml files)")
    return paths


def load_library(
    names: list[str] | tuple[str, ...] = (), root: Path = EPISODE_ROOT, prior: bool = False
) -> list[Episode]:
    episodes = [load_episode(p, prior=prior) for p in library_paths(names, root)]
    if not episodes:
        raise EmptyLibrary(f"{_display(root)}: no episodes found")
    return episodes
