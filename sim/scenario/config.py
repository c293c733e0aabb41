"""Scenario files: YAML with `extends:`, command-line overrides, and pydantic validation.

A scenario is data (actors, weights, action menus, context, injects); the engine holds only
mechanisms. Errors name the file, the field path, the line and what was expected, because the
people who write scenarios are analysts and instructors, not the engine's authors.
"""

from __future__ import annotations

import copy
import math
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    model_validator,
)

from sim.scenario.distributions import Distribution, Param, param_support
from sim.scenario.errors import ConfigError
from sim.scenario.limits import MAX_POINTS, MAX_REPLICATIONS, MAX_SEED
from sim.scenario.reader import Position, display, parse_value, read_mapping
from sim.scenario.rules import Dynamics, Ladders, Probability, Strict

CONFIG_ROOT = Path(__file__).resolve().parents[2] / "configs"

# ----------------------------------------------------------------------------- value checks

#: what a NaN or an infinity where a number is meant is told, whichever field it is in
FINITE_EXPECTED = "expected a finite number"


def _in_range(low: float, high: float):
    def check(param: Param) -> Param:
        lo, hi = param_support(param)
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"{FINITE_EXPECTED} (got nan)")
        if lo < low or hi > high:
            raise ValueError(f"expected a value in [{low}, {high}], got range [{lo}, {hi}]")
        return param

    return AfterValidator(check)


Unit = Annotated[Param, _in_range(0.0, 1.0)]
NonNegative = Annotated[Param, _in_range(0.0, float("inf"))]
#: a decision rule's rationality: `.inf` is meaningful (best response), NaN is not
Rationality = Annotated[
    Annotated[float, Field(allow_inf_nan=True)] | Distribution, _in_range(0.0, float("inf"))
]


Phase = Literal["diplomatic", "economic", "covert", "military"]


class ActionSpec(Strict):
    description: str
    phase: Phase
    menu: str = "main"
    loadings: dict[str, float] = Field(default_factory=dict)
    requires: list[str] = Field(default_factory=list)
    effects: dict[str, float] = Field(default_factory=dict)
    level: int | None = Field(default=None, ge=0, le=7)
    #: deniable by nature (commercial supplies through intermediaries): recorded as covert
    #: support and discoverable, with no overt twin
    deniable: bool = False


class CovertRules(Strict):
    """How a covert act differs from its overt twin (a great power's support ladder)."""

    levels: list[int]
    loading_scale: dict[str, float]
    effect_scale: Probability
    discovery_probability: Probability


ActorKind = Literal["iran", "united_states", "russia", "china", "gulf_state", "israel"]


class ActorConfig(Strict):
    kind: ActorKind
    label: str
    rationality: Rationality
    weights: dict[str, NonNegative]
    actions: dict[str, ActionSpec] = Field(min_length=1)
    covert: CovertRules | None = None


class PathRule(Strict):
    """An exogenous path: drift per turn plus a random walk, kept inside [0, 1]."""

    drift: float = 0.0
    volatility: float = Field(default=0.0, ge=0)


ContextName = Literal[
    "russia_ukraine_commitment",
    "china_taiwan_tension",
    "sanctions_intensity",
    "secondary_sanctions_on_china",
    "us_regime_change_intent",
    "gulf_china_trade",
    "israel_domestic_hawkishness",
    "us_demands",
]


class Context(Strict):
    russia_ukraine_commitment: Unit
    china_taiwan_tension: Unit
    sanctions_intensity: Unit
    secondary_sanctions_on_china: Unit
    us_regime_change_intent: Unit
    gulf_china_trade: Unit
    israel_domestic_hawkishness: Unit
    us_demands: Unit


class InitialState(Strict):
    escalation: int = Field(ge=0)
    us_force_posture: Unit
    oil_price: NonNegative
    oil_discount: NonNegative
    iran_stability: Unit
    iran_military_capacity: Unit
    nuclear_programme: Unit
    china_imports_kbd: NonNegative
    other_exports_kbd: NonNegative
    hormuz: int = Field(ge=0, le=2)
    regime_pressure: Unit
    support: dict[str, Annotated[int, Field(ge=0, le=7)]]
    iran_belief: dict[str, Annotated[Param, _in_range(0.0, 7.0)]]


