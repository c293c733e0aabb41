"""Running an episode and reading its observed events from the outcome record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.engine.model import CrisisModel
from sim.engine.streams import stream_id
from sim.evidence.observed import FieldSpec, Observation, outcome_fields
from sim.scenario.config import Scenario

#: chance that a `reported` or `established` record is wrong about an event (judgement): the
#: observation-error model of the likelihood, so one contested report cannot veto a parameter
RECORD_ERROR = {"established": 0.02, "reported": 0.15}


@dataclass(frozen=True)
class Event:
    """One observed outcome of one episode."""

    episode: str
    field: str
    spec: FieldSpec
    observation: Observation

    @property
    def numeric(self) -> bool:
        return self.spec.kind in ("count", "continuous")

    def happened(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Per replication: did the simulated outcome fall in the observed set?"""
        obs = self.observation
        values = np.asarray(values)
        if obs.interval is not None:
            low, high = obs.interval
            return (values >= low) & (values <= high)
        if obs.one_of is not None:
            return np.isin(values.astype(str), obs.one_of)
        return values == obs.value

    def representative(self) -> list[Any]:
        """The observed value(s) a base-rate forecaster counts (an interval's midpoint)."""
        obs = self.observation
        if obs.interval is not None:
            return [(obs.interval[0] + obs.interval[1]) / 2]
        if obs.one_of is not None:
            return list(obs.one_of)
        return [obs.value]

    def point(self) -> float:
        """The number a CRPS or PIT is computed at (an interval's midpoint)."""
        return float(self.representative()[0])


def events_of(name: str, scenario: Scenario, observed: dict[str, Observation]) -> list[Event]:
    fields = outcome_fields(scenario)
    return [Event(name, f, fields[f], o) for f, o in observed.items()]


def episode_seed(seed: int, name: str) -> int:
    """A seed per episode: common random numbers across parameter vectors within an episode,
    independent noise across episodes (so leaving one out leaves its noise out too)."""
    return (int(seed) * 1_000_003 + stream_id(name)) % (2**63 - 1)


def run(scenario: Scenario, replications: int, seed: int) -> pd.DataFrame:
    return CrisisModel(scenario, replications, rng=seed).run().outcome_frame()


def with_values(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with parameters at dotted paths fixed (no revalidation: values come from
    priors already checked against the schema)."""
    for path, value in values.items():
        scenario = _set(scenario, path.split("."), float(value))
    return scenario


def _set(node: Any, keys: list[str], value: float) -> Any:
    key = keys[0]
    if isinstance(node, BaseModel):
        child = getattr(node, key)
        new = value if len(keys) == 1 else _set(child, keys[1:], value)
        return node.model_copy(update={key: new})
    if isinstance(node, dict):
        copy = dict(node)
        copy[key] = value if len(keys) == 1 else _set(node[key], keys[1:], value)
        return copy
    raise KeyError(".".join(keys))


def record_kernel(events: list[Event], frame: pd.DataFrame) -> np.ndarray:
    """Per replication, the likelihood of the whole record given that replication's outcome:
    the product over events of (1 - e) if it matched and e if not, e the record's error rate."""
    kernel = np.ones(len(frame))
    for event in events:
        error = RECORD_ERROR[event.observation.confidence]
        hit = event.happened(frame[event.field].to_numpy())
        kernel *= np.where(hit, 1.0 - error, error)
    return kernel
