"""The two jobs of the evidence stage, as the CLI calls them: validate and calibrate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.analysis.labels import Labels
from sim.batch.runfolder import atomic_write_text
from sim.evidence import figures
from sim.evidence.calibration import (
    Calibration,
    calibrate,
    check_parameters,
    load_config,
    particles_table,
    posterior_meta,
)
from sim.evidence.episodes import EPISODE_ROOT, load_library
from sim.evidence.population import event_probabilities
from sim.evidence.posterior import SHIPPED, load_posterior, write_posterior
from sim.evidence.provenance import parameters_of
from sim.evidence.scoring import Forecast
from sim.evidence.simulate import episode_seed, events_of, run
from sim.evidence.validation import build, headline, markdown
from sim.scenario.config import _display


def _write_outputs(
    out: Path,
    document: dict,
    title: str,
    parameters_line: str,
    labels: Labels,
    prior_label: str | None = None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "validation.json", json.dumps(document, indent=2, default=float) + "\n")
    label = prior_label or "uncalibrated prior"
    text = markdown(document, title, parameters_line, label, labels)
    atomic_write_text(out / "validation.md", text)
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    figures.save(figures.reliability(document), plots / "reliability.png")
    figures.save(figures.per_episode(document), plots / "episodes.png")


def _frame_forecast(frame, event) -> Forecast:
    values = frame[event.field].to_numpy()
    p = float(np.mean(event.happened(values)))
    return Forecast(p, values.astype(float) if event.numeric else None)


def validate(
    names: tuple[str, ...],
    out: Path,
    replications: int = 400,
    seed: int = 0,
    prior: bool = False,
    root: Path | None = None,
) -> dict:
    """Run each episode (common random numbers across forecasters) and score it."""
    root = root or EPISODE_ROOT
    configured = load_library(names, root, prior=prior)
    uncalibrated = load_library(names, root, prior=True)
    frames, prior_frames, events = {}, {}, {}
    for episode, bare in zip(configured, uncalibrated, strict=True):
        episode_rng = episode_seed(seed, episode.name)
        frames[episode.name] = run(episode.scenario, replications, episode_rng)
        prior_frames[episode.name] = run(bare.scenario, replications, episode_rng)
        events[episode.name] = events_of(episode.name, episode.scenario, episode.observed)
    provenance = parameters_of(configured[0].path, ("calibration=prior",) if prior else ())
    loo_table: dict = {}
    if provenance["parameters"] == "posterior":
        loo_table = load_posterior(provenance["file"]).meta.get("loo", {})

    def model(name, k, event):
        return _frame_forecast(frames[name], event)

    def prior_forecast(name, k, event):
        return _frame_forecast(prior_frames[name], event)

    def loo(name, k, event):
        p = loo_table.get(name, {}).get(event.field)
        return None if p is None else Forecast(float(p))

    document = build(events, model, {"prior": prior_forecast, "loo": loo}, seed)
    document["parameters"] = provenance
    labels = Labels.from_scenario(configured[0].scenario)
    title = "Validation against the episode library"
    _write_outputs(out, document, title, provenance["line"], labels)
    return document


# ----------------------------------------------------------------------------- calibrate


def _population_forecasts(result: Calibration):
    """Forecast functions over the particle population: posterior, LOO posterior, prior."""
    size = result.population.size
    replications = result.config.replications
    prior = result.prior_weights

    def make(weights_of):
        def forecast(name, k, event):
            weights = weights_of(name)
            frame = result.population.frames[name]
            p_particle = event_probabilities(frame, event, size)
            values = None
            row_weights = None
            if event.numeric:
                values = frame[event.field].to_numpy(dtype=float)
                row_weights = weights[frame["particle"].to_numpy()] / replications
            return Forecast(float(np.dot(weights, p_particle)), values, row_weights)

        return forecast

    return (
        make(lambda name: result.weights),
        make(lambda name: result.loo_weights[name]),
        make(lambda name: prior),
    )


def run_calibration(
    config_path: str,
    out: Path,
    install: bool = False,
    progress=None,
    workers: int = 1,
    scheduler: str | None = None,
) -> dict:
    """Calibrate, score in and out of sample, write the posterior and its diagnostics."""
    config = load_config(config_path)
    episodes = load_library(config.episodes, prior=True)
    check_parameters(config, episodes[0], _display(Path(config_path)))
    out.mkdir(parents=True, exist_ok=True)
    result = calibrate(
        config, episodes, out / "population", progress, workers=workers, scheduler=scheduler
    )
    posterior_fc, loo_fc, prior_fc = _population_forecasts(result)
    document = build(result.events, posterior_fc, {"prior": prior_fc, "loo": loo_fc}, config.seed)
    o = document["overall"]
    scores = {
        k: round(float(o[k]), 4)
        for k in (
            "brier",
            "log_score",
            "loo_brier",
            "loo_log_score",
            "base_rate_brier",
            "base_rate_log_score",
            "prior_brier",
            "prior_log_score",
        )
    }
    loo = {
        name: {r["field"]: round(r["loo"]["p"], 4) for r in ep["events"]}
        for name, ep in document["episodes"].items()
    }
    meta = posterior_meta(result, scores, loo)
    table = particles_table(result)
    target = write_posterior(out, meta, table)
    document["parameters"] = {"parameters": "calibration population", "file": _display(target)}
    _write_outputs(
        out,
        document,
        "Calibration: in-sample and leave-one-episode-out scores",
        f"Population of {config.particles} parameter vectors x {config.replications} "
        f"replications per episode; effective sample size "
        f"{meta['diagnostics']['effective_sample_size']}.",
        Labels.from_scenario(episodes[0].scenario),
        prior_label="calibration prior (population)",
    )
    atomic_write_text(out / "diagnostics.json", json.dumps(meta, indent=2, default=float) + "\n")
    atomic_write_text(out / "diagnostics.md", diagnostics_markdown(meta))
    figures.save(
        figures.parameters(
            meta["parameters"],
            result.population.theta,
            result.names,
            result.weights,
            Labels.from_scenario(episodes[0].scenario),
        ),
        out / "plots" / "parameters.png",
    )
    if install:
        write_posterior(SHIPPED.parent, meta, table)
    meta["headline"] = headline(o)
    return meta


def diagnostics_markdown(meta: dict) -> str:
    d = meta["diagnostics"]
    lines = [
        "# Calibration diagnostics",
        "",
        f"Model {meta['model_version']}, created {meta['created']}, seed {meta['seed']}, "
        f"{len(meta['episodes'])} episodes.",
        f"Particles {d['particles']} x {d['replications']} replications per episode and round "
        f"({d['rounds']} rounds); learning rate {d['learning_rate']} (chosen by the "
        f"leave-one-episode-out log score among {', '.join(d['learning_rate_loo_log_score'])}: "
        f"{', '.join(str(v) for v in d['learning_rate_loo_log_score'].values())}); effective "
        f"sample size {d['effective_sample_size']} (first round "
        f"{d['first_round_effective_sample_size']}).",
        "",
        "| parameter | prior mean (sd) | posterior mean (sd) | 90 % interval | moved |",
        "|---|---|---|---|---|",
    ]
    for name, p in meta["parameters"].items():
        lines.append(
            f"| {name} | {p['prior_mean']:.3f} ({p['prior_sd']:.3f}) | {p['mean']:.3f} "
            f"({p['sd']:.3f}) | {p['q05']:.3f}-{p['q95']:.3f} | {'yes' if p['moved'] else 'no'} |"
        )
    lines += [
        "",
        "| episode | log-likelihood, prior mean | posterior mean | LOO ESS |",
        "|---|---|---|---|",
    ]
    for name, ll in d["episode_log_likelihood"].items():
        lines.append(
            f"| {name} | {ll['prior_mean']:.3f} | {ll['posterior_mean']:.3f} | "
            f"{d['loo_effective_sample_size'][name]} |"
        )
    s = meta["scores"]
    lines += [
        "",
        f"In sample: Brier {s['brier']:.3f}, log score {s['log_score']:.3f}. Leave one episode "
        f"out: Brier {s['loo_brier']:.3f}, log score {s['loo_log_score']:.3f}. Base rate: "
        f"{s['base_rate_brier']:.3f} / {s['base_rate_log_score']:.3f}. Calibration prior: "
        f"{s['prior_brier']:.3f} / {s['prior_log_score']:.3f}.",
    ]
    return "\n".join(lines) + "\n"