class Inject(Strict):
    """A scheduled event: force an actor's move, apply effects, or set context values."""

    turn: int = Field(ge=1)
    note: str = ""
    actor: str | None = None
    action: str | None = None
    effects: dict[str, float] = Field(default_factory=dict)
    context: dict[ContextName, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Inject:
        if (self.actor is None) != (self.action is None):
            raise ValueError("an inject that forces a move needs both 'actor' and 'action'")
        if self.actor is None and not self.effects and not self.context:
            raise ValueError("an inject needs 'actor' and 'action', 'effects' or 'context'")
        return self


class Incident(Strict):
    """A random event that may strike any turn once the crisis is hot enough."""

    description: str
    probability: Probability
    min_escalation: int = Field(ge=0)
    effects: dict[str, float]


class Sample(Strict):
    """Sweep points drawn over ranges.

    `lhs` and `random` give `points` points. The global sensitivity designs give more, in the
    structure their analysis needs: `sobol` (Saltelli's scheme) gives points x (k + 2) for k
    ranges, `points` a power of two; `morris` gives `points` trajectories of k + 1 points.
    """

    method: Literal["lhs", "random", "sobol", "morris"] = "lhs"
    points: int = Field(ge=1, le=MAX_POINTS)
    #: grid levels of a Morris design
    levels: int = Field(default=4, ge=2, le=20)
    ranges: dict[str, tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Sample:
        for path, (low, high) in self.ranges.items():
            if high < low:
                raise ValueError(f"range of {path} must be [low, high] with low <= high")
        return self


class Experiment(Strict):
    """How to run a scenario in batch: replications, seed, output, sweeps and comparisons."""

    replications: int = Field(default=1000, ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    out: str | None = None
    chunk_size: int | None = Field(default=None, ge=1, le=MAX_REPLICATIONS)
    #: replications per sweep point whose per-turn trajectories are kept (the first ones)
    trajectories: int = Field(default=500, ge=0)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    sample: Sample | None = None
    scenarios: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_sweep(self) -> Experiment:
        if self.grid and self.sample is not None:
            raise ValueError("use either a grid or a sample, not both")
        for path, values in self.grid.items():
            if not values:
                raise ValueError(f"grid.{path} needs at least one value")
        swept = [*self.grid, *(self.sample.ranges if self.sample is not None else {})]
        for path in swept:
            if path == "experiment" or path.startswith("experiment."):
                # The points of a sweep share one run plan: replications, seed and output
                # are the batch's, so a swept value there would be silently ignored.
                raise ValueError(
                    f"{path}: the experiment's own settings cannot be swept "
                    "(sweep a scenario value, or run separate batches)"
                )
        return self


class Scenario(Strict):
    name: str
    description: str = ""
    turn_days: float = Field(gt=0)
    horizon: int = Field(ge=1, le=1000)
    ladders: Ladders
    dynamics: Dynamics
    context: Context
    paths: dict[ContextName, PathRule] = Field(default_factory=dict)
    initial: InitialState
    actors: dict[str, ActorConfig] = Field(min_length=1)
    injects: list[Inject] = Field(default_factory=list)
    incidents: dict[str, Incident] = Field(default_factory=dict)
    experiment: Experiment = Field(default_factory=Experiment)
    #: validated into a `ClassroomConfig` by the classroom stage's plugin (sim.scenario.plugins)
    classroom: Any = None
    #: free-form room for YAML anchors that other fields refer to (`*gulf_actions`)
    templates: dict[str, Any] | None = None


# ----------------------------------------------------------------------------- YAML reading

_display = display
_read = read_mapping


def _replaces(inherited: Any, value: Any) -> bool:
    """Whether an overriding value takes the place of the inherited one rather than merging.

    Mappings merge key by key, except a distribution (a mapping that names its `dist`): it is
    complete in itself, so the keys of the value it overrides must not leak into it (a `choice`
    overriding a `uniform` would otherwise inherit `low` and `high`).
    """
    return not (isinstance(value, dict) and isinstance(inherited, dict) and "dist" not in value)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if key in merged and not _replaces(merged[key], value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _replaced_paths(base: dict, override: dict, prefix: tuple = ()):
    """Paths at which `override` replaces an inherited value instead of merging into it."""
    for key, value in override.items():
        if key not in base:
            continue
        if _replaces(base[key], value):
            yield (*prefix, key)
        else:
            yield from _replaced_paths(base[key], value, (*prefix, key))


def _forget_below(positions: dict[tuple, Position], path: tuple) -> None:
    """Drop the positions of whatever an override replaced, so errors point at the override."""
    depth = len(path)
    for key in [k for k in positions if len(k) > depth and k[:depth] == path]:
        del positions[key]


def _overlay(
    tree: dict,
    positions: dict[tuple, Position],
    document: dict,
    document_positions: dict[tuple, Position],
) -> dict:
    """Merge `document` over `tree`, updating `positions` in place to match the result."""
    for path in _replaced_paths(tree, document):
        _forget_below(positions, path)
    positions.update(document_positions)
    return _merge(tree, document)


def resolve_path(name: str | Path, relative_to: Path | None = None) -> Path:
    """Find a scenario by path, or by name in the folder of its parent or in configs/."""
    candidate = Path(name)
    bases = [relative_to] if relative_to else []
    bases += [Path.cwd(), CONFIG_ROOT]
    names = (
        [candidate]
        if candidate.suffix in (".yaml", ".yml")
        else [
            candidate.with_name(candidate.name + ".yaml"),
            candidate,
        ]
    )
    if candidate.is_absolute():
        return next((n for n in names if n.is_file()), names[0])
    for base in bases:
        for n in names:
            if (base / n).is_file():
                return base / n
    return (bases[0] / names[0]) if relative_to else names[0]


def load_tree(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict, dict[tuple, Position]]:
    """The merged tree of a scenario and everything it extends, with where each value came from."""
    path = path.resolve() if path.exists() else path
    if path in _chain:
        raise ConfigError(_display(path), "extends", "circular extends chain")
    document, positions = _read(path)
    parents = document.pop("extends", None)
    if parents is None:
        return document, positions
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(
            _display(path),
            "extends",
            "expected a scenario name or a list of names",
            positions.get(("extends",), (None, None))[1],
        )
    tree: dict = {}
    merged_positions: dict[tuple, Position] = {}
    for parent in parents:
        parent_path = resolve_path(parent, path.parent)
        if not parent_path.is_file():
            raise ConfigError(
                _display(path),
                "extends",
                f"no scenario '{parent}' (looked for {_display(parent_path)})",
                positions.get(("extends",), (None, None))[1],
            )
        parent_tree, parent_positions = load_tree(parent_path, (*_chain, path))
        tree = _overlay(tree, merged_positions, parent_tree, parent_positions)
    return _overlay(tree, merged_positions, document, positions), merged_positions


def apply_override(tree: dict, assignment: str, positions: dict[tuple, Position]) -> None:
    """Apply one `dotted.path=value` override; the value is read as YAML (numbers, lists...)."""
    if "=" not in assignment:
        raise ConfigError("--set", assignment, "expected dotted.path=value")
    dotted, raw = assignment.split("=", 1)
    keys = [k for k in dotted.strip().split(".")]
    if not all(keys):
        raise ConfigError(
            "--set", dotted, "expected a dotted path like context.sanctions_intensity"
        )
    value = parse_value(raw, "--set")
    node: Any = tree
    for depth, key in enumerate(keys):
        if key not in node:
            # A field the schema knows but the files leave out (say `injects`) may be set too.
            from sim.scenario import hooks

            model = _model_at(tuple(keys[:depth]))
            registered = depth == 0 and key in hooks.sections()
            if key.isdigit() or isinstance(node, list):
                # Overrides address mappings only: an item of a list (an inject, say) is
                # changed by setting the whole list.
                raise ConfigError(
                    "--set",
                    ".".join(keys[: depth + 1]),
                    "a list item cannot be set on its own "
                    f"(set the whole list: {'.'.join(keys[:depth]) or key}=[...])",
                )
            if not registered and (model is None or key not in model.model_fields):
                known = list(model.model_fields) if model is not None else list(map(str, node))
                raise ConfigError(
                    "--set",
                    ".".join(keys[: depth + 1]),
                    f"no such field (expected one of: {', '.join(known)})"
                    if known
                    else "no such field (nothing can be set here)",
                )
            node[key] = {} if depth < len(keys) - 1 else None
        if depth < len(keys) - 1 and not isinstance(node[key], dict):
            above = ".".join(keys[: depth + 1])
            if isinstance(node[key], list):
                raise ConfigError(
                    "--set",
                    ".".join(keys),
                    f"a list item cannot be set on its own (set the whole list: {above}=[...])",
                )
            raise ConfigError(
                "--set", ".".join(keys), f"no such field ({above} is a value, not a mapping)"
            )
        if depth < len(keys) - 1:
            # Copy on the way down: YAML anchors share one mapping between several places
            # (the Gulf states' action menu), and an override must change only the one named.
            node[key] = dict(node[key])
            node = node[key]
    node[keys[-1]] = value
    _forget_below(positions, tuple(keys))
    positions[tuple(keys)] = ("--set", None)


# ----------------------------------------------------------------------------- error messages


def _model_at(path: tuple, root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path`, to list its allowed fields."""
    annotation: Any = root or Scenario
    for key in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(key)
            if field is None:
                return None
            annotation = field.annotation
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        elif typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return None
    annotation = _unwrap(annotation)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [
                a
                for a in typing.get_args(annotation)
                if isinstance(a, type) and issubclass(a, BaseModel)
            ]
            if len(models) != 1:
                return annotation
            annotation = models[0]
        else:
            return annotation


_UNION_BRANCHES = {
    "float",
    "int",
    "str",
    "bool",
    "uniform",
    "normal",
    "triangular",
    "beta",
    "choice",
}


def _user_path(loc: tuple) -> tuple:
    """Drop pydantic's union-branch names from an error location, keeping real keys."""
    return tuple(
        element
        for element in loc
        if not (isinstance(element, str) and (element in _UNION_BRANCHES or "[" in element))
    )


def _describe(error: dict, path: tuple, root: type[BaseModel] | None = None, skip: int = 0) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(path[skip:-1], root)
        allowed = f" (expected one of: {', '.join(model.model_fields)})" if model else ""
        return f"unknown field '{error['loc'][-1]}'{allowed}"
    if kind == "missing":
        return "missing required field"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "input" in error and kind not in ("value_error", "assertion_error"):
        value = error["input"]
        if not isinstance(value, dict | list):
            message += f" (got {value!r})"
    # A location longer than the user's path went through a union: a parameter that may be a
    # number or a distribution. Elsewhere only a plain number goes.
    parameter = len(error["loc"]) > len(path)
    if parameter and kind in (
        "float_parsing",
        "float_type",
        "model_attributes_type",
        "union_tag_invalid",
        "union_tag_not_found",
    ):
        message = (
            "expected a number or a distribution such as {dist: uniform, low: 0.2, high: 0.6}"
            f" (got {error.get('input')!r})"
        )
    elif kind in ("float_parsing", "float_type"):
        message = f"expected a number (got {error.get('input')!r})"
    elif kind == "finite_number":
        message = f"{FINITE_EXPECTED} (got {error.get('input')!r})"
    return message


def _pick(errors: list[dict]) -> dict:
    """Of a union's alternative errors, report the most specific one."""
    for error in errors:
        if error["type"] not in ("float_parsing", "float_type", "model_attributes_type"):
            return error
    return errors[0]


def located_error(
    path: tuple, message: str, positions: dict[tuple, Position], shown: str
) -> ConfigError:
    """A ConfigError naming the file and line where the value at `path` was written."""
    source = None
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            source = positions[path[:cut]]
            break
    file, line = source if source else (shown, None)
    field = ".".join(str(p) for p in path) or None
    return ConfigError(file, field, message, line)


def validation_error(
    exc: ValidationError,
    positions: dict[tuple, Position],
    shown: str,
    prefix: tuple = (),
    model: type[BaseModel] | None = None,
) -> ConfigError:
    """The one-line error for a pydantic failure at `prefix` (validated by `model`, if given)."""
    error = _pick(exc.errors())
    path = (*prefix, *_user_path(error["loc"]))
    skip = len(prefix) if model else 0
    return located_error(path, _describe(error, path, model, skip), positions, shown)


def validate_tree(tree: dict, positions: dict[tuple, Position], shown: str) -> Scenario:
    """Validate field types and ranges, then the checks other stages registered (cross-references
    of factors, actions and actors; the classroom block; an episode's record)."""
    from sim.scenario import hooks
    from sim.scenario.plugins import run_checks

    # Later stages take part through hooks (`sim.scenario.hooks`): preparers shape a copy of
    # the tree (the caller's stays as written), sections are checked against the result.
    extra: dict = {}
    if hooks.preparers() or hooks.sections():
        tree = copy.deepcopy(tree)
        for prepare in hooks.preparers():
            prepare(tree, positions, shown)
        extra = hooks.take_sections(tree)
    try:
        scenario = Scenario.model_validate(tree)
    except ValidationError as exc:
        raise validation_error(exc, positions, shown) from None
    scenario = run_checks(scenario, positions, shown)
    registered = hooks.sections()
    for name, value in extra.items():
        registered[name].check(value, scenario, positions, shown, tree)
    return scenario


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, merge, override and validate a scenario file."""
    resolved = resolve_path(path)
    tree, positions = load_tree(resolved)
    for assignment in overrides:
        apply_override(tree, assignment, positions)
    return validate_tree(tree, positions, _display(resolved))
