"""Global sensitivity analysis of sampled experiments (Sobol and Morris designs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.analysis import sensitivity
from sim.analysis.labels import Labels
from sim.analysis.results import Results
from sim.batch.runner import run_batch
from sim.scenario.errors import WargameError

ROOT = Path(__file__).resolve().parent.parent
WARGAME = str(Path(sys.executable).with_name("wargame"))
RANGES = (
    "    ranges:\n"
    "      context.russia_ukraine_commitment: [0.1, 0.9]\n"
    "      actors.saudi_arabia.weights.china_trade: [0.8, 1.2]\n"
)


def sampled_run(tmp_path: Path, method: str, points: int, runs: int = 120) -> Results:
    config = tmp_path / f"{method}.yaml"
    config.write_text(
        f"extends: {ROOT / 'configs' / 'baseline.yaml'}\nname: {method}_test\n"
        f"experiment:\n  trajectories: 0\n  sample:\n    method: {method}\n"
        f"    points: {points}\n{RANGES}"
    )
    report = run_batch(config, runs=runs, workers=1, out=tmp_path / method, show_progress=False)
    return Results.load(report.folder)


def test_sobol_design_ranks_the_factor_that_matters_first(tmp_path):
    results = sampled_run(tmp_path, "sobol", points=8)
    assert results.outcomes.point.nunique() == 8 * (2 + 2)  # Saltelli: N (k + 2)
    analysis = sensitivity.analyse(results, ["russia_max_support"])
    indices = analysis["outcomes"]["russia_max_support"]
    ukraine = indices["context.russia_ukraine_commitment"]
    saudi = indices["actors.saudi_arabia.weights.china_trade"]
    # Russia's Ukraine commitment drives its support; a Saudi weight hardly touches it.
    assert ukraine["ST"] > 0.5
    assert ukraine["ST"] > saudi["ST"] + 0.3
    sensitivity.write(results, analysis)
    assert json.loads((results.path / "sensitivity.json").read_text())["method"] == "sobol"
    text = (results.path / "sensitivity.md").read_text()
    assert "context.russia_ukraine_commitment" in text
    # 8 base samples: the design is flagged as too small, loudly, with intervals shown
    assert analysis["warnings"] and "8 base samples" in analysis["warnings"][0]
    assert "**Warning: the design is too small for stable indices.**" in text
    assert "[95 % interval]" in text


def test_unstable_indices_are_named_in_words(scenario):
    noisy = {
        "method": "sobol",
        "base_samples": 32,
        "outcomes": {
            "war": {
                "a": {"S1": -0.2, "S1_conf": 0.3, "ST": 1.6, "ST_conf": 0.4},
                "b": {"S1": 0.1, "S1_conf": 0.02, "ST": 0.2, "ST_conf": 0.03},
            },
            "steady": {
                "a": {"S1": 0.6, "S1_conf": 0.02, "ST": 0.7, "ST_conf": 0.03},
                "b": {"S1": 0.2, "S1_conf": 0.02, "ST": 0.3, "ST_conf": 0.03},
            },
        },
    }
    labels = Labels.from_scenario(scenario("baseline"))
    warnings = sensitivity.stability(noisy, labels)
    assert "32 base samples" in warnings[0]
    war = next(w for w in warnings if w.startswith("US-Iran war:"))
    assert "total index above 1" in war and "negative first-order" in war
    assert not any(w.startswith("Steady") for w in warnings)
    assert not any(w.startswith("war") for w in warnings), "outcomes are named in words"
    noisy["base_samples"] = 1024
    assert len(sensitivity.stability(noisy, labels)) == 1


def test_morris_design_and_command(tmp_path):
    results = sampled_run(tmp_path, "morris", points=4)
    assert results.outcomes.point.nunique() == 4 * (2 + 1)  # trajectories of k + 1 points
    shown = subprocess.run(
        [WARGAME, "sensitivity", str(results.path), "--outcome", "russia_max_support"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "mu*" in shown.stdout
    assert (results.path / "plots" / "sensitivity_russia_max_support.png").is_file()
    analysis = json.loads((results.path / "sensitivity.json").read_text())
    indices = analysis["outcomes"]["russia_max_support"]
    assert (
        indices["context.russia_ukraine_commitment"]["mu_star"]
        > indices["actors.saudi_arabia.weights.china_trade"]["mu_star"]
    )


def test_sensitivity_needs_a_sensitivity_design(tmp_path):
    results = sampled_run(tmp_path, "lhs", points=3, runs=20)
    with pytest.raises(WargameError, match="sobol or morris"):
        sensitivity.analyse(results)
    refused = subprocess.run(
        [WARGAME, "sensitivity", str(results.path)], capture_output=True, text=True
    )
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1


def test_large_sampled_design_is_plotted_pooled(tmp_path):
    from sim.output import plots

    results = sampled_run(tmp_path, "sobol", points=4, runs=40)  # 16 points
    specs, notes = plots.figure_specs(results)
    assert any("the figures pool them" in note for note in notes)
    ladder = next(spec for spec in specs if spec.name == "support_ladder").draw()
    title = plots.figure_title(ladder)
    assert "sweep points" not in title and f"{16 * 40:,}" in title
    pooled = results.pooled()
    assert pooled.outcomes.point.nunique() == 1 and len(pooled.outcomes) == 16 * 40
    assert pooled.decisions["count"].sum() == results.decisions["count"].sum()
