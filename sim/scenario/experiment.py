"""Experiment plans: the sweep points and scenarios a batch runs, all on the same seeds.

Every point uses the same master seed and replication indices, so replication i meets the
same random draws at every point (common random numbers) and comparisons can be paired.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.scenario.config import (
    ConfigError,
    Experiment,
    Scenario,
    apply_override,
    load_tree,
    resolve_path,
    validate_tree,
)


@dataclass
class SweepPoint:
    """One scenario with one set of swept values."""

    point: int
    scenario: Scenario
    label: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """Everything a batch needs to know, and a fingerprint to recognise its output folder."""

    name: str
    source: str
    experiment: Experiment
    points: list[SweepPoint]
    resolved: dict

    @property
    def config_hash(self) -> str:
        """Fingerprint of what determines the results; more replications extend a run."""
        fingerprint = copy.deepcopy(self.resolved)
        trees = [fingerprint, fingerprint["base"], *(p["config"] for p in fingerprint["points"])]
        for tree in trees:
            for key in ("replications", "out", "chunk_size"):
                (tree.get("experiment") or {}).pop(key, None)
        text = json.dumps(fingerprint, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def design(self) -> str:
        """single, scenarios, grid or sample: how the points were chosen."""
        experiment = self.experiment
        if experiment.sample is not None:
            return "sample"
        if experiment.grid:
            return "grid"
        return "scenarios" if experiment.scenarios else "single"

    @property
    def parameter_names(self) -> list[str]:
        return list(dict.fromkeys(k for p in self.points for k in p.parameters))


def _yaml_value(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _scenario(
    path: Path, overrides: list[str], where: str, cache: dict | None = None
) -> tuple[Scenario, dict]:
    """Load, override and validate; `cache` keeps parsed files across the points of a sweep."""
    if cache is None:
        tree, positions = load_tree(path)
    else:
        if path not in cache:
            cache[path] = load_tree(path)
        tree, positions = copy.deepcopy(cache[path])
    for assignment in overrides:
        apply_override(tree, assignment, positions)
    return validate_tree(tree, positions, where), tree


def _sample_points(experiment: Experiment) -> list[dict[str, float]]:
    sample = experiment.sample
    names = list(sample.ranges)
    bounds = [list(sample.ranges[n]) for n in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if sample.method == "lhs":
        from SALib.sample import latin

        matrix = latin.sample(problem, sample.points, seed=experiment.seed)
    elif sample.method == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(problem, sample.points, calc_second_order=False, seed=experiment.seed)
    elif sample.method == "morris":
        from SALib.sample import morris

        matrix = morris.sample(
            problem, sample.points, num_levels=sample.levels, seed=experiment.seed
        )
    else:
        rng = np.random.default_rng(experiment.seed)
        low = np.array([b[0] for b in bounds])
        high = np.array([b[1] for b in bounds])
        matrix = low + (high - low) * rng.random((sample.points, len(names)))
    return [dict(zip(names, map(float, row), strict=True)) for row in matrix]


def make_plan(
    config: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    replications: int | None = None,
    seed: int | None = None,
) -> Plan:
    """Load an experiment (a scenario with an `experiment:` block) and list its sweep points."""
    path = resolve_path(config)
    base, base_tree = _scenario(path, list(overrides), str(config))
    updates = {}
    if replications is not None:
        updates["replications"] = replications
    if seed is not None:
        updates["seed"] = seed
    experiment = base.experiment.model_copy(update=updates)

    scenario_paths = [(base.name, path)]
    if experiment.scenarios:
        scenario_paths = []
        for name in experiment.scenarios:
            found = resolve_path(name, path.parent)
            if not found.is_file():
                raise ConfigError(
                    str(config), "experiment.scenarios", f"no scenario '{name}' found"
                )
            scenario_paths.append((name, found))

    if experiment.grid:
        names = list(experiment.grid)
        settings = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(experiment.grid[n] for n in names))
        ]
    elif experiment.sample is not None:
        settings = _sample_points(experiment)
    else:
        settings = [{}]

    points: list[SweepPoint] = []
    resolved_points = []
    parsed: dict = {}
    for label, scenario_path in scenario_paths:
        for setting in settings:
            assignments = [f"{k}={_yaml_value(v)}" for k, v in setting.items()]
            where = f"{config} (experiment point {len(points)})"
            try:
                scenario, tree = _scenario(scenario_path, [*overrides, *assignments], where, parsed)
            except ConfigError as exc:
                if exc.file == "--set" and setting:
                    raise ConfigError(
                        str(config), f"experiment sweep {exc.field}", exc.expected
                    ) from None
                raise
            points.append(SweepPoint(len(points), scenario, label, dict(setting)))
            resolved_points.append({"scenario": label, "parameters": setting, "config": tree})
    resolved = {
        "experiment": experiment.model_dump(mode="json"),
        "points": resolved_points,
        "base": base_tree,
    }
    return Plan(base.name, str(config), experiment, points, copy.deepcopy(resolved))
