"""Parameters that are fixed or drawn per replication from a distribution given in YAML.

Drawing from the replication's own stream (keyed by the parameter's dotted path) keeps a
replication's parameters independent of batch size and of which other parameters exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.engine.streams import ReplicationStreams


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def support(self) -> tuple[float, float]:
        raise NotImplementedError

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Inverse-CDF transform, so one uniform draw gives one parameter value."""
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError


class _Bounded(_Distribution):
    """A distribution on [low, high]: the bounds must be in order, and they are its support."""

    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> _Bounded:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Uniform(_Bounded):
    dist: Literal["uniform"]

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    def mean(self) -> float:
        return (self.low + self.high) / 2


class Normal(_Distribution):
    """Normal, clipped to [low, high] when given (a clipped, not truncated, normal)."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _ordered(self) -> Normal:
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def support(self) -> tuple[float, float]:
        return (
            self.low if self.low is not None else -np.inf,
            self.high if self.high is not None else np.inf,
        )

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        from scipy import special  # imported when drawn: checking a file needs no SciPy

        values = self.mean_ + self.sd * special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))
        low, high = self.support()
        return np.clip(values, low, high)

    def mean(self) -> float:
        return self.mean_


class Triangular(_Distribution):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("needs low <= mode <= high with low < high")
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        # scipy.stats.triang.ppf's formula, written out: the same numbers without importing
        # scipy.stats (a second of start-up) into every process that draws parameters.
        scale = self.high - self.low
        c = (self.mode - self.low) / scale
        return np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u))) * scale + self.low

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Beta(_Bounded):
    """Beta(a, b) rescaled to [low, high]."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        from scipy import special

        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, u)

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)


class Choice(_Distribution):
    """One of several values. Parameters that name the same `stream` draw the same index in a
    replication, so a set of weighted particles (a calibrated posterior) is drawn jointly."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    p: list[float] | None = None
    stream: str | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.p is not None:
            if len(self.p) != len(self.values):
                raise ValueError("p must have one probability per value")
            if any(x < 0 for x in self.p) or abs(sum(self.p) - 1) > 1e-6:
                raise ValueError("p must be non-negative and sum to 1")
        return self

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def _probabilities(self) -> np.ndarray:
        if self.p is None:
            return np.full(len(self.values), 1 / len(self.values))
        return np.asarray(self.p, dtype=float)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(self._probabilities())
        index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=float)[index]

    def mean(self) -> float:
        return float(np.dot(self._probabilities(), self.values))


Distribution = Annotated[Uniform | Normal | Triangular | Beta | Choice, Field(discriminator="dist")]
Param = float | Distribution


def param_support(param: Param) -> tuple[float, float]:
    """The range of values a parameter can take (a fixed value's range is itself)."""
    if isinstance(param, _Distribution):
        return param.support()
    return float(param), float(param)


def param_mean(param: Param) -> float:
    return param.mean() if isinstance(param, _Distribution) else float(param)


def draw(param: Param, path: str, streams: ReplicationStreams) -> np.ndarray:
    """Values of a parameter for each replication of a batch."""
    size = len(streams.replications)
    if isinstance(param, _Distribution):
        purpose = "param:" + (getattr(param, "stream", None) or path)
        return np.asarray(param.from_uniform(streams.uniform(purpose)), dtype=float)
    return np.full(size, float(param))
