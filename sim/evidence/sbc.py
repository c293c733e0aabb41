"""Simulation-based calibration of the calibration: draw parameters from the prior, simulate an
"observed" record from them, calibrate against it, and see where the truth falls in the
posterior. If the inference is right, the truth's posterior rank is uniform and a central
credible interval holds it at its nominal rate (Talts et al. 2018)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.evidence.episodes import Episode
from sim.evidence.observed import Observation
from sim.evidence.population import (
    draw_particles,
    episode_events,
    log_likelihood,
    normalise,
    simulate,
    with_theta,
)
from sim.evidence.simulate import Event, episode_seed, run
from sim.scenario.distributions import Param


@dataclass
class SBCResult:
    names: list[str]
    #: [truth, parameter] posterior CDF at the true value
    ranks: np.ndarray
    #: [truth, parameter] posterior sd over prior sd
    shrinkage: np.ndarray

    def coverage(self, level: float) -> float:
        """Share of (truth, parameter) pairs inside the central `level` credible interval."""
        return float(np.mean(np.abs(self.ranks - 0.5) <= level / 2))


def _synthetic(event: Event, value) -> Event:
    """The event as if the record had observed `value` (a continuous one as a +-5 % interval)."""
    if event.spec.kind == "continuous":
        v = float(value)
        observation = Observation(
            interval=(min(0.95 * v, 1.05 * v), max(0.95 * v, 1.05 * v)),
            source="simulated",
            confidence="established",
        )
    else:
        plain = value.item() if hasattr(value, "item") else value
        observation = Observation(value=plain, source="simulated", confidence="established")
    return Event(event.episode, event.field, event.spec, observation)


def run_sbc(
    episodes: list[Episode],
    priors: dict[str, Param],
    particles: int,
    replications: int,
    truths: int,
    seed: int,
    fields: list[str] | None = None,
    temper: float = 1.0,
) -> SBCResult:
    """`fields` limits the simulated record to these outcome fields (all observed ones if None);
    `temper` raises the likelihood to a power (1 is Bayes; above 1 is an overconfident
    posterior, the negative control that shows the check can fail)."""
    names = list(priors)
    theta = draw_particles(priors, particles, seed)
    population = simulate(episodes, names, theta, replications, seed)
    events = {
        name: [e for e in evs if fields is None or e.field in fields]
        for name, evs in episode_events(episodes).items()
    }
    true_theta = draw_particles(priors, truths, seed + 1)
    prior_sd = theta.std(axis=0)
    ranks = np.zeros((truths, len(names)))
    shrinkage = np.zeros((truths, len(names)))
    for t, row in enumerate(true_theta):
        loglik = np.zeros(particles)
        for episode in episodes:
            frame = run(
                with_theta(episode, names, row), 1, episode_seed(seed + 1000 + t, episode.name)
            )
            record = [_synthetic(e, frame[e.field].iloc[0]) for e in events[episode.name]]
            loglik += log_likelihood(population.frames[episode.name], record, particles)
        weights = normalise(temper * loglik)
        for i in range(len(names)):
            below = weights[theta[:, i] < row[i]].sum()
            ranks[t, i] = below
            mean = np.dot(weights, theta[:, i])
            shrinkage[t, i] = np.sqrt(np.dot(weights, (theta[:, i] - mean) ** 2)) / prior_sd[i]
    return SBCResult(names, ranks, shrinkage)
