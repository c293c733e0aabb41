"""What a reader sees names things in words: no field, factor, action or actor id in the text of
summary.md, the HTML report, the figures, or what `wargame check`, `run`, `batch`, `summary`,
`compare`, `sensitivity` and `discover` print.

The ids are read from the scenario and the results folder (every actor, factor, move, context
value, rung, outcome field, trajectory variable and manifest field), not listed here. Places
meant for machines are left out: code spans in Markdown and the terminal (`` `war` ``, a
`--set` path), <code> and <pre> in HTML (manifest.json, folded), JSON files.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

from sim.cli import main
from sim.engine.world import EndState
from sim.scenario.config import CONFIG_ROOT, Context, Scenario, load_scenario

pytestmark = pytest.mark.slow

#: the top-level sections of a scenario: a dotted path starting with one is a --set path
SECTIONS = ("context", "actors", "dynamics", "initial", "experiment", "ladders", "paths")
CODE_SPAN = re.compile(r"`[^`\n]*`")
SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def known_ids(scenario: Scenario, folders: list[Path]) -> set[str]:
    """Every id a reader could be shown by mistake that has an underscore in it."""
    ids = set(scenario.actors) | set(Context.model_fields) | set(scenario.incidents)
    ids |= set(scenario.ladders.escalation) | set(scenario.ladders.support)
    ids |= set(type(scenario.initial).model_fields) | {s.label for s in EndState}
    for actor in scenario.actors.values():
        ids |= set(actor.weights) | set(actor.actions)
        for action in actor.actions.values():
            ids |= set(action.loadings) | set(action.effects) | {action.menu}
    for folder in folders:
        ids |= set(pd.read_parquet(folder / "outcomes.parquet").columns)
        trajectories = folder / "trajectories.parquet"
        if trajectories.is_file():
            ids |= set(pd.read_parquet(trajectories).columns)
        ids |= set(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    return {i for i in ids if isinstance(i, str) and SNAKE.fullmatch(i)}


class VisibleText(HTMLParser):
    """The text a reader sees on a page, without code, preformatted JSON, scripts or styles."""

    HIDDEN = {"code", "pre", "script", "style"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.depth -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return "\n".join(parser.parts)


def svg_text(path: Path) -> str:
    return "\n".join(t for t in ElementTree.parse(path).getroot().itertext() if t.strip())


def ids_shown(text: str, ids: set[str]) -> list[str]:
    """Ids and --set paths outside code spans, each with the line it is on."""
    found = []
    names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./`-])(?:(?:{'|'.join(SECTIONS)})\.[\w.]+|{names})(?![\w/`-])")
    for line in text.splitlines():
        for match in pattern.finditer(CODE_SPAN.sub("", line)):
            found.append(f"{match.group(0)!r} in: {line.strip()[:140]}")
    return found


def wargame(*args: str) -> str:
    """Run a command in-process; what it prints on stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(list(args))
    return out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> tuple[dict[str, str], set[str]]:
    """Everything the commands print and write for readers, by where it came from."""
    tmp = tmp_path_factory.mktemp("words")
    baseline, ceasefire, sobol = tmp / "baseline", tmp / "ceasefire", tmp / "sobol"
    grid = tmp / "grid"
    design = tmp / "sobol.yaml"
    grid_design = tmp / "grid.yaml"
    grid_design.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\nname: grid_words\n"
        "experiment:\n  trajectories: 5\n  grid:\n"
        "    context.russia_ukraine_commitment: [0.2, 0.8]\n"
        "    actors.russia.weights.gulf_ties: [0.5, 1.5]\n",
        encoding="utf-8",
    )
    design.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\nname: sobol_words\n"
        "experiment:\n  trajectories: 20\n  sample:\n    method: sobol\n    points: 8\n"
        "    ranges:\n      context.russia_ukraine_commitment: [0.1, 0.9]\n"
        "      actors.saudi_arabia.weights.china_trade: [0.5, 1.5]\n",
        encoding="utf-8",
    )
    texts = {
        "check": wargame("check", str(design)),
        "run": wargame("run", str(CONFIG_ROOT / "twelve_day_war.yaml"), "--seed", "3"),
        "batch": wargame(
            "batch", str(CONFIG_ROOT / "baseline.yaml"), "--runs", "40", "--out", str(baseline)
        ),
        "batch (second scenario)": wargame(
            "batch",
            str(CONFIG_ROOT / "ukraine_ceasefire.yaml"),
            "--runs",
            "40",
            "--out",
            str(ceasefire),
        ),  # fmt: skip
        "batch (Sobol design)": wargame("batch", str(design), "--runs", "8", "--out", str(sobol)),
        "summary": wargame("summary", str(baseline)),
        "summary (Sobol design)": wargame("summary", str(sobol)),
        "compare": wargame("compare", str(baseline), str(ceasefire)),
        "sensitivity": wargame("sensitivity", str(sobol)),
        "discover": wargame("discover", str(sobol), "--outcome", "russia_max_support >= 3"),
        "plot": wargame("plot", str(sobol)),
        "report": wargame("report", str(sobol)),
        "batch (two-parameter grid)": wargame(
            "batch", str(grid_design), "--runs", "10", "--out", str(grid)
        ),
        "plot (two-parameter grid)": wargame("plot", str(grid)),
        "report (two-parameter grid)": wargame("report", str(grid)),
    }
    for folder in (baseline, sobol):
        texts[f"{folder.name}/summary.md"] = (folder / "summary.md").read_text(encoding="utf-8")
    texts["sobol/sensitivity.md"] = (sobol / "sensitivity.md").read_text(encoding="utf-8")
    texts["sobol/report.html"] = html_text((sobol / "report.html").read_text(encoding="utf-8"))
    texts["grid/report.html"] = html_text((grid / "report.html").read_text(encoding="utf-8"))
    for folder in (sobol, grid):
        for svg in sorted((folder / "plots").glob("*.svg")):
            texts[f"figure {folder.name}/{svg.stem}"] = svg_text(svg)
    return texts, known_ids(load_scenario(design), [baseline, sobol, grid])


def test_the_ids_are_known(shown):
    """The scan looks for the right things: ids of every kind are in the set it checks."""
    _, ids = shown
    for expected in ("russia_max_support", "outreach_to_tehran", "alignment_against_us"):
        assert expected in ids
    assert {"gulf_uae_stance", "chunk_size", "china_imports_kbd"} <= ids


def test_the_scan_finds_an_id_and_spares_code(shown):
    _, ids = shown
    assert ids_shown("Russia: diplomatic_backing", ids)
    assert ids_shown("| context.russia_ukraine_commitment | 0.3 |", ids)
    assert not ids_shown("Russia's highest support level (`russia_max_support`)", ids)
    assert not ids_shown("saved in /runs/russia_max_support/report.html", ids)


def test_readers_see_words_not_ids(shown):
    texts, ids = shown
    assert len([k for k in texts if k.startswith("figure ")]) > 10, "the figures were scanned"
    assert any(k.startswith("figure grid/") and "heat" in k for k in texts), "a heat map too"
    problems = {where: found for where, text in texts.items() if (found := ids_shown(text, ids))}
    assert not problems, json.dumps(problems, indent=2)
    # a sentence written for Markdown shows its code spans as code on the page, not as backticks
    assert "`" not in texts["sobol/report.html"]
