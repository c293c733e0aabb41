"""Factor-based utilities and logit (quantal-response) choice, vectorised over replications.

Utility of an action = sum over factors of weight x loading x state modulator. Keeping the three
terms separate is what lets every decision be explained as a list of factor contributions.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.engine.effects import EFFECT_INDEX, EFFECTS, LEVEL_EFFECTS
from sim.engine.world import CONDITION_VARIABLES
from sim.scenario.config import ActionSpec, CovertRules

PHASES = ("diplomatic", "economic", "covert", "military")

_OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Condition:
    """A precondition such as `escalation >= 4`, checked per replication."""

    variable: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, known: set[str]) -> Condition:
        match = _CONDITION.match(text)
        if not match:
            raise ValueError(f"expected a condition like 'escalation >= 4', got {text!r}")
        variable, op, value = match.groups()
        if variable not in known:
            raise ValueError(
                f"unknown variable '{variable}' in {text!r} (expected one of: "
                f"{', '.join(sorted(known))})"
            )
        return cls(variable, op, float(value))

    def holds(self, world, actor_id: str) -> np.ndarray:
        values = CONDITION_VARIABLES[self.variable](world, actor_id)
        return _OPERATORS[self.op](values, self.value)


def covert_twins(specs: dict[str, ActionSpec], rules: CovertRules | None) -> dict[str, ActionSpec]:
    """The covert variants of a great power's material rungs, by the names players use."""
    if rules is None:
        return {}
    return {
        f"covert_{name}": spec
        for name, spec in specs.items()
        if spec.level is not None and spec.level in rules.levels and not spec.deniable
    }


_LEVEL = np.array([name in LEVEL_EFFECTS for name in EFFECTS])


@dataclass(frozen=True)
class PhaseTable:
    """The effects a menu's actions have in one phase, for the columns any of them touch.

    Rows are the menu's actions (zero for actions of other phases), so gathering the chosen
    rows gives each replication's effects in this phase without masking a full [R, E] matrix.
    """

    phase: int
    added: np.ndarray  # effect columns that add up
    add_amounts: np.ndarray  # [A, len(added)]
    levelled: np.ndarray  # effect columns that set a level (the highest wins)
    level_amounts: np.ndarray  # [A, len(levelled)]


@dataclass
class ActionMenu:
    """One menu of an actor (its main moves, or China's oil purchases) as arrays."""

    name: str
    actions: list[str]
    descriptions: list[str]
    phases: np.ndarray  # [A] index into PHASES
    loadings: np.ndarray  # [A, F]
    effects: np.ndarray  # [A, E]
    levels: np.ndarray  # [A] support-ladder level, -1 where none
    covert: np.ndarray  # [A] bool
    conditions: list[list[Condition]]

    @classmethod
    def build(
        cls,
        name: str,
        specs: dict[str, ActionSpec],
        factors: tuple[str, ...],
        covert_rules: CovertRules | None = None,
    ) -> ActionMenu:
        """Build the menu; a great power's covert variants are derived from its overt acts."""
        known = set(CONDITION_VARIABLES)
        rows: list[tuple[str, ActionSpec, bool]] = [(n, s, False) for n, s in specs.items()]
        rows += [(n, s, True) for n, s in covert_twins(specs, covert_rules).items()]
        loadings = np.zeros((len(rows), len(factors)))
        effects = np.zeros((len(rows), len(EFFECTS)))
        for i, (_, spec, covert) in enumerate(rows):
            for factor, loading in spec.loadings.items():
                scale = covert_rules.loading_scale.get(factor, 1.0) if covert else 1.0
                loadings[i, factors.index(factor)] = loading * scale
            for effect, amount in spec.effects.items():
                scale = covert_rules.effect_scale if covert else 1.0
                effects[i, EFFECT_INDEX[effect]] = amount * scale
        return cls(
            name=name,
            actions=[n for n, _, _ in rows],
            descriptions=[
                ("Covertly: " + s.description[0].lower() + s.description[1:])
                if c
                else s.description
                for _, s, c in rows
            ],
            phases=np.array([PHASES.index(s.phase) for _, s, _ in rows]),
            loadings=loadings,
            effects=effects,
            levels=np.array([-1 if s.level is None else s.level for _, s, _ in rows]),
            covert=np.array([c or s.deniable for _, s, c in rows], dtype=bool),
            conditions=[[Condition.parse(r, known) for r in s.requires] for _, s, _ in rows],
        )

    def index(self, action: str) -> int:
        return self.actions.index(action)

    @cached_property
    def phase_tables(self) -> tuple[PhaseTable, ...]:
        """One table per phase in which some action of the menu has an effect."""
        tables = []
        for phase in range(len(PHASES)):
            in_phase = np.where((self.phases == phase)[:, None], self.effects, 0.0)
            touched = (in_phase != 0).any(axis=0)
            added = np.flatnonzero(touched & ~_LEVEL)
            levelled = np.flatnonzero(touched & _LEVEL)
            if added.size or levelled.size:
                tables.append(
                    PhaseTable(phase, added, in_phase[:, added], levelled, in_phase[:, levelled])
                )
        return tuple(tables)

    def feasible(self, world, actor_id: str) -> np.ndarray:
        """[R, A] mask of actions whose preconditions hold in each replication."""
        mask = np.ones((world.size, len(self.actions)), dtype=bool)
        for a, conditions in enumerate(self.conditions):
            for condition in conditions:
                mask[:, a] &= condition.holds(world, actor_id)
        return mask


