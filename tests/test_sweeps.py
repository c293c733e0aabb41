"""Analyses for sweeps: heat maps of grids, inputs of sampled designs, scenario discovery."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import sweeps
from sim.analysis.results import Results
from sim.batch.runner import run_batch
from sim.cli import main
from sim.output import gallery, style
from sim.output.figures.sweeps import heatmap_figure
from sim.scenario.config import CONFIG_ROOT
from sim.scenario.errors import WargameError


def _run(folder: Path, name: str, experiment: str) -> Results:
    config = folder / f"{name}.yaml"
    config.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\nname: {name}\nexperiment:\n{experiment}",
        encoding="utf-8",
    )
    run_batch(config, workers=1, out=folder / name, show_progress=False)
    return Results.load(folder / name)


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return _run(
        tmp_path_factory.mktemp("grid"),
        "tiny_grid",
        "  replications: 40\n  seed: 3\n  grid:\n"
        "    context.russia_ukraine_commitment: [0.1, 0.9]\n"
        "    context.china_taiwan_tension: [0.1, 0.5, 0.9]\n",
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return _run(
        tmp_path_factory.mktemp("sample"),
        "tiny_sample",
        "  replications: 40\n  seed: 3\n  sample:\n    method: lhs\n    points: 16\n"
        "    ranges:\n      context.russia_ukraine_commitment: [0.0, 1.0]\n"
        "      context.sanctions_intensity: [0.3, 0.95]\n",
    )


def test_grid_cells_and_paired_differences_agree_with_the_outcomes(grid: Results) -> None:
    outcome = sweeps.evaluate(grid, "russia_max_support >= 3")
    assert outcome.is_probability and outcome.words == "Russia reaches economic lifeline or more"
    table = sweeps.per_point(grid, outcome).set_index("point")
    frame = grid.outcomes
    for point, rows in frame.groupby("point"):
        expected = (rows["russia_max_support"] >= 3).mean()
        assert table.loc[point, "estimate"] == pytest.approx(expected)
        assert table.loc[point, "low"] <= expected <= table.loc[point, "high"]
        reference = (frame[frame.point == 0]["russia_max_support"] >= 3).mean()
        assert table.loc[point, "difference"] == pytest.approx(expected - reference)
    assert table.loc[0, "difference"] == 0


def test_a_two_parameter_grid_gets_heat_maps(grid: Results) -> None:
    specs, _ = gallery.figure_specs(grid)
    heat = [s for s in specs if s.section == "sweeps"]
    assert heat and all(s.name.startswith("heatmap_") for s in heat)
    title = style.figure_title(heat[0].draw())
    assert "How do the two swept parameters change this" in title and "n = 240" in title
    figure = heatmap_figure(grid, "peak_oil_price")  # any outcome, numbers too
    assert "peak oil price" in style.figure_title(figure)


def test_a_sampled_design_gets_inputs_and_partial_dependence(sample: Results) -> None:
    specs, _ = gallery.figure_specs(sample)
    names = [s.name for s in specs if s.section == "sweeps"]
    assert "inputs_russia_max_support_ge_3" in names
    # pooled over its points for the outcome figures, the design's inputs are not outcomes
    drawn = [s.name for s in specs if s.section == "outcomes"]
    assert drawn and not [n for n in drawn if any(p in n for p in sample.parameters)]
    outcome = sweeps.evaluate(sample, "russia_max_support >= 3")
    table = sweeps.per_point(sample, outcome)
    dependence = sweeps.partial_dependence(table, "context.russia_ukraine_commitment")
    assert dependence["points"].sum() == 16
    # Russia's commitment in Ukraine holds it back: less commitment, more material support
    assert dependence["mean"].iloc[0] > dependence["mean"].iloc[-1]


def test_unknown_fields_and_numbers_are_one_line_errors(sample: Results, grid: Results) -> None:
    with pytest.raises(WargameError, match="unknown field 'nosuch'"):
        sweeps.evaluate(sample, "nosuch > 1")
    from sim.analysis import discovery

    pytest.importorskip("ema_workbench")
    with pytest.raises(WargameError, match="discovery needs a condition"):
        discovery.discover(sample, "peak_oil_price")


def test_discover_writes_boxes_with_coverage_and_density(
    sample: Results, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("ema_workbench")
    main(["discover", str(sample.path), "--outcome", "russia_max_support >= 3"])
    out = capsys.readouterr().out
    found = json.loads((sample.path / "discover.json").read_text())
    assert found["outcome"] == "russia_max_support >= 3"
    assert found["boxes"], out
    frame = sample.outcomes
    y = frame["russia_max_support"] >= 3
    box = found["boxes"][0]
    inside = np.ones(len(frame), dtype=bool)
    for name, (low, high) in box["limits"].items():
        values = frame[f"context.{name}"]
        inside &= (values >= low) & (values <= high)
    # coverage and density are what the box's limits give on the data
    assert box["density"] == pytest.approx(y[inside].mean(), abs=1e-9)
    assert box["coverage"] == pytest.approx((y & inside).sum() / y.sum(), abs=1e-9)
    assert box["density"] > found["base_rate"]
    # the box in words names the input that matters, and it is ranked first
    assert "Russia's Ukraine commitment <" in box["words"]
    assert max(found["feature_scores"], key=found["feature_scores"].get) == (
        "russia_ukraine_commitment"
    )
    assert "Russia reaches economic lifeline or more when" in out
    assert (sample.path / "plots" / "discover.png").is_file()


def test_discover_on_a_single_scenario_exits_2(tmp_path: Path, capsys) -> None:
    results = _run(tmp_path, "single", "  replications: 20\n")
    with pytest.raises(SystemExit) as caught:
        main(["discover", str(results.path), "--outcome", "war"])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a sweep" in err[0]


def test_the_report_shows_the_discovery_boxes(
    sample: Results, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ema_workbench")
    from sim.output import report

    main(["discover", str(sample.path), "--outcome", "russia_max_support >= 3"])
    found = json.loads((sample.path / "discover.json").read_text())
    monkeypatch.setattr(gallery, "figure_specs", lambda _: ([], []))  # the tables are the point
    page = html.unescape(report.build_report(sample))
    assert 'id="discovery"' in page and found["boxes"][0]["words"] in page


def test_a_malformed_outcome_expression_is_one_line_in_our_words(sample: Results) -> None:
    with pytest.raises(WargameError) as caught:
        sweeps.evaluate(sample, "war and (")
    message = str(caught.value)
    assert message.startswith("--outcome: cannot read 'war and ('") and "\n" not in message
    assert "EOF" not in message  # not Python's own words


def test_compare_names_the_folder_that_is_a_sweep(sample: Results) -> None:
    with pytest.raises(WargameError, match=f"^{re.escape(str(sample.path))}: compare takes two"):
        sample.compare(sample)
