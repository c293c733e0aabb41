"""Global sensitivity analysis of sampled experiments (Sobol and Morris designs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.analysis import sensitivity
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
    written = sensitivity.write(results, analysis)
    assert json.loads((results.path / "sensitivity.json").read_text())["method"] == "sobol"
    assert written and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    assert "context.russia_ukraine_commitment" in (results.path / "sensitivity.md").read_text()


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
