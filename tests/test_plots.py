"""Figures of a results folder: every figure type renders headless, as valid PNG and SVG files
with the expected content; `wargame plot` draws per-point overlays for sweeps and fails with
one line on folders without results."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from sim.analysis.results import Results
from sim.batch.runner import run_batch
from sim.cli import main
from sim.output import plots
from sim.scenario.config import CONFIG_ROOT
from sim.scenario.errors import WargameError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUPPORT_RUNGS = [
    "none",
    "rhetoric",
    "diplomatic backing",
    "economic lifeline",
    "intelligence sharing",
    "technical aid",
    "arms transfers",
    "direct intervention",
]


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Results:
    out = tmp_path_factory.mktemp("plots") / "baseline"
    run_batch(CONFIG_ROOT / "baseline.yaml", runs=40, workers=1, out=out, show_progress=False)
    return Results.load(out)


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    config = folder / "grid.yaml"
    config.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\n"
        "name: tiny_grid\n"
        "experiment:\n"
        "  replications: 30\n"
        "  seed: 7\n"
        "  grid:\n"
        "    context.russia_ukraine_commitment: [0.1, 0.9]\n",
        encoding="utf-8",
    )
    out = folder / "run"
    run_batch(config, workers=1, out=out, show_progress=False)
    return out


@pytest.fixture(scope="module")
def single_plots(single: Results, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every figure of the small run, PNG and SVG (low resolution to keep tests fast)."""
    target = tmp_path_factory.mktemp("figures")
    paths, notes = plots.save_all(single, target, ("png", "svg"), dpi=50)
    # only outcomes that never vary go undrawn, and the note names them in words
    constant = [f for f in single.fields if single.outcomes[f].nunique() == 1]
    assert constant and len(notes) == 1
    assert all(single.labels.outcome(f) in notes[0] for f in constant)
    assert len(paths) == 2 * len(plots.figure_specs(single)[0])
    return target


def check_png(path: Path) -> np.ndarray:
    payload = path.read_bytes()
    assert payload.startswith(PNG_SIGNATURE), path.name
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 200, path.name
    return image


