"""The crisis actors, one Mesa agent class per kind of actor."""

from actors.base import CrisisActor, Decision
from actors.china import China
from actors.gulf_state import GulfState
from actors.iran import Iran
from actors.israel import Israel
from actors.russia import Russia
from actors.united_states import UnitedStates

ACTOR_CLASSES: dict[str, type[CrisisActor]] = {
    cls.kind: cls for cls in (Iran, UnitedStates, Russia, China, GulfState, Israel)
}

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
