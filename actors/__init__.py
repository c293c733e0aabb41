"""The crisis actors, one Mesa agent class per kind of actor.

The classes are imported on first use: `actors.factors` (what a scenario file may name) must be
readable without importing Mesa, which checking a scenario does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.base import CrisisActor, Decision
    from actors.china import China
    from actors.gulf_state import GulfState
    from actors.iran import Iran
    from actors.israel import Israel
    from actors.russia import Russia
    from actors.united_states import UnitedStates

#: where each public name lives
_MODULES = {
    "CrisisActor": "actors.base",
    "Decision": "actors.base",
    "China": "actors.china",
    "GulfState": "actors.gulf_state",
    "Iran": "actors.iran",
    "Israel": "actors.israel",
    "Russia": "actors.russia",
    "UnitedStates": "actors.united_states",
}
#: the class of each kind of actor, in the order scenarios list them
_KINDS = ("Iran", "UnitedStates", "Russia", "China", "GulfState", "Israel")


def __getattr__(name: str) -> Any:
    if name == "ACTOR_CLASSES":
        classes: dict[str, type[CrisisActor]] = {}
        for class_name in _KINDS:
            cls = __getattr__(class_name)
            classes[cls.kind] = cls
        globals()["ACTOR_CLASSES"] = classes
        return classes
    if name in _MODULES:
        value = getattr(importlib.import_module(_MODULES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'actors' has no attribute {name!r}")


__all__ = [
    "ACTOR_CLASSES",
    "China",
    "CrisisActor",
    "Decision",
    "GulfState",
    "Iran",
    "Israel",
    "Russia",
    "UnitedStates",
]
