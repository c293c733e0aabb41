"""Calibration: a smoke run in seconds, determinism, interrupted runs, leave-one-out weights,
and simulation-based calibration of the inference itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.evidence import population as population_module
from sim.evidence.calibration import CalibrationConfig, calibrate, load_config, weigh
from sim.evidence.episodes import load_library
from sim.evidence.posterior import load_posterior
from sim.evidence.sbc import run_sbc
from sim.evidence.stage import run_calibration
from sim.scenario.distributions import Uniform
from sim.scenario.errors import ConfigError

SMOKE = {
    "episodes": ["2020_soleimani", "2024_haniyeh"],
    "particles": 12,
    "replications": 4,
    "seed": 5,
    "rounds": 2,
    "parameters": {
        "actors.united_states.weights.cost_aversion": {"dist": "uniform", "low": 0.5, "high": 1.5},
        "dynamics.escalation.ceasefire_base": {"dist": "choice", "values": [0.02, 0.1]},
    },
}


@pytest.fixture(scope="module")
def smoke_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "calibration.yaml"
    path.write_text(yaml.safe_dump(SMOKE), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def smoke_run(smoke_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    meta = run_calibration(str(smoke_config), out)
    return out, meta


def test_smoke_calibration_writes_a_posterior_and_its_diagnostics(smoke_run):
    out, meta = smoke_run
    posterior = load_posterior(out / "posterior.yaml")
    assert len(posterior.particles) == SMOKE["particles"]
    assert posterior.particles["weight"].sum() == pytest.approx(1.0)
    assert set(meta["parameters"]) == set(SMOKE["parameters"])
    assert 1.0 <= meta["diagnostics"]["effective_sample_size"] <= SMOKE["particles"]
    assert meta["episodes"] == SMOKE["episodes"]
    for file in (
        "validation.json",
        "validation.md",
        "diagnostics.md",
        "plots/parameters.png",
        "plots/reliability.png",
        "plots/episodes.png",
    ):
        assert (out / file).is_file(), file


def test_the_same_seed_gives_the_same_posterior(smoke_config, smoke_run, tmp_path):
    out, meta = smoke_run
    again = run_calibration(str(smoke_config), tmp_path)
    first = load_posterior(out / "posterior.yaml").particles
    second = load_posterior(tmp_path / "posterior.yaml").particles
    pd.testing.assert_frame_equal(first, second)
    assert again["scores"] == meta["scores"]


def test_an_interrupted_calibration_resumes_from_the_finished_episodes(
    smoke_config, tmp_path, monkeypatch
):
    calls = []
    original = population_module.simulate_episode

    def interrupt_second(episode, *args):
        calls.append(episode.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(episode, *args)

    monkeypatch.setattr(population_module, "simulate_episode", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        run_calibration(str(smoke_config), tmp_path)
    assert not (tmp_path / "posterior.yaml").exists()
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.setattr(population_module, "simulate_episode", original)
    reused_ = []
    run_calibration(str(smoke_config), tmp_path, progress=lambda n, reused: reused_.append(reused))
    assert reused_[:2] == [True, False]  # the first round resumes; the second is new


def test_an_interrupted_write_leaves_the_old_posterior_whole(
    smoke_config, smoke_run, tmp_path, monkeypatch
):
    out, _ = smoke_run
    folder = tmp_path / "posterior"
    folder.mkdir()
    for file in out.glob("particles-*.parquet"):
        (folder / file.name).write_bytes(file.read_bytes())
    (folder / "posterior.yaml").write_bytes((out / "posterior.yaml").read_bytes())
    before = (folder / "posterior.yaml").read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    import sim.batch.runfolder as files_module
    import sim.evidence.posterior as posterior_module

    monkeypatch.setattr(files_module.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        posterior_module.write_posterior(
            folder, {"model_version": "x", "parameters": {}}, pd.DataFrame({"weight": [1.0]})
        )
    assert (folder / "posterior.yaml").read_bytes() == before
    assert not list(folder.glob(".*.tmp"))
    load_posterior(folder / "posterior.yaml")


def test_leave_one_out_weights_ignore_the_held_out_episode():
    loglik = {"a": np.array([0.0, -5.0, -1.0]), "b": np.array([-3.0, 0.0, -1.0])}
    without_a = weigh(loglik, leave_out="a")
    assert without_a == pytest.approx(weigh({"b": loglik["b"]}))
    assert np.argmax(without_a) == 1 and np.argmax(weigh({"a": loglik["a"]})) == 0


def test_a_config_naming_no_such_parameter_is_a_one_line_error(tmp_path):
    bad = dict(
        SMOKE, parameters={"actors.iran.weights.courage": {"dist": "uniform", "low": 0, "high": 1}}
    )
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(
        ConfigError, match="parameters.actors.iran.weights.courage: not a parameter"
    ):
        run_calibration(str(path), tmp_path / "out")
    path.write_text("particles: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="parameters: missing required field"):
        load_config(path)


def test_the_likelihood_favours_parameters_that_reproduce_the_record():
    """Counter-check: in the 2024 Haniyeh episode (no war within eight weeks) the chance of the
    record's "no war" rises with US cost aversion, the factor that keeps Washington from
    striking, and so does the likelihood of the whole record."""
    episodes = load_library(["2024_haniyeh"], prior=True)
    config = CalibrationConfig.model_validate(
        {
            "particles": 48,
            "replications": 32,
            "seed": 2,
            "rounds": 1,
            "parameters": {
                "actors.united_states.weights.cost_aversion": {
                    "dist": "uniform",
                    "low": 0.2,
                    "high": 1.8,
                }
            },
        }
    )
    result = calibrate(config, episodes)
    aversion = result.population.theta[:, 0]
    fields = [e.field for e in result.events["2024_haniyeh"]]
    no_war = result.probabilities("2024_haniyeh")[:, fields.index("war")]
    assert np.corrcoef(aversion, no_war)[0, 1] > 0.5
    assert np.corrcoef(aversion, result.loglik["2024_haniyeh"])[0, 1] > 0


def test_simulation_based_calibration_covers_the_truth_at_its_nominal_rate():
    episodes = load_library(["2020_soleimani"], prior=True)
    priors = {
        "actors.united_states.weights.cost_aversion": Uniform(dist="uniform", low=0.3, high=1.7),
        "actors.iran.weights.escalation_risk": Uniform(dist="uniform", low=0.3, high=1.7),
    }
    fields = ["war", "max_escalation", "end_day", "iran_requested_help"]
    honest = run_sbc(episodes, priors, 400, 4, 60, seed=8, fields=fields)
    assert 0.30 <= honest.coverage(0.5) <= 0.70
    assert 0.75 <= honest.coverage(0.9) <= 1.0
    # The same check catches an overconfident posterior (likelihood raised to the 30th power).
    overconfident = run_sbc(episodes, priors, 400, 4, 60, seed=8, fields=fields, temper=30.0)
    assert overconfident.coverage(0.9) < 0.75


def test_parallel_workers_give_the_same_posterior(smoke_config, smoke_run, tmp_path):
    out, meta = smoke_run
    again = run_calibration(str(smoke_config), tmp_path, workers=2)
    pd.testing.assert_frame_equal(
        load_posterior(out / "posterior.yaml").particles,
        load_posterior(tmp_path / "posterior.yaml").particles,
    )
    assert again["scores"] == meta["scores"]
