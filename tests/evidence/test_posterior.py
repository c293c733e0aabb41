"""The posterior store: scenarios use it by default, keep what they set themselves, run the
prior with --prior, and refuse a posterior from another model version in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engine.model import CrisisModel
from sim.evidence.posterior import PARTICLE_STREAM, load_posterior, write_posterior
from sim.evidence.provenance import parameters_of
from sim.scenario.config import CONFIG_ROOT, load_scenario
from sim.scenario.distributions import Choice
from sim.scenario.errors import ConfigError

BASELINE = CONFIG_ROOT / "baseline.yaml"
PARAMETERS = {
    "actors.iran.rationality": [1.5, 4.5],
    "actors.china.weights.secondary_sanctions_fear": [0.6, 1.4],
    "dynamics.escalation.ceasefire_base": [0.02, 0.1],
}


@pytest.fixture
def posterior(tmp_path):
    table = pd.DataFrame({k: v for k, v in PARAMETERS.items()})
    table["weight"] = [0.25, 0.75]
    meta = {
        "model_version": __import__("sim").__version__,
        "created": "2025-12-31",
        "episodes": ["a", "b"],
        "parameters": {k: {} for k in PARAMETERS},
        "scores": {
            "loo_brier": 0.2,
            "loo_log_score": 0.6,
            "base_rate_brier": 0.25,
            "base_rate_log_score": 0.7,
        },
    }
    return write_posterior(tmp_path / "posterior", meta, table)


def scenario_file(tmp_path, posterior, extra: str = "") -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(
        f"extends: {BASELINE}\nname: mine\ncalibration: {posterior}\n{extra}", encoding="utf-8"
    )
    return str(path)


def test_a_users_scenario_draws_the_calibrated_parameters_jointly(tmp_path, posterior):
    scenario = load_scenario(scenario_file(tmp_path, posterior))
    rationality = scenario.actors["iran"].rationality
    fear = scenario.actors["china"].weights["secondary_sanctions_fear"]
    assert isinstance(rationality, Choice) and rationality.stream == PARTICLE_STREAM
    assert isinstance(fear, Choice) and fear.stream == PARTICLE_STREAM
    assert rationality.values == [1.5, 4.5] and rationality.p == pytest.approx([0.25, 0.75])
    assert scenario.dynamics.escalation.ceasefire_base == pytest.approx(0.25 * 0.02 + 0.75 * 0.1)
    model = CrisisModel(scenario, 2000, rng=1)
    drawn_r = model.actors["iran"].rationality
    drawn_f = model.actors["china"].weights[
        :, model.actors["china"].factors.index("secondary_sanctions_fear")
    ]
    # one particle per replication: the two parameters always come from the same row
    assert set(zip(drawn_r.tolist(), drawn_f.tolist(), strict=True)) == {(1.5, 0.6), (4.5, 1.4)}
    assert np.mean(drawn_r == 4.5) == pytest.approx(0.75, abs=0.04)


def test_values_a_scenario_sets_itself_are_kept(tmp_path, posterior):
    extra = "actors:\n  iran:\n    rationality: 2.2\n"
    scenario = load_scenario(scenario_file(tmp_path, posterior, extra))
    assert scenario.actors["iran"].rationality == 2.2
    overridden = load_scenario(
        scenario_file(tmp_path, posterior), ["actors.china.weights.secondary_sanctions_fear=0"]
    )
    assert overridden.actors["china"].weights["secondary_sanctions_fear"] == 0


def test_prior_runs_the_uncalibrated_model(tmp_path, posterior):
    path = scenario_file(tmp_path, posterior)
    prior = load_scenario(path, ["calibration=prior"])
    uncalibrated = load_scenario(BASELINE, ["calibration=prior"])
    assert prior.actors["iran"].rationality == uncalibrated.actors["iran"].rationality
    assert not isinstance(prior.actors["iran"].rationality, Choice)
    assert parameters_of(path, ("calibration=prior",))["parameters"] == "prior"


def test_the_batch_record_names_the_posterior_and_its_score(tmp_path, posterior):
    described = parameters_of(scenario_file(tmp_path, posterior))
    assert described["parameters"] == "posterior"
    assert described["created"] == "2025-12-31"
    assert "Out of sample" in described["line"] and "0.200" in described["line"]


def test_a_posterior_from_another_model_version_is_a_one_line_error(tmp_path, posterior):
    meta = yaml.safe_load(posterior.read_text(encoding="utf-8"))
    meta["model_version"] = "0.0.1"
    posterior.write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(ConfigError, match="model_version: posterior from another model version"):
        load_scenario(scenario_file(tmp_path, posterior))
    with pytest.raises(ConfigError):
        load_posterior(posterior)


def test_a_posterior_naming_a_missing_parameter_is_refused(tmp_path):
    table = pd.DataFrame({"actors.iran.weights.courage": [1.0], "weight": [1.0]})
    meta = {
        "model_version": __import__("sim").__version__,
        "parameters": {"actors.iran.weights.courage": {}},
    }
    path = write_posterior(tmp_path / "p", meta, table)
    with pytest.raises(ConfigError, match="not a parameter of this model"):
        load_scenario(scenario_file(tmp_path, path))


def test_batch_and_report_say_which_parameters_were_used(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "run"
    main(
        [
            "batch",
            str(BASELINE),
            "--runs",
            "20",
            "--workers",
            "1",
            "--out",
            str(out),
            "--no-progress",
            "--prior",
        ]
    )
    printed = capsys.readouterr().out
    assert "Parameters: the uncalibrated prior." in printed
    assert (out / "parameters.json").is_file()
    main(["report", str(out)])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Parameters and validation" in html and "uncalibrated prior" in html
