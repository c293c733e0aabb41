"""Validation that later stages add to a scenario, registered here instead of imported.

The scenario stage knows nothing of the engine or the classroom, yet a scenario is only valid
when its actors' factors exist in the engine and its classroom block names real actors. Those
stages therefore register a check with `register_check`; `sim.scenario.config.validate_tree`
runs every registered check after the schema. Which modules provide checks is listed once, in
`sim.SCENARIO_PLUGINS` (the package root, above every stage), and they are imported by name on
the first validation, the way entry points work: no module of this stage imports a stage above
it, so the import graph stays free of cycles.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.config import Position, Scenario

#: a check takes the validated scenario, the source positions of its values and the file shown
#: in errors; it raises a `ConfigError` or returns the scenario (possibly with a section replaced)
Check = Callable[["Scenario", dict[tuple, "Position"], str], "Scenario | None"]

_CHECKS: dict[str, Check] = {}
_loaded = False


def register_check(name: str, check: Check) -> None:
    """Add (or replace) the check called `name`; checks run in the order registered."""
    _CHECKS[name] = check


def _load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    import sim

    for module in sim.SCENARIO_PLUGINS:
        importlib.import_module(module)
    _loaded = True


def run_checks(scenario: Scenario, positions: dict[tuple, Position], shown: str) -> Scenario:
    """Every registered check, in order; each may hand back a scenario with a section replaced."""
    _load_plugins()
    for check in list(_CHECKS.values()):
        result = check(scenario, positions, shown)
        if result is not None:
            scenario = result
    return scenario
