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
        """[R, A] mask of actions whose preconditions hold in each replication.

        Laid out action by action (the transpose of an [A, R] array), as the choice reads it;
        a precondition several actions share is checked once.
        """
        by_action = np.ones((len(self.actions), world.size), dtype=bool)
        holds: dict[Condition, np.ndarray] = {}
        for a, conditions in enumerate(self.conditions):
            for condition in conditions:
                if condition not in holds:
                    holds[condition] = condition.holds(world, actor_id)
                by_action[a] &= holds[condition]
        return by_action.T


#: rows per matrix product: a multiple of 8, small enough that the linear-algebra library
#: computes it in the calling thread (a product over a whole large batch starts threads,
#: which costs more than the product itself)
_BLOCK = 2048


def utilities(weights: np.ndarray, modulators: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """[R, A] utilities from [R, F] weights, [R, F] modulators and [A, F] loadings."""
    return weighted_utilities(weights * modulators, loadings)


def weighted_utilities(weighted: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """[R, A] utilities from [R, F] weighted modulators (weights x modulators).

    A replication's utilities are the same bits whatever the batch: the linear-algebra library
    takes rows eight at a time through one kernel and leftover rows through others, which
    round differently, so the rows are padded to a multiple of eight and multiplied in blocks.
    """
    size = len(weighted)
    padded = -(-size // 8) * 8
    if padded != size:
        weighted = np.concatenate([weighted, np.zeros((padded - size, weighted.shape[1]))])
    product = np.empty((padded, len(loadings)))
    for start in range(0, padded, _BLOCK):
        np.matmul(weighted[start : start + _BLOCK], loadings.T, out=product[start : start + _BLOCK])
    return product[:size]


def contributions(
    weights: np.ndarray, modulators: np.ndarray, loadings: np.ndarray, chosen: np.ndarray
) -> np.ndarray:
    """[R, F] factor contributions to the utility of each replication's chosen action."""
    return weights * modulators * loadings[chosen]


def choice_probabilities(
    utility: np.ndarray, feasible: np.ndarray, rationality: np.ndarray
) -> np.ndarray:
    """[R, A] logit choice probabilities; infeasible actions get probability zero.

    An infinite rationality (`.inf` in YAML) is the limit of the rule, best response: the best
    feasible actions share the probability. Computing it as rationality x utility would give
    inf x 0 = nan wherever an action's utility is zero.
    """
    return _probabilities_by_action(utility, feasible, rationality).T


def _probabilities_by_action(
    utility: np.ndarray, feasible: np.ndarray, rationality: np.ndarray
) -> np.ndarray:
    """The choice probabilities laid out action by action, [A, R].

    Menus are short and batches long: with each action's values side by side, every step
    (the highest utility, the sum, the running total) is a few operations over whole rows.
    The numbers are those of the plain row-wise version, which the tests keep as the
    reference: the same operations on the same values, in the same order.
    """
    feasible = np.ascontiguousarray(feasible.T)
    scaled = np.empty(feasible.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        np.multiply(rationality, utility.T, out=scaled)
        finite = np.isfinite(np.add.reduce(scaled, axis=None))
    if finite:
        # The usual case. An infeasible action has probability exactly zero; its exponential
        # is computed on a harmless number and zeroed (exp(-inf) is slow).
        top = np.where(feasible, scaled, -np.inf).max(axis=0)
        np.subtract(scaled, top, out=scaled)
        np.minimum(scaled, 0.0, out=scaled)
        np.exp(scaled, out=scaled)
        np.multiply(scaled, feasible, out=scaled)
    else:
        # Infinite rationality or utility: best response where the logit has no finite form.
        scaled = np.where(feasible, scaled, -np.inf)
        limit = ~np.isfinite(np.where(feasible, scaled, 0.0)).all(axis=0)
        if limit.any():
            best = np.where(feasible[:, limit], utility[limit].T, -np.inf)
            scaled[:, limit] = np.where(best == best.max(axis=0), 0.0, -np.inf)
        with np.errstate(invalid="ignore"):
            scaled -= scaled.max(axis=0)
        np.exp(scaled, out=scaled)
    scaled /= _row_sum(scaled)
    return scaled


def _row_sum(rows: np.ndarray) -> np.ndarray:
    """The sum over the first axis, added as NumPy adds a short row (`x.sum(axis=1)` of the
    [R, A] layout): one by one below 8 values, else eight partial sums combined pairwise."""
    count = len(rows)
    if count < 8:
        total = rows[0].copy()
        for row in rows[1:]:
            total += row
        return total
    partial = rows[:8].copy()
    done = 8
    while done < count - count % 8:
        partial += rows[done : done + 8]
        done += 8
    total = (partial[0] + partial[1]) + (partial[2] + partial[3])
    total += (partial[4] + partial[5]) + (partial[6] + partial[7])
    for row in rows[done:]:
        total += row
    return total


def logit_choice(
    utility: np.ndarray, feasible: np.ndarray, rationality: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """Draw one action per replication from the logit rule using one uniform number each."""
    cumulative = _probabilities_by_action(utility, feasible, rationality)
    actions = len(cumulative)
    # The cumulative probabilities, summed left to right as a cumulative sum does.
    for a in range(1, actions):
        cumulative[a] += cumulative[a - 1]
    threshold = uniform * cumulative[-1]
    chosen = np.count_nonzero(cumulative < threshold, axis=0)
    # Guard against rounding at the top end landing on an infeasible trailing action.
    np.minimum(chosen, actions - 1, out=chosen)
    bad = ~feasible[np.arange(len(chosen)), chosen]
    if bad.any():
        chosen[bad] = np.argmax(np.where(feasible[bad], utility[bad], -np.inf), axis=1)
    return chosen
