"""A population of parameter vectors, each run against every episode with common random numbers.

This is the batch engine's natural shape for likelihood-free inference: parameter vector j is a
scenario with the calibrated values fixed, run for R replications of episode e with the seed of
e, so every vector meets the same random numbers within an episode (differences between vectors
are differences of parameters, not of luck) and independent ones across episodes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.runfolder import atomic_write_parquet
from sim.engine.model import CrisisModel
from sim.engine.streams import ReplicationStreams
from sim.evidence.episodes import Episode
from sim.evidence.simulate import Event, episode_seed, events_of, record_kernel, with_values
from sim.scenario.distributions import Param, draw


@dataclass
class Population:
    """Particles (rows of `theta`, columns `names`) and their outcome records per episode."""

    names: list[str]
    theta: np.ndarray
    frames: dict[str, pd.DataFrame]

    @property
    def size(self) -> int:
        return len(self.theta)


def draw_particles(priors: dict[str, Param], size: int, seed: int) -> np.ndarray:
    """Particles from the priors, addressed like replications (deterministic for a seed)."""
    streams = ReplicationStreams(seed, np.arange(size))
    return np.column_stack(
        [draw(prior, f"calibrate:{path}", streams) for path, prior in priors.items()]
    )


def _fingerprint(
    episode: Episode, names: list[str], theta: np.ndarray, replications: int, seed: int
) -> str:
    digest = hashlib.sha256()
    digest.update(episode.path.read_bytes())
    digest.update(episode.scenario.model_dump_json().encode())
    digest.update(json.dumps([names, replications, seed]).encode())
    digest.update(np.ascontiguousarray(theta).tobytes())
    return digest.hexdigest()[:16]


def split_parameters(names: list[str]) -> tuple[list[str], list[str]]:
    """(per-replication actor parameters, per-scenario dynamics constants)."""
    actor = [n for n in names if n.startswith("actors.")]
    return actor, [n for n in names if n not in actor]


def _set_actor_parameters(model: CrisisModel, names: list[str], values: np.ndarray) -> None:
    """Give each replication its particle's weights and rationalities ([R, P] values).

    The engine draws these per replication from the scenario; overriding the drawn arrays lets
    one batch hold many parameter vectors, which is what makes a large population affordable.
    """
    for i, name in enumerate(names):
        _, actor_id, kind, *rest = name.split(".")
        actor = model.actors[actor_id]
        if kind == "rationality":
            actor.rationality = values[:, i].copy()
        else:
            actor.weights[:, actor.factors.index(rest[0])] = values[:, i]


def simulate_episode(
    episode: Episode, names: list[str], theta: np.ndarray, replications: int, seed: int
) -> pd.DataFrame:
    """Outcome rows of every particle on one episode (column `particle` says whose).

    Particle j plays replications j*R .. j*R+R-1 of the episode's seed, so its outcomes do not
    depend on which other particles share its batch. Particles that share their dynamics
    constants (drawn from discrete levels) run together in one batch.
    """
    rng_seed = episode_seed(seed, episode.name)
    actor_names, dynamics_names = split_parameters(names)
    actor_columns = [names.index(n) for n in actor_names]
    dynamics_columns = [names.index(n) for n in dynamics_names]
    groups: dict[tuple, list[int]] = {}
    for j, row in enumerate(theta):
        groups.setdefault(tuple(row[dynamics_columns]), []).append(j)
    frames = []
    for levels, members in groups.items():
        scenario = with_values(episode.scenario, dict(zip(dynamics_names, levels, strict=True)))
        particle = np.repeat(np.asarray(members), replications)
        offset = np.tile(np.arange(replications), len(members))
        model = CrisisModel(scenario, particle * replications + offset, rng=rng_seed)
        _set_actor_parameters(model, actor_names, theta[particle][:, actor_columns])
        frame = model.run().outcome_frame()
        frame.insert(0, "particle", particle)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).sort_values(
        ["particle", "replication"], kind="stable", ignore_index=True
    )


def simulate(
    episodes: list[Episode],
    names: list[str],
    theta: np.ndarray,
    replications: int,
    seed: int,
    cache: Path | None = None,
    progress=None,
    workers: int = 1,
    scheduler: str | None = None,
) -> Population:
    """Run every particle on every episode; with `cache`, finished episodes are kept on disk
    (written atomically) so an interrupted calibration resumes where it stopped.

    Episodes run in parallel on `workers` local processes, or on a Dask cluster at `scheduler`;
    each episode's result depends only on its own seed, so the population is the same either way.
    """
    frames: dict[str, pd.DataFrame] = {}
    todo: list[tuple[Episode, Path | None]] = []
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    for episode in episodes:
        path = None
        if cache is not None:
            key = _fingerprint(episode, names, theta, replications, seed)
            path = cache / f"{episode.name}-{key}.parquet"
            if path.is_file():
                try:
                    frames[episode.name] = pd.read_parquet(path)
                    if progress:
                        progress(episode.name, reused=True)
                    continue
                except (OSError, ValueError):
                    path.unlink(missing_ok=True)  # damaged: recompute
        todo.append((episode, path))

    def finished(episode: Episode, path: Path | None, frame: pd.DataFrame) -> None:
        if path is not None:
            atomic_write_parquet(path, frame)
        frames[episode.name] = frame
        if progress:
            progress(episode.name, reused=False)

    args = (names, theta, replications, seed)
    if scheduler is not None:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = {
                client.submit(simulate_episode, e, *args, pure=False): (e, p) for e, p in todo
            }
            for future in as_completed(futures):
                finished(*futures[future], future.result())
    elif workers > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # Not plain fork: the parent may run threads (Arrow's pools) that fork would copy.
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(simulate_episode, e, *args): (e, p) for e, p in todo}
            for future in as_completed(futures):
                finished(*futures[future], future.result())
    else:
        for episode, path in todo:
            finished(episode, path, simulate_episode(episode, *args))
    return Population(names, theta, {e.name: frames[e.name] for e in episodes})


def log_likelihood(frame: pd.DataFrame, events: list[Event], size: int) -> np.ndarray:
    """Per particle: log of the mean over its replications of the record kernel."""
    kernel = record_kernel(events, frame)
    sums = np.bincount(frame["particle"].to_numpy(), weights=kernel, minlength=size)
    counts = np.bincount(frame["particle"].to_numpy(), minlength=size)
    return np.log(np.maximum(sums / np.maximum(counts, 1), 1e-300))


def event_probabilities(frame: pd.DataFrame, event: Event, size: int) -> np.ndarray:
    """Per particle: the share of its replications in which the observed event happened."""
    hit = event.happened(frame[event.field].to_numpy()).astype(float)
    particle = frame["particle"].to_numpy()
    return np.bincount(particle, weights=hit, minlength=size) / np.maximum(
        np.bincount(particle, minlength=size), 1
    )


def episode_events(episodes: list[Episode]) -> dict[str, list[Event]]:
    return {e.name: events_of(e.name, e.scenario, e.observed) for e in episodes}


def normalise(log_weights: np.ndarray) -> np.ndarray:
    shifted = np.exp(log_weights - log_weights.max())
    return shifted / shifted.sum()


def ess(weights: np.ndarray) -> float:
    return float(1.0 / np.sum(weights**2))


def with_theta(episode: Episode, names: list[str], row: np.ndarray):
    return with_values(episode.scenario, dict(zip(names, row, strict=True)))
