"""The `observed:` block of an episode: what the historical record settles, checked against the
outcome fields the engine actually produces.

Each entry names an outcome field and gives a `value`, an `interval` [low, high] or `one_of`
(categories), a `source` (a key of docs/sources.md) and a `confidence`: `established` (settled
by several independent records) or `reported` (one line of reporting, or contested).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.scenario.config import Scenario, located_error, validation_error

Kind = Literal["binary", "count", "continuous", "categorical"]


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: bool | int | float | str | None = None
    interval: tuple[float, float] | None = None
    one_of: list[str] | None = Field(default=None, min_length=1)
    source: str = Field(min_length=1)
    confidence: Literal["reported", "established"]
    note: str = ""

    @model_validator(mode="after")
    def _one_form(self) -> Observation:
        given = [f for f in ("value", "interval", "one_of") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'value', 'interval' or 'one_of'")
        if self.interval is not None and self.interval[1] < self.interval[0]:
            raise ValueError("interval must be [low, high] with low <= high")
        return self

    def describe(self) -> str:
        if self.interval is not None:
            return f"[{self.interval[0]:g}, {self.interval[1]:g}]"
        if self.one_of is not None:
            return " or ".join(self.one_of)
        return str(self.value).lower() if isinstance(self.value, bool) else str(self.value)


class EpisodeInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: dt.date
    end: dt.date
    kind: Literal["sanctions", "shipping_proxy", "us_strike", "iran_israel"]
    summary: str = ""

    @model_validator(mode="after")
    def _dates(self) -> EpisodeInfo:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if self.end > dt.date(2025, 12, 31):
            raise ValueError("episodes end by 31 December 2025 (later events are held out)")
        if self.start < dt.date(2018, 1, 1):
            raise ValueError("episodes start in 2018 or later")
        return self


@dataclass(frozen=True)
class FieldSpec:
    """An outcome field as the engine produces it, with the values it can take."""

    name: str
    kind: Kind
    low: float = -np.inf
    high: float = np.inf
    categories: tuple[str, ...] | None = None


def _scenario_key(scenario: Scenario) -> str:
    return scenario.model_dump_json(include={"actors", "ladders", "horizon", "turn_days"})


_FIELDS: dict[str, dict[str, FieldSpec]] = {}


def _fields_of(scenario: Scenario) -> dict[str, FieldSpec]:
    from sim.engine.model import CrisisModel
    from sim.engine.outcomes import END_STATE_LABELS

    frame = CrisisModel(scenario, 1, rng=0).outcome_frame()
    top_support = len(scenario.ladders.support) - 1
    top_escalation = len(scenario.ladders.escalation) - 1
    specs: dict[str, FieldSpec] = {}
    for name in frame.columns:
        if name == "replication":
            continue
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            specs[name] = FieldSpec(name, "binary")
        elif pd.api.types.is_integer_dtype(column):
            high = np.inf
            if name.endswith("_max_support"):
                high = top_support
            elif name == "max_escalation":
                high = top_escalation
            elif name.endswith("_turns") or name == "end_turn":
                high = scenario.horizon
            elif name == "end_day":
                high = scenario.horizon * scenario.turn_days
            specs[name] = FieldSpec(name, "count", 0, high)
        elif pd.api.types.is_float_dtype(column):
            low = 0.0 if not name.endswith("_gap") else -np.inf
            high = 1.0 if name.endswith("_stability") else np.inf
            if name == "end_day":
                high = scenario.horizon * scenario.turn_days
            specs[name] = FieldSpec(name, "continuous", low, high)
        else:
            specs[name] = FieldSpec(name, "categorical", categories=_categories(name, scenario))
    if "end_state" in specs:
        specs["end_state"] = FieldSpec(
            "end_state", "categorical", categories=tuple(s for s in END_STATE_LABELS if s)
        )
    return specs


def _categories(name: str, scenario: Scenario) -> tuple[str, ...] | None:
    """Values a categorical outcome can take: an actor's moves for its stance or top move."""
    for actor_id, config in scenario.actors.items():
        if name in (f"gulf_{actor_id}_stance", f"{actor_id}_max_action"):
            return tuple(config.actions)
    return None


def outcome_fields(scenario: Scenario) -> dict[str, FieldSpec]:
    """The outcome fields of this scenario, read from the engine's own outcome record."""
    key = _scenario_key(scenario)
    if key not in _FIELDS:
        _FIELDS[key] = _fields_of(scenario)
    return _FIELDS[key]


def check_against(field: FieldSpec, observation: Observation) -> str | None:
    """Why an observation is impossible for this field, or None if it is fine."""
    if field.kind == "binary":
        if not isinstance(observation.value, bool):
            return "expected value: true or false for a yes/no outcome"
        return None
    if field.kind in ("count", "continuous"):
        if observation.one_of is not None or isinstance(observation.value, bool | str):
            return "expected a number (value) or an interval [low, high]"
        if field.kind == "continuous" and observation.interval is None:
            return "expected an interval [low, high] for a continuous outcome"
        low, high = observation.interval or (observation.value, observation.value)
        if low < field.low or high > field.high:
            return f"expected values within [{field.low:g}, {field.high:g}], got {low:g}-{high:g}"
        return None
    if observation.interval is not None or isinstance(observation.value, bool | int | float):
        return "expected a category (value) or a list of categories (one_of)"
    chosen = observation.one_of or [observation.value]
    if field.categories is not None:
        unknown = [c for c in chosen if c not in field.categories]
        if unknown:
            return (
                f"unknown category '{unknown[0]}' (expected one of: {', '.join(field.categories)})"
            )
    return None


def parse_observed(
    value: Any, scenario: Scenario, positions: dict, shown: str
) -> dict[str, Observation]:
    """Validate an `observed:` block; the first problem is a one-line ConfigError."""
    if not isinstance(value, dict) or not value:
        raise located_error(("observed",), "expected a mapping of outcome fields", positions, shown)
    fields = outcome_fields(scenario)
    parsed: dict[str, Observation] = {}
    for name, entry in value.items():
        path = ("observed", name)
        if name not in fields:
            known = ", ".join(fields)
            message = f"unknown outcome field (expected one of: {known})"
            raise located_error(path, message, positions, shown)
        try:
            observation = Observation.model_validate(entry)
        except ValidationError as exc:
            raise validation_error(exc, positions, shown, path) from None
        problem = check_against(fields[name], observation)
        if problem:
            raise located_error(path, problem, positions, shown)
        parsed[name] = observation
    return parsed


def parse_episode_info(value: Any, positions: dict, shown: str) -> EpisodeInfo:
    try:
        return EpisodeInfo.model_validate(value)
    except ValidationError as exc:
        raise validation_error(exc, positions, shown, ("episode",)) from None