def utilities(weights: np.ndarray, modulators: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """[R, A] utilities from [R, F] weights, [R, F] modulators and [A, F] loadings."""
    return (weights * modulators) @ loadings.T


def contributions(
    weights: np.ndarray, modulators: np.ndarray, loadings: np.ndarray, chosen: np.ndarray
) -> np.ndarray:
    """[R, F] factor contributions to the utility of each replication's chosen action."""
    return weights * modulators * loadings[chosen]


def choice_probabilities(
    utility: np.ndarray, feasible: np.ndarray, rationality: np.ndarray
) -> np.ndarray:
    """Logit choice probabilities; infeasible actions get probability zero.

    An infinite rationality (`.inf` in YAML) is the limit of the rule, best response: the best
    feasible actions share the probability. Computing it as rationality x utility would give
    inf x 0 = nan wherever an action's utility is zero.

    Menus are short and batches long, so row-wise steps (the highest utility) run as a loop
    over the few actions, each step vectorised over the replications; the numbers are those
    of the plain row-wise reductions, which the tests keep as the reference.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.where(feasible, rationality[:, None] * utility, -np.inf)
    # Infeasible actions are -inf, so every other non-finite value marks a limit row.
    if np.count_nonzero(np.isfinite(scaled)) != np.count_nonzero(feasible):
        limit = ~np.isfinite(np.where(feasible, scaled, 0.0)).all(axis=1)
        best = np.where(feasible[limit], utility[limit], -np.inf)
        scaled[limit] = np.where(best == best.max(axis=1, keepdims=True), 0.0, -np.inf)
    scaled -= _row_max(scaled)[:, None]
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def _row_max(matrix: np.ndarray) -> np.ndarray:
    top = matrix[:, 0].copy()
    for column in range(1, matrix.shape[1]):
        np.maximum(top, matrix[:, column], out=top)
    return top


def logit_choice(
    utility: np.ndarray, feasible: np.ndarray, rationality: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """Draw one action per replication from the logit rule using one uniform number each."""
    probabilities = choice_probabilities(utility, feasible, rationality)
    actions = utility.shape[1]
    # The cumulative probabilities, summed left to right as a cumulative sum does.
    cumulative = np.empty_like(probabilities)
    cumulative[:, 0] = probabilities[:, 0]
    for a in range(1, actions):
        np.add(cumulative[:, a - 1], probabilities[:, a], out=cumulative[:, a])
    threshold = uniform * cumulative[:, -1]
    chosen = np.zeros(len(uniform), dtype=np.intp)
    for a in range(actions):
        chosen += cumulative[:, a] < threshold
    # Guard against rounding at the top end landing on an infeasible trailing action.
    chosen = np.minimum(chosen, actions - 1)
    bad = ~feasible[np.arange(len(chosen)), chosen]
    if bad.any():
        chosen[bad] = np.argmax(np.where(feasible[bad], utility[bad], -np.inf), axis=1)
    return chosen