def svg_text(path: Path) -> str:
    """All text of an SVG file (it must parse as XML); figures keep their text as text."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), path.name
    return " ".join(t.strip() for t in root.itertext() if t.strip())


# ----------------------------------------------------------------------------- a single run


def test_every_figure_type_is_a_valid_png_and_svg(single: Results, single_plots: Path) -> None:
    specs, _ = plots.figure_specs(single)
    names = {spec.name for spec in specs}
    expected = {
        "key_probabilities",
        "support_ladder",
        "end_states",
        "over_time_escalation",
        "over_time_russia_support",
        "fan_oil_price",
        "first_events",
        "factors_russia",
        "factors_china",
        *(f"outcome_{f}" for f in single.fields if single.outcomes[f].nunique() > 1),
    }
    assert expected <= names
    for name in names:
        check_png(single_plots / f"{name}.png")
        text = svg_text(single_plots / f"{name}.svg")
        # every figure names the scenario and the number of replications
        assert "baseline" in text and "n = 40" in text, name
        assert "?" in text, f"{name}: no question in the title"


def test_every_outcome_field_has_a_histogram(single: Results, single_plots: Path) -> None:
    fields = set(single.fields)
    assert {"war", "max_escalation", "peak_oil_price", "gulf_qatar_stance"} <= fields
    for field in fields:
        varies = single.outcomes[field].nunique() > 1
        assert (single_plots / f"outcome_{field}.png").is_file() == varies, field
    oil = svg_text(single_plots / "outcome_peak_oil_price.svg")
    assert "$/bbl" in oil and "median" in oil and "share of replications (%)" in oil


def test_support_ladder_names_every_rung_for_both_powers(single_plots: Path) -> None:
    text = svg_text(single_plots / "support_ladder.svg")
    for level, rung in enumerate(SUPPORT_RUNGS):
        assert f"{level} {rung}" in text
    assert "Russia" in text and "China" in text
    assert "How far do Russia and China go to support Iran?" in text
    assert "Wilson" in text


def test_ladder_outcomes_and_fans_use_ladder_names(single_plots: Path) -> None:
    assert "7 direct intervention" in svg_text(single_plots / "outcome_china_max_support.svg")
    escalation = svg_text(single_plots / "over_time_escalation.svg")
    assert "8 regime change war" in escalation and "4 limited strikes" in escalation
    assert "carried forward" in escalation and "Share of runs on each rung" in escalation
    oil = svg_text(single_plots / "fan_oil_price.svg")
    assert "$/bbl" in oil and "90 % band" in oil


def test_end_states_and_first_events(single_plots: Path) -> None:
    ends = svg_text(single_plots / "end_states.svg")
    for state in ("settlement", "ceasefire", "regime collapse", "horizon"):
        assert state in ends
    events = svg_text(single_plots / "first_events.svg")
    assert "war" in events and "covert support" in events and "Hormuz" in events
    assert "Cumulative incidence" in events


def test_factor_chart_shows_factors_and_rungs(single_plots: Path) -> None:
    text = svg_text(single_plots / "factors_russia.svg")
    assert "Ukraine commitment" in text and "net utility" in text
    assert "2 diplomatic backing" in text
    assert "What pushed Russia towards or away" in text


def test_figure_functions_return_titled_figures(single: Results, tmp_path: Path) -> None:
    figures = {
        "outcome": plots.outcome_figure(single, "russia_max_support"),
        "ladder": plots.support_ladder_figure(single),
        "ends": plots.end_states_figure(single),
        "fan": plots.fan_figure(single, "oil_price"),
        "fan_active": plots.fan_figure(single, "iran_stability", active_only=True),
        "events": plots.first_events_figure(single),
        "factors": plots.factors_figure(single, "china"),
        "oil_purchases": plots.factors_figure(single, "china", menu="oil_purchases"),
        "key": plots.key_probabilities_figure(single),
        "compare": plots.comparison_figure(single, single),
    }
    for name, figure in figures.items():
        assert isinstance(figure, Figure), name
        title = plots.figure_title(figure)
        assert "baseline" in title and "?" in title, (name, title)
    assert "n = 40 replications" in plots.figure_title(figures["ladder"])
    assert "only replications still running" in svg_text(
        plots.save_figure(figures["fan_active"], tmp_path / "active", ("svg",))[0]
    )


def test_plotting_leaves_no_global_state(single: Results) -> None:
    before = dict(matplotlib.rcParams)
    plots.support_ladder_figure(single)
    plots.outcome_figure(single, "war")
    assert dict(matplotlib.rcParams) == before
    import matplotlib.pyplot as plt  # only to check that no pyplot figure was opened

    assert plt.get_fignums() == []


def test_bad_requests_are_one_line_errors(single: Results) -> None:
    with pytest.raises(WargameError, match="not an outcome"):
        plots.outcome_figure(single, "no_such_field")
    with pytest.raises(WargameError, match="not a trajectory variable"):
        plots.fan_figure(single, "no_such_variable")
    with pytest.raises(WargameError, match="no 'main' decisions"):
        plots.factors_figure(single, "atlantis")


def test_the_numbers_behind_the_figures_agree_with_the_outcomes(single: Results) -> None:
    table = plots.key_probabilities(single).set_index("key")
    assert table.loc["war", "p"] == pytest.approx(single.outcomes["war"].mean())
    assert table.loc["war", "ci_low"] <= table.loc["war", "p"] <= table.loc["war", "ci_high"]
    # trajectories are kept for every replication here, so the curve ends at P(war)
    first = plots.first_event_turns(single)
    war = [c for c in first.columns if c.startswith("war")][0]
    assert first[war].notna().mean() == pytest.approx(single.outcomes["war"].mean())
    factors = plots.factor_table(single, "russia")
    assert factors["share"].sum() == pytest.approx(1.0)


def test_missing_optional_tables_skip_their_figures(single: Results, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(single.path, copy)
    (copy / "trajectories.parquet").unlink()
    (copy / "decisions.parquet").unlink()
    specs, notes = plots.figure_specs(Results.load(copy))
    names = {spec.name for spec in specs}
    assert not any(n.startswith(("fan_", "first_", "factors_")) for n in names)
    assert "support_ladder" in names
    assert sum("skipped" in note for note in notes) == 2


# ----------------------------------------------------------------------------- sweeps and the CLI


def test_plot_command_draws_per_point_overlays_for_a_sweep(
    sweep_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["plot", str(sweep_folder), "--format", "svg"])  # SVG only, to keep the test fast
    out = capsys.readouterr().out
    figures = sweep_folder / "plots"
    assert f"in {figures}" in out
    specs, _ = plots.figure_specs(Results.load(sweep_folder))
    assert sorted(p.stem for p in figures.glob("*.svg")) == sorted(s.name for s in specs)
    assert not list(figures.glob("*.png"))
    for name in ("outcome_war", "outcome_russia_max_support", "support_ladder", "fan_oil_price"):
        text = svg_text(figures / f"{name}.svg")
        # one row or panel per sweep point, labelled with its parameter value
        assert "Russia's Ukraine commitment = 0.1" in text, name
        assert "Russia's Ukraine commitment = 0.9" in text, name
        assert "tiny_grid" in text and "2 sweep points" in text, name
    assert "Wilson" in svg_text(figures / "outcome_war.svg")
    assert "first" in svg_text(figures / "first_events.svg")
    png = plots.save_figure(
        plots.key_probabilities_figure(Results.load(sweep_folder)), figures / "k"
    )
    check_png(png[0])


def test_scenario_lists_are_labelled_by_scenario(tmp_path: Path) -> None:
    config = tmp_path / "list.yaml"
    config.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\n"
        "name: tiny_list\n"
        "experiment:\n"
        "  replications: 20\n"
        "  scenarios: [baseline, ukraine_ceasefire]\n",
        encoding="utf-8",
    )
    run_batch(config, workers=1, out=tmp_path / "run", show_progress=False)
    results = Results.load(tmp_path / "run")
    figure = plots.outcome_figure(results, "china_intervened")
    title = plots.figure_title(figure)
    assert "tiny_list" in title and "2 scenarios" in title
    text = svg_text(plots.save_figure(figure, tmp_path / "war", ("svg",))[0])
    assert "baseline" in text and "ukraine_ceasefire" in text


@pytest.mark.parametrize("setup", ["missing", "empty", "manifest_only"])
def test_plot_command_without_results_exits_2_with_one_line(
    setup: str, tmp_path: Path, single: Results, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    if setup != "missing":
        folder.mkdir()
    if setup == "manifest_only":
        shutil.copy(single.path / "manifest.json", folder / "manifest.json")
    with pytest.raises(SystemExit) as exit_info:
        main(["plot", str(folder)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert not (folder / "plots").exists()


def test_rung_shares_per_turn_are_the_trajectories_distribution(single: Results) -> None:
    from sim.analysis import measures

    frame = single.trajectories[single.trajectories.point == 0]
    shares = measures.rung_shares(frame, "escalation", len(single.labels.escalation_ladder))
    assert np.allclose(shares.sum(axis=1), 1.0)
    last = frame[frame.turn == frame.turn.max()]["escalation"]
    for rung in range(len(single.labels.escalation_ladder)):
        assert shares.iloc[-1][rung] == pytest.approx((last == rung).mean())


def test_rerun_with_more_runs_redraws_and_nothing_stale_survives(tmp_path: Path) -> None:
    out = tmp_path / "run"
    config = CONFIG_ROOT / "baseline.yaml"
    run_batch(config, runs=30, workers=1, out=out, show_progress=False)
    first = Results.load(out)
    drawn: list[bool] = []
    plots.save_all(first, formats=("svg",), dpi=50)
    stale = out / "plots" / "outcome_no_longer_drawn.svg"
    cache = json.loads((out / "plots" / ".gallery.json").read_text())
    cache["figures"]["outcome_no_longer_drawn"] = {"key": "x", "formats": ["svg"]}
    (out / "plots" / ".gallery.json").write_text(json.dumps(cache))
    stale.write_text("<svg/>")
    # nothing new: every figure is reused
    plots.save_all(first, formats=("svg",), dpi=50, progress=lambda i, n, f, d: drawn.append(d))
    assert drawn and not any(drawn)
    assert not stale.exists()
    # more runs in the same folder: every figure is redrawn and says so
    run_batch(config, runs=45, workers=1, out=out, show_progress=False)
    drawn.clear()
    plots.save_all(
        Results.load(out), formats=("svg",), dpi=50, progress=lambda *a: drawn.append(a[3])
    )
    assert drawn and all(drawn)
    assert "n = 45" in svg_text(out / "plots" / "key_probabilities.svg")
    assert "n = 30" not in svg_text(out / "plots" / "support_ladder.svg")
