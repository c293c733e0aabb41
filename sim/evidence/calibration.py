"""Bayesian calibration by importance sampling over a prior population, with exact
leave-one-episode-out posteriors.

Why not ABC-SMC (pyabc) here: the likelihood of an episode's record given a parameter vector
can be estimated directly from replications (the record kernel of `simulate.record_kernel`,
which models the chance that a report is wrong), so no distance threshold is needed; and
reweighting one population gives the posterior without any episode, for every episode, at no
extra cost, where ABC-SMC would have to be rerun once per held-out episode (14 times the work).
The price is that the population must come from a prior wide enough to hold the posterior;
the effective sample size says whether it did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.evidence.episodes import Episode, load_library
from sim.evidence.population import (
    Population,
    draw_particles,
    episode_events,
    ess,
    event_probabilities,
    log_likelihood,
    normalise,
    simulate,
)
from sim.evidence.posterior import CalibrationError, model_version
from sim.evidence.simulate import Event
from sim.scenario.config import _display, located_error, validation_error
from sim.scenario.distributions import Choice, Distribution, Uniform, param_mean
from sim.scenario.errors import ConfigError


class CalibrationConfig(BaseModel):
    """What `wargame calibrate CONFIG` reads (see configs/model/posterior/calibration.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    episodes: list[str] = Field(default_factory=list)
    #: dotted parameter path -> prior; every prior is stated here, not inherited
    parameters: dict[str, Distribution] = Field(min_length=1)
    particles: int = Field(default=256, ge=4, le=100_000)
    replications: int = Field(default=48, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    #: 1: importance sampling from the prior; 2: a second population drawn from a proposal
    #: fitted to the first posterior (adaptive importance sampling), weighted by prior/proposal
    rounds: int = Field(default=2, ge=1, le=2)
    #: candidate powers of the likelihood; the one with the best leave-one-episode-out log
    #: score is used (1 alone: plain Bayes)
    learning_rates: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [1.0], min_length=1
    )

    @model_validator(mode="after")
    def _shapes(self) -> CalibrationConfig:
        for path, prior in self.parameters.items():
            parts = path.split(".")
            if parts[0] == "actors":
                if not (
                    (len(parts) == 3 and parts[2] == "rationality")
                    or (len(parts) == 4 and parts[2] == "weights")
                ):
                    raise ValueError(
                        f"{path}: expected actors.<actor>.rationality or "
                        "actors.<actor>.weights.<factor>"
                    )
                if not isinstance(prior, Uniform):
                    raise ValueError(f"{path}: calibration priors of weights are uniform")
            elif parts[0] == "dynamics":
                if not isinstance(prior, Choice):
                    raise ValueError(
                        f"{path}: a dynamics constant holds one value per batch, so its prior must "
                        "be a choice of a few levels"
                    )
            else:
                raise ValueError(f"{path}: expected a path under actors. or dynamics.")
        return self


def load_config(path: str | Path) -> CalibrationConfig:
    path = Path(path)
    shown = _display(path)
    if not path.is_file():
        raise ConfigError(shown, None, "file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise ConfigError(shown, None, "not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(shown, None, "expected a mapping with 'parameters'")
    try:
        return CalibrationConfig.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, {}, shown) from None


def check_parameters(config: CalibrationConfig, episode: Episode, shown: str) -> None:
    """Every calibrated path must be a plain parameter of the model (a number or distribution)."""
    tree = episode.scenario.model_dump(by_alias=True)
    for parameter in config.parameters:
        node: Any = tree
        for key in parameter.split("."):
            if not isinstance(node, dict) or key not in node:
                raise located_error(
                    ("parameters", parameter),
                    "not a parameter of the model (expected a path like actors.iran.rationality)",
                    {},
                    shown,
                )
            node = node[key]


@dataclass
class Calibration:
    config: CalibrationConfig
    episodes: list[Episode]
    events: dict[str, list[Event]]
    population: Population
    #: [episode name] -> log-likelihood per particle
    loglik: dict[str, np.ndarray]
    weights: np.ndarray
    loo_weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: log of prior over proposal density per particle (0 when drawn from the prior)
    log_ratio: np.ndarray | None = None
    #: effective sample size of the first round (from the prior)
    first_round_ess: float | None = None
    #: learning rate (power of the likelihood) chosen out of sample, and each candidate's score
    rate: float = 1.0
    rate_scores: dict[float, float] = field(default_factory=dict)

    @property
    def prior_weights(self) -> np.ndarray:
        size = self.population.size
        if self.log_ratio is None:
            return np.full(size, 1.0 / size)
        return normalise(self.log_ratio)

    @property
    def names(self) -> list[str]:
        return self.population.names

    def probabilities(self, episode: str) -> np.ndarray:
        """[particle, event] probability of each observed event under each particle."""
        frame = self.population.frames[episode]
        size = self.population.size
        return np.column_stack([event_probabilities(frame, e, size) for e in self.events[episode]])


def weigh(
    loglik: dict[str, np.ndarray],
    leave_out: str | None = None,
    log_ratio: np.ndarray | None = None,
    rate: float = 1.0,
) -> np.ndarray:
    """Posterior weights: prior/proposal ratio times the likelihood raised to the learning rate,
    optionally without one episode."""
    size = len(next(iter(loglik.values())))
    total = rate * sum((v for k, v in loglik.items() if k != leave_out), np.zeros(size))
    if log_ratio is not None:
        total = total + log_ratio
    return normalise(np.asarray(total, dtype=float))


def calibrate(
    config: CalibrationConfig,
    episodes: list[Episode] | None = None,
    cache: Path | None = None,
    progress=None,
    workers: int = 1,
    scheduler: str | None = None,
) -> Calibration:
    if episodes is None:
        episodes = load_library(config.episodes, prior=True)
    if not episodes:
        raise CalibrationError("no episodes to calibrate against")
    names = list(config.parameters)
    events = episode_events(episodes)
    theta = draw_particles(dict(config.parameters), config.particles, config.seed)
    run = {"cache": cache, "progress": progress, "workers": workers, "scheduler": scheduler}
    population = simulate(episodes, names, theta, config.replications, config.seed, **run)
    loglik = _loglik(population, episodes, events)
    weights = weigh(loglik)
    result = Calibration(config, episodes, events, population, loglik, weights)
    result.first_round_ess = ess(weights)
    if config.rounds == 2:
        # The proposal follows the posterior at the learning rate the first round supports.
        first_rate, _ = choose_rate(result, config.learning_rates)
        tempered = weigh(loglik, rate=first_rate)
        theta, log_ratio = propose(config, theta, tempered, config.seed + 1)
        population = simulate(episodes, names, theta, config.replications, config.seed + 1, **run)
        loglik = _loglik(population, episodes, events)
        result = Calibration(
            config,
            episodes,
            events,
            population,
            loglik,
            weigh(loglik, log_ratio=log_ratio),
            log_ratio=log_ratio,
            first_round_ess=result.first_round_ess,
        )
    rate, scores = choose_rate(result, config.learning_rates)
    result.rate, result.rate_scores = rate, scores
    result.weights = weigh(loglik, log_ratio=result.log_ratio, rate=rate)
    result.loo_weights = {
        e.name: weigh(loglik, leave_out=e.name, log_ratio=result.log_ratio, rate=rate)
        for e in episodes
    }
    return result


def choose_rate(result: Calibration, rates: list[float]) -> tuple[float, dict[float, float]]:
    """The learning rate (power of the likelihood) that forecasts held-out episodes best.

    With a model that cannot reproduce everything the record shows, the full likelihood (rate 1)
    lets a few episodes' misses concentrate the posterior on a handful of parameter vectors; a
    smaller rate (a "power" or generalised Bayesian posterior) is the usual remedy. It is chosen
    by the mean leave-one-episode-out log score of the observed events, so the choice itself is
    made out of sample (one number picked from a short list).
    """
    size = result.population.size
    probabilities = {
        name: np.column_stack(
            [event_probabilities(result.population.frames[name], e, size) for e in events]
        )
        for name, events in result.events.items()
    }
    scores: dict[float, float] = {}
    for rate in rates:
        per_episode = []
        for name in result.events:
            w = weigh(result.loglik, leave_out=name, log_ratio=result.log_ratio, rate=rate)
            p = np.clip(w @ probabilities[name], 0.005, 0.995)
            per_episode.append(float(np.mean(-np.log(p))))
        scores[rate] = float(np.mean(per_episode))
    best = min(rates, key=lambda r: (scores[r], -r))
    return best, scores


def _loglik(population: Population, episodes: list[Episode], events) -> dict[str, np.ndarray]:
    return {
        e.name: log_likelihood(population.frames[e.name], events[e.name], population.size)
        for e in episodes
    }


#: share of the second-round proposal drawn from the prior itself (a defensive mixture, so the
#: posterior without any one episode is still covered) and the inflation of the fitted spread
PRIOR_SHARE = 0.25
INFLATION = 2.0


def propose(
    config: CalibrationConfig, theta: np.ndarray, weights: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a second population from a proposal fitted to the first posterior, and return it
    with log(prior / proposal) per particle.

    Continuous parameters: a defensive mixture of the prior (uniform) and a normal with the
    first posterior's mean and twice its spread, truncated to the prior's support. Discrete
    levels: half the prior, half the first posterior. The normal's mass inside the support is
    estimated from the rejected draws, so the density ratio is exact up to a constant."""
    rng = np.random.default_rng(seed)
    priors = list(config.parameters.values())
    size = len(theta)
    cont = [i for i, p in enumerate(priors) if isinstance(p, Uniform)]
    disc = [i for i, p in enumerate(priors) if isinstance(p, Choice)]
    low = np.array([priors[i].low for i in cont])
    high = np.array([priors[i].high for i in cont])
    mean = weights @ theta[:, cont]
    centred = theta[:, cont] - mean
    cov = (centred * weights[:, None]).T @ centred * INFLATION**2
    cov += np.diag(((high - low) ** 2 / 12) * 0.05)  # floor: a posterior of few particles
    from_prior = rng.random(size) < PRIOR_SHARE
    new = np.empty_like(theta)
    new[:, cont] = low + (high - low) * rng.random((size, len(cont)))
    needed = int((~from_prior).sum())
    accepted: list[np.ndarray] = []
    tried = 0
    while sum(len(a) for a in accepted) < needed:
        draws = rng.multivariate_normal(mean, cov, size=max(needed, 256))
        tried += len(draws)
        accepted.append(draws[np.all((draws >= low) & (draws <= high), axis=1)])
    inside = sum(len(a) for a in accepted) / tried
    block = new[:, cont]
    block[~from_prior] = np.concatenate(accepted)[:needed]
    new[:, cont] = block
    volume = float(np.prod(high - low))
    inverse = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(2 * np.pi * cov)
    d = new[:, cont] - mean
    normal = np.exp(-0.5 * np.einsum("ij,jk,ik->i", d, inverse, d) - 0.5 * logdet) / inside
    log_prior = np.full(size, -np.log(volume))
    log_q = np.log(PRIOR_SHARE / volume + (1 - PRIOR_SHARE) * normal)
    for i in disc:
        levels = np.asarray(priors[i].values, dtype=float)
        prior_p = priors[i]._probabilities()
        post_p = np.array([weights[theta[:, i] == v].sum() for v in levels])
        q_p = 0.5 * prior_p + 0.5 * post_p
        index = rng.choice(len(levels), size=size, p=q_p / q_p.sum())
        new[:, i] = levels[index]
        log_prior += np.log(prior_p[index])
        log_q += np.log(q_p[index])
    return new, log_prior - log_q


# ----------------------------------------------------------------------------- summaries


def _weighted_stats(values: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    mean = float(np.average(values, weights=weights))
    sd = float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    q05 = float(values[order][min(np.searchsorted(cumulative, 0.05), len(values) - 1)])
    q95 = float(values[order][min(np.searchsorted(cumulative, 0.95), len(values) - 1)])
    return {"mean": mean, "sd": sd, "q05": q05, "q95": q95}


def _prior_stats(prior) -> dict[str, float]:
    if isinstance(prior, Uniform):
        return {"mean": (prior.low + prior.high) / 2, "sd": (prior.high - prior.low) / 12**0.5}
    levels = np.asarray(prior.values, dtype=float)
    p = prior._probabilities()
    mean = float(p @ levels)
    return {"mean": mean, "sd": float(np.sqrt(p @ (levels - mean) ** 2))}


def parameter_summary(result: Calibration) -> dict[str, dict[str, Any]]:
    """Prior against posterior for each parameter, and whether the evidence moved it: its mean
    shifted by over half a prior sd, or its sd shrank by over a quarter."""
    summary = {}
    for i, name in enumerate(result.names):
        values = result.population.theta[:, i]
        prior = _prior_stats(result.config.parameters[name])
        post = _weighted_stats(values, result.weights)
        moved = (
            abs(post["mean"] - prior["mean"]) > 0.5 * prior["sd"] or post["sd"] < 0.75 * prior["sd"]
        )
        summary[name] = {
            "prior": result.config.parameters[name].model_dump(by_alias=True),
            "prior_mean": round(prior["mean"], 4),
            "prior_sd": round(prior["sd"], 4),
            "mean": round(post["mean"], 4),
            "sd": round(post["sd"], 4),
            "q05": round(post["q05"], 4),
            "q95": round(post["q95"], 4),
            "moved": bool(moved),
        }
    return summary


def diagnostics(result: Calibration) -> dict[str, Any]:
    size = result.population.size
    return {
        "particles": size,
        "replications": result.config.replications,
        "seed": result.config.seed,
        "rounds": result.config.rounds,
        "learning_rate": result.rate,
        "learning_rate_loo_log_score": {str(k): round(v, 4) for k, v in result.rate_scores.items()},
        "first_round_effective_sample_size": round(result.first_round_ess or 0.0, 2),
        "effective_sample_size": round(ess(result.weights), 2),
        "acceptance": round(ess(result.weights) / size, 4),
        "loo_effective_sample_size": {k: round(ess(w), 2) for k, w in result.loo_weights.items()},
        "episode_log_likelihood": {
            k: {
                "prior_mean": round(float(np.log(np.sum(result.prior_weights * np.exp(v)))), 4),
                "posterior_mean": round(float(np.log(np.sum(result.weights * np.exp(v)))), 4),
            }
            for k, v in result.loglik.items()
        },
    }


def posterior_meta(result: Calibration, scores: dict[str, float], loo: dict) -> dict[str, Any]:
    return {
        "model_version": model_version(),
        "created": dt.datetime.now(dt.UTC).date().isoformat(),
        "method": "importance sampling over a prior population, record-kernel likelihood",
        "seed": result.config.seed,
        "episodes": [e.name for e in result.episodes],
        "parameters": parameter_summary(result),
        "diagnostics": diagnostics(result),
        "scores": scores,
        "loo": loo,
    }


def particles_table(result: Calibration):
    import pandas as pd

    table = pd.DataFrame(result.population.theta, columns=result.names)
    table["weight"] = result.weights
    for name, values in result.loglik.items():
        table[f"loglik:{name}"] = values
    return table


def prior_means(config: CalibrationConfig) -> dict[str, float]:
    return {k: param_mean(v) for k, v in config.parameters.items()}
