"""Extension points of the scenario loader, for stages that sit above it.

The scenario stage must not import the stages built on it (the evidence stage, say), yet a
scenario file may carry a section that only such a stage understands (an episode's `observed:`
block) or be shaped by data that stage produces (the calibrated posterior). Those stages register
here instead: a *section* is a top-level key taken out of the file before the schema sees it and
checked against the validated scenario; a *preparer* may rewrite the merged tree (with the
positions that say which file wrote each value) before validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: check(value, scenario, positions, shown, tree): raise ConfigError on bad input
SectionCheck = Callable[..., None]
#: prepare(tree, positions, shown): rewrite the merged tree in place before validation
Preparer = Callable[[dict, dict, str], None]


@dataclass(frozen=True)
class Section:
    name: str
    check: SectionCheck
    description: str = ""


_SECTIONS: dict[str, Section] = {}
_PREPARERS: dict[str, Preparer] = {}


def register_section(section: Section) -> None:
    """Let scenario files carry `section.name` at the top level, checked by `section.check`."""
    _SECTIONS[section.name] = section


def register_preparer(name: str, prepare: Preparer) -> None:
    """Run `prepare` on every merged scenario tree before validation (once per name)."""
    _PREPARERS[name] = prepare


def _loaded() -> None:
    # The modules listed in `sim.SCENARIO_PLUGINS` register here when first imported.
    from sim.scenario.plugins import _load_plugins

    _load_plugins()


def sections() -> dict[str, Section]:
    _loaded()
    return dict(_SECTIONS)


def preparers() -> list[Preparer]:
    _loaded()
    return list(_PREPARERS.values())


def take_sections(tree: dict) -> dict[str, Any]:
    """Remove the registered sections from a tree, returning their raw values."""
    return {name: tree.pop(name) for name in sections() if name in tree}
