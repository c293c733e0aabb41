"""The episode library and its `observed:` blocks: what `wargame check` accepts and refuses."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from sim.evidence.episodes import EPISODE_ROOT, EmptyLibrary, load_library
from sim.evidence.observed import outcome_fields
from sim.scenario.config import CONFIG_ROOT, load_tree
from sim.scenario.errors import ConfigError

WARGAME = str(Path(sys.executable).with_name("wargame"))
SOLEIMANI = EPISODE_ROOT / "2020_soleimani.yaml"


def wargame(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WARGAME, *args], cwd=CONFIG_ROOT.parent, capture_output=True, text=True, timeout=120
    )


def call(capsys, *args: str) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, stderr)."""
    from sim.cli import main

    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def library():
    return load_library(prior=True)


def test_at_least_ten_public_episodes_from_2018_to_2025(library):
    assert len(library) >= 10
    for episode in library:
        assert dt.date(2018, 1, 1) <= episode.info.start <= episode.info.end
        assert episode.info.end <= dt.date(2025, 12, 31)
        assert len(episode.observed) >= 4, episode.name


def test_the_library_spreads_over_kinds_of_crisis(library):
    kinds = {e.info.kind for e in library}
    assert kinds == {"sanctions", "shipping_proxy", "us_strike", "iran_israel"}


def test_every_episode_extends_a_shipped_scenario(library):
    shipped = {p.resolve() for p in CONFIG_ROOT.glob("*.yaml")}
    for episode in library:
        text = episode.path.read_text(encoding="utf-8")
        parent = next(line for line in text.splitlines() if line.startswith("extends:"))
        target = (episode.path.parent / parent.split(":", 1)[1].strip()).resolve()
        assert target in shipped, episode.name


def test_observed_fields_are_the_engines_outcome_fields(library):
    for episode in library:
        fields = outcome_fields(episode.scenario)
        assert set(episode.observed) <= set(fields)


def test_every_source_is_listed_in_the_sources_document(library):
    sources = (CONFIG_ROOT.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    for episode in library:
        for observation in episode.observed.values():
            assert f"`{observation.source}`" in sources, observation.source


def _episode_with(tmp_path: Path, observed: str) -> Path:
    path = tmp_path / "episode.yaml"
    path.write_text(f"extends: {SOLEIMANI}\nobserved:\n  {observed}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("observed", "message"),
    [
        (
            "war_happened: {value: true, source: S, confidence: reported}",
            "observed.war_happened: unknown outcome field (expected one of: war,",
        ),
        (
            "max_escalation: {value: 12, source: S, confidence: reported}",
            "observed.max_escalation: expected values within [0, 8]",
        ),
        (
            "iran_exports_end_kbd: {value: 80, source: S, confidence: reported}",
            "observed.iran_exports_end_kbd: expected an interval [low, high] for a continuous",
        ),
        (
            "turns_at_war: {value: 2, source: S, confidence: rumoured}",
            "observed.turns_at_war.confidence:",
        ),
        (
            "end_state: {value: surrender, source: S, confidence: reported}",
            "observed.end_state: unknown category 'surrender'",
        ),
    ],
)
def test_check_refuses_a_bad_observed_block_in_one_line(tmp_path, capsys, observed, message):
    code, err = call(capsys, "check", str(_episode_with(tmp_path, observed)))
    assert code == 2
    assert err.count("\n") == 1
    assert message in err


def test_check_accepts_every_shipped_episode(capsys):
    for path in sorted(EPISODE_ROOT.glob("*.yaml")):
        code, err = call(capsys, "check", str(path))
        assert code == 0, err


def test_an_empty_library_is_a_one_line_error(tmp_path):
    with pytest.raises(EmptyLibrary, match="no episodes found"):
        load_library(root=tmp_path)
    result = wargame(
        "validate", "--out", str(tmp_path / "out"), "--runs", "10", "--library", str(tmp_path)
    )
    assert result.returncode == 2
    assert "no episodes found" in result.stderr


def test_an_episode_needs_its_record(tmp_path):
    path = tmp_path / "episode.yaml"
    path.write_text(f"extends: {CONFIG_ROOT / 'baseline.yaml'}\n", encoding="utf-8")
    from sim.evidence.episodes import load_episode

    with pytest.raises(ConfigError, match="observed: missing required field"):
        load_episode(path)
    tree, _ = load_tree(SOLEIMANI)
    assert "observed" in tree
