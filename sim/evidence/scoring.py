"""Scores of probabilistic forecasts of observed events, with `scoringrules`.

Every event is scored as the binary event "the outcome falls in the observed set" (a value, an
interval or a list of categories): the Brier score and the log score of the probability the
forecast gave to it. For a yes/no outcome this is the usual Brier and log score. For numeric
outcomes the CRPS of the whole forecast distribution (at the midpoint of an observed interval)
and the PIT are given as well, since they reward a forecast for being close, not only inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scoringrules as sr

from sim.evidence.simulate import Event

#: probabilities are kept inside [EPS, 1 - EPS] before a log score: a forecast of exactly 0 from
#: a finite ensemble means "below 1 / ensemble size", not "impossible"
EPS = 0.005
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def clip(p: float) -> float:
    return float(np.clip(p, EPS, 1 - EPS))


def brier(p: float) -> float:
    """Brier score of probability p for an event that happened."""
    return float(sr.brier_score(np.array([1.0]), np.array([clip(p)]))[0])


def log_score(p: float) -> float:
    """Negative log score (lower is better) of probability p for an event that happened."""
    return float(sr.log_score(np.array([1.0]), np.array([clip(p)]))[0])


def crps(values: np.ndarray, weights: np.ndarray | None, observed: float) -> float:
    values = np.asarray(values, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)[None, :]
    return float(sr.crps_ensemble(np.array([observed]), values[None, :], ens_w=w)[0])


def weighted_quantiles(values: np.ndarray, weights: np.ndarray | None) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return {
        f"q{int(q * 100):02d}": float(
            values[order][min(np.searchsorted(cumulative, q), len(values) - 1)]
        )
        for q in QUANTILES
    }


def pit(values: np.ndarray, weights: np.ndarray | None, observed: float) -> float:
    """Probability integral transform (mid-rank for ties): where the observation fell."""
    values = np.asarray(values, dtype=float)
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)
    total = weights.sum()
    below = weights[values < observed].sum()
    equal = weights[values == observed].sum()
    return float((below + 0.5 * equal) / total)


@dataclass
class Forecast:
    """A forecaster's view of one event: the probability of what was observed and, for numeric
    outcomes, a weighted ensemble of values."""

    p: float
    values: np.ndarray | None = None
    weights: np.ndarray | None = None


def score_event(event: Event, forecast: Forecast) -> dict:
    row = {
        "p": round(forecast.p, 6),
        "brier": brier(forecast.p),
        "log_score": log_score(forecast.p),
    }
    if event.numeric and forecast.values is not None and len(forecast.values):
        row["quantiles"] = weighted_quantiles(forecast.values, forecast.weights)
        row["crps"] = crps(forecast.values, forecast.weights, event.point())
        row["pit"] = pit(forecast.values, forecast.weights, event.point())
    return row


def base_rate(event: Event, others: list[Event]) -> float:
    """Leave-one-episode-out base rate: the share of the other episodes that observed this
    kind of event (the same field) inside this episode's observed set, with a Jeffreys prior
    (half a success in one trial) so that no forecast is 0 or 1."""
    hits, count = 0.0, 0
    for other in others:
        values = other.representative()
        inside = event.happened(np.array(values, dtype=object if not other.numeric else float))
        hits += float(np.mean(inside))
        count += 1
    return (hits + 0.5) / (count + 1)


def interval_of_mean(values: np.ndarray, seed: int = 0, draws: int = 2000) -> list[float]:
    """A 95 % bootstrap interval of a mean over episodes (resampling episodes)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (draws, len(values)))].mean(axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]
