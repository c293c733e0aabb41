"""Experiment plans: the sweep points and scenarios a batch runs, all on the same seeds.

Every point uses the same master seed and replication indices, so replication i meets the
same random draws at every point (common random numbers) and comparisons can be paired.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from sim.scenario.config import (
    ConfigError,
    Experiment,
    Scenario,
    apply_override,
    load_tree,
    resolve_path,
    validate_tree,
)
from sim.scenario.limits import MAX_POINTS, MAX_TOTAL_RUNS


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

    @cached_property
    def config_hash(self) -> str:
        """Fingerprint of what determines the results; more replications extend a run.

        The files as written are not enough: a stage may shape a scenario from data of its own
        (the calibrated posterior replaces the model's priors), and a folder made before a
        recalibration must not pass for one made after it. So the fingerprint also covers the
        validated scenario of each scenario's first point, as it will run (the other points
        differ from it only by their swept values, which the resolved tree lists).
        """
        fingerprint = copy.deepcopy(self.resolved)
        trees = [fingerprint, fingerprint["base"]]
        trees += [p["config"] for p in fingerprint["points"] if "config" in p]
        for tree in trees:
            for key in ("replications", "out", "chunk_size"):
                (tree.get("experiment") or {}).pop(key, None)
        firsts = {point.label: point.scenario for point in reversed(self.points)}
        fingerprint["validated"] = {
            label: _without_run_settings(scenario.model_dump(mode="json"))
            for label, scenario in firsts.items()
        }
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


def _without_run_settings(scenario: dict) -> dict:
    """A validated scenario without the settings that only say how much to run, and where."""
    for key in ("replications", "out", "chunk_size"):
        (scenario.get("experiment") or {}).pop(key, None)
    return scenario


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
        # Shallow copies are enough: an override copies the mappings on its way down and
        # changes nothing it shares, so the points of a sweep plan in milliseconds each.
        tree, positions = dict(cache[path][0]), dict(cache[path][1])
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


def design_size(experiment: Experiment, scenarios: int = 1) -> int:
    """How many sweep points an experiment asks for, known before any is planned."""
    if experiment.grid:
        return scenarios * math.prod(len(values) for values in experiment.grid.values())
    sample = experiment.sample
    if sample is not None:
        ranges = len(sample.ranges)
        per_point = {"sobol": ranges + 2, "morris": ranges + 1}.get(sample.method, 1)
        return scenarios * sample.points * per_point
    return scenarios


def _probes(experiment: Experiment) -> list[dict[str, Any]]:
    """A few settings that between them take every value of a grid, or both ends of every
    range of a sample: planning them validates every swept path and value of the design."""
    if experiment.grid:
        first = {name: values[0] for name, values in experiment.grid.items()}
        return [
            {**first, name: value} for name, values in experiment.grid.items() for value in values
        ]
    if experiment.sample is not None:
        ranges = experiment.sample.ranges
        return [{name: float(bounds[end]) for name, bounds in ranges.items()} for end in (0, 1)]
    return [{}]


def _check_size(where: str, experiment: Experiment, scenarios: int) -> None:
    """Refuse a design past the limits before planning it (which takes time per point)."""
    points = design_size(experiment, scenarios)
    field = "experiment.grid" if experiment.grid else "experiment.sample"
    if points > MAX_POINTS:
        raise ConfigError(
            where, field, f"{points:,} sweep points; at most {MAX_POINTS:,} in one experiment"
        )
    runs = points * experiment.replications
    if runs > MAX_TOTAL_RUNS:
        raise ConfigError(
            where,
            "experiment.replications",
            f"{points:,} points x {experiment.replications:,} replications = {runs:,} runs; "
            f"at most {MAX_TOTAL_RUNS:,} in one batch",
        )


def make_plan(
    config: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    probe: bool = False,
) -> Plan:
    """Load an experiment (a scenario with an `experiment:` block) and list its sweep points.

    `progress(done, total)` is told of every point planned, for a progress bar. `probe` plans
    only a few points that take every swept value (what `wargame check` validates), so a
    design with a wrong path or an impossible value fails at once, however large it is.
    """
    path = resolve_path(config)
    base, base_tree = _scenario(path, list(overrides), str(config))
    updates = {}
    if replications is not None:
        updates["replications"] = replications
    if seed is not None:
        updates["seed"] = seed
    try:
        experiment = Experiment.model_validate({**base.experiment.model_dump(), **updates})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in ("experiment", *error["loc"]))
        raise ConfigError(str(config), field, error["msg"]) from None

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

    _check_size(str(config), experiment, len(scenario_paths))
    if probe:
        settings = _probes(experiment)
    elif experiment.grid:
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
    described: set[str] = set()
    total = len(scenario_paths) * len(settings)
    for label, scenario_path in scenario_paths:
        for setting in settings:
            assignments = [f"{k}={_yaml_value(v)}" for k, v in setting.items()]
            where = f"{config} (experiment point {len(points)})"
            if scenario_path == path and not assignments:
                # The base scenario itself, validated above: a single scenario's batch (or the
                # base among a list of scenarios) is not validated twice. Its own copy of the
                # tree, so that config.yaml writes it out in full, not as an alias of the base.
                scenario, tree = base, copy.deepcopy(base_tree)
            else:
                try:
                    scenario, tree = _scenario(
                        scenario_path, [*overrides, *assignments], where, parsed
                    )
                except ConfigError as exc:
                    if exc.file == "--set" and setting:
                        raise ConfigError(
                            str(config), f"experiment sweep {exc.field}", exc.expected
                        ) from None
                    raise
            points.append(SweepPoint(len(points), scenario, label, dict(setting)))
            # The full tree of the first point of each scenario; the others differ from it
            # only by their parameters (a 65,536-point design would otherwise write 65,536).
            entry = {"scenario": label, "parameters": setting}
            if label not in described:
                described.add(label)
                entry["config"] = tree
            resolved_points.append(entry)
            if progress is not None:
                progress(len(points), total)
    resolved = {
        "experiment": experiment.model_dump(mode="json"),
        "points": resolved_points,
        "base": base_tree,
    }
    return Plan(base.name, str(config), experiment, points, copy.deepcopy(resolved))
