"""Cross-reference checks a schema cannot express: factors, actions, actors and effects agree."""

from __future__ import annotations

from sim.engine.decision import Condition, covert_twins
from sim.engine.effects import EFFECTS
from sim.engine.world import CONDITION_VARIABLES
from sim.scenario.config import Scenario
from sim.scenario.plugins import register_check


class InconsistentScenario(Exception):
    def __init__(self, path: tuple, expected: str) -> None:
        self.path = path
        self.expected = expected
        super().__init__(expected)


def _known_effects(effects: dict, path: tuple) -> None:
    for name in effects:
        if name not in EFFECTS:
            raise InconsistentScenario(
                (*path, name), f"unknown effect (expected one of: {', '.join(EFFECTS)})"
            )


def _factors(kind: str) -> dict[str, str]:
    """The factors of a kind of actor, read without importing the actor classes when listed."""
    from actors.factors import FACTORS

    if kind in FACTORS:
        return FACTORS[kind]
    from actors import ACTOR_CLASSES  # a kind whose class still keeps its own list

    return ACTOR_CLASSES[kind].FACTORS


def check_scenario(scenario: Scenario) -> None:
    kinds = [actor.kind for actor in scenario.actors.values()]
    for required in ("iran", "united_states"):
        if kinds.count(required) != 1:
            raise InconsistentScenario(
                ("actors",), f"expected exactly one actor of kind '{required}'"
            )
    great_powers = {a for a, c in scenario.actors.items() if c.kind in ("russia", "china")}
    known_conditions = set(CONDITION_VARIABLES)
    for actor_id, actor in scenario.actors.items():
        factors = _factors(actor.kind)
        base = ("actors", actor_id)
        for factor in actor.weights:
            if factor not in factors:
                expected = ", ".join(factors)
                raise InconsistentScenario(
                    (*base, "weights", factor),
                    f"unknown factor for {actor_id} (expected one of: {expected})",
                )
        for factor in factors:
            if factor not in actor.weights:
                raise InconsistentScenario((*base, "weights", factor), "missing factor weight")
        for name, spec in actor.actions.items():
            where = (*base, "actions", name)
            for factor in spec.loadings:
                if factor not in factors:
                    raise InconsistentScenario(
                        (*where, "loadings", factor),
                        f"unknown factor (expected one of: {', '.join(factors)})",
                    )
            _known_effects(spec.effects, (*where, "effects"))
            for index, text in enumerate(spec.requires):
                try:
                    Condition.parse(text, known_conditions)
                except ValueError as exc:
                    raise InconsistentScenario((*where, "requires", index), str(exc)) from None
            if spec.level is not None and actor_id not in great_powers:
                raise InconsistentScenario(
                    (*where, "level"), "support levels are for Russia and China only"
                )
        if actor.kind in ("russia", "china") and actor.covert is None:
            raise InconsistentScenario((*base, "covert"), "missing covert rules for a great power")
        if actor.covert is not None:
            _check_covert(actor, actor_id in great_powers, factors, (*base, "covert"))
    for key, table in (
        ("support", scenario.initial.support),
        ("iran_belief", scenario.initial.iran_belief),
    ):
        for actor_id in table:
            if actor_id not in great_powers:
                expected = ", ".join(sorted(great_powers))
                raise InconsistentScenario(
                    ("initial", key, actor_id),
                    f"not a great power of this scenario (expected one of: {expected})",
                )
    if scenario.initial.escalation >= len(scenario.ladders.escalation):
        raise InconsistentScenario(
            ("initial", "escalation"),
            f"expected a rung from 0 to {len(scenario.ladders.escalation) - 1}",
        )
    for index, inject in enumerate(scenario.injects):
        where = ("injects", index)
        if inject.turn > scenario.horizon:
            raise InconsistentScenario(
                (*where, "turn"), f"after the horizon ({scenario.horizon} turns)"
            )
        _known_effects(inject.effects, (*where, "effects"))
        problem = forced_move_problem(scenario, inject.actor, inject.action)
        if problem is not None:
            raise InconsistentScenario((*where, problem[0]), problem[1])
    for name, incident in scenario.incidents.items():
        _known_effects(incident.effects, ("incidents", name, "effects"))
    _check_basing(scenario)


def _check_basing(scenario: Scenario) -> None:
    """Basing hosts are Gulf states of the scenario whose menus have the open and deny moves."""
    rules = scenario.dynamics.basing
    gulf = {a: c for a, c in scenario.actors.items() if c.kind == "gulf_state"}
    where = ("dynamics", "basing")
    for host in rules.hosts:
        if host not in gulf:
            raise InconsistentScenario(
                (*where, "hosts", host),
                f"not a Gulf state of this scenario (expected one of: {', '.join(gulf)})",
            )
    for field in ("open_action", "deny_action"):
        action = getattr(rules, field)
        for host, config in gulf.items():
            if action not in config.actions:
                raise InconsistentScenario(
                    (*where, field),
                    f"no action '{action}' on the menu of {host} "
                    f"(expected one of: {', '.join(config.actions)})",
                )


def _check_covert(actor, great_power: bool, factors, where: tuple) -> None:
    """Covert rules name real factors and rungs; a misspelt factor would be silently unscaled."""
    if not great_power:
        raise InconsistentScenario(where, "covert rules are for Russia and China only")
    for factor in actor.covert.loading_scale:
        if factor not in factors:
            raise InconsistentScenario(
                (*where, "loading_scale", factor),
                f"unknown factor (expected one of: {', '.join(factors)})",
            )
    rungs = sorted({s.level for s in actor.actions.values() if s.level is not None})
    for index, level in enumerate(actor.covert.levels):
        if level not in rungs:
            raise InconsistentScenario(
                (*where, "levels", index),
                f"no action on rung {level} (expected one of: {', '.join(map(str, rungs))})",
            )


def forced_move_problem(
    scenario: Scenario, actor: str | None, action: str | None
) -> tuple[str, str] | None:
    """Why an inject or a classroom event cannot make `actor` play `action`: (field, reason).

    None when it can, or when nothing is forced.
    """
    if actor is None:
        return None
    if actor not in scenario.actors:
        return "actor", f"unknown actor '{actor}' (expected one of: {', '.join(scenario.actors)})"
    actions = available_actions(scenario, actor)
    if action not in actions:
        return "action", (
            f"unknown action '{action}' for {actor} (expected one of: {', '.join(actions)})"
        )
    return None


def available_actions(scenario: Scenario, actor_id: str) -> list[str]:
    """Every action name of an actor, covert variants of a great power included."""
    actor = scenario.actors[actor_id]
    return [*actor.actions, *covert_twins(actor.actions, actor.covert)]


def _registered_check(scenario: Scenario, positions: dict, shown: str) -> None:
    """The cross-reference checks as a scenario plugin: errors located in the file."""
    from sim.scenario.config import located_error

    try:
        check_scenario(scenario)
    except InconsistentScenario as exc:
        raise located_error(exc.path, exc.expected, positions, shown) from None


register_check("consistency", _registered_check)
