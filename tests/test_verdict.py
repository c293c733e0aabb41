"""The verdict: the answer to the question in words, with intervals, where users look first."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis import stats
from sim.batch.runner import run_batch
from sim.scenario.config import CONFIG_ROOT


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verdict") / "baseline"
    run_batch(CONFIG_ROOT / "baseline.yaml", runs=80, workers=1, out=out, show_progress=False)
    return out


def test_summary_json_has_a_headline_with_intervals(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    headline = summary["headline"]
    outcomes = pd.read_parquet(folder / "outcomes.parquet")
    for power, label in (("russia", "Russia"), ("china", "China")):
        block = headline[power]
        assert block["label"] == label
        beyond = block["beyond_words"]
        k = int((outcomes[f"{power}_max_support"] >= 3).sum())
        assert beyond["k"] == k and beyond["n"] == 80
        assert beyond["ci"] == pytest.approx(list(stats.wilson_interval(k, 80)))
        assert 0 <= beyond["ci"][0] <= beyond["p"] <= beyond["ci"][1] <= 1
        assert f"{beyond['p'] * 100:.1f} %" in headline["text"]
    assert headline["text"].startswith(("No:", "Only partly:", "Partly:"))
    assert "_" not in headline["text"]  # words, not field names


def test_summary_md_and_the_batch_output_open_with_it(folder: Path) -> None:
    text = (folder / "summary.md").read_text()
    first = text.split("\n\n")[1]
    assert first.startswith("**Can Iran rely on Russia and China?**")
    assert json.loads((folder / "summary.json").read_text())["headline"]["text"] in first


def test_a_smaller_rerun_says_which_subset_it_describes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_batch(CONFIG_ROOT / "baseline.yaml", runs=60, workers=1, out=out, show_progress=False)
    run_batch(CONFIG_ROOT / "baseline.yaml", runs=40, workers=1, out=out, show_progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subset"] == {"used": 40, "saved": 60}
    assert "40 of the 60 replications saved" in (out / "summary.md").read_text()


def _sweep_headline(tmp_path: Path, name: str, sweep: str) -> dict:
    """Run 60 replications per point of the baseline with `sweep` (the lines of an experiment
    block after `replications`) and return the headline of its summary."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\nname: {name}\nexperiment:\n"
        f"  replications: 60\n{sweep}",
        encoding="utf-8",
    )
    run_batch(config, workers=1, out=tmp_path / "run", show_progress=False)
    return json.loads((tmp_path / "run" / "summary.json").read_text())["headline"]


def test_a_sweep_says_what_changes_the_answer(tmp_path: Path) -> None:
    headline = _sweep_headline(
        tmp_path, "tiny", "  grid:\n    context.russia_ukraine_commitment: [0.05, 0.95]\n"
    )
    russia = next(m for m in headline["moves"] if m.startswith("Russia"))
    assert "Russia's Ukraine commitment = 0.05" in russia
    assert "Russia's Ukraine commitment moves it most" in russia


def test_a_scenario_list_names_its_scenarios_as_their_files_do(tmp_path: Path) -> None:
    """Scenario names are identifiers: code type in summary.md, <code> in the report."""
    from sim.analysis.results import Results
    from sim.output.report import build_report

    headline = _sweep_headline(tmp_path, "pair", "  scenarios: [baseline, regime_change]\n")
    moves = " ".join(headline["moves"])
    assert "`regime_change`" in moves and " regime_change " not in moves
    html = build_report(Results.load(tmp_path / "run"))
    assert "<code>regime_change</code>" in html and "`regime_change`" not in html
