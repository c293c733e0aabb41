"""`wargame run`: the story of one replication, turn by turn, and its outcome record."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from outcome_fields import REQUIRED_OUTCOME_FIELDS

from actors import ACTOR_CLASSES
from sim.analysis import formatting
from sim.analysis.labels import Labels, readable
from sim.cli import main
from sim.engine.model import CrisisModel
from sim.scenario.config import CONFIG_ROOT

REPO_ROOT = CONFIG_ROOT.parent
WARGAME = str(Path(sys.executable).with_name("wargame"))
OUTCOME_FIELDS = REQUIRED_OUTCOME_FIELDS
TURN_HEADER = re.compile(r"^Turn (\d+) \(days [\d.]+-[\d.]+\): escalation \d+ \w+", re.M)


def wargame(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WARGAME, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def story() -> str:
    result = wargame("run", "configs/twelve_day_war.yaml", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.fixture(scope="module")
def record() -> dict:
    result = wargame("run", "configs/twelve_day_war.yaml", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def expected(scenario):
    """What the engine itself says about replication 0 of the scenario under seed 3."""
    model = CrisisModel(scenario("twelve_day_war"), replication=0, rng=3).run()
    return model.outcome_frame().iloc[0].to_dict()


def test_json_record_has_every_outcome_field(record):
    assert set(OUTCOME_FIELDS) <= set(record)
    assert record["replication"] == 0
    for flag in ("war", "russia_intervened", "china_intervened", "iran_requested_help"):
        assert isinstance(record[flag], bool)
    for count in ("max_escalation", "turns_at_war", "russia_max_support", "hormuz_closed_turns"):
        assert isinstance(record[count], int)
    for number in ("peak_oil_price", "iran_min_stability", "iran_reliance_gap"):
        assert isinstance(record[number], float)
    assert record["end_state"] in {"settlement", "ceasefire", "regime_collapse", "horizon"}
    for gulf in ("saudi_arabia", "uae", "qatar"):
        assert record[f"gulf_{gulf}_stance"] in {
            "align_with_us",
            "hedge",
            "mediate",
            "raise_output",
            "outreach_to_tehran",
        }


def test_json_record_is_the_engines_record(record, expected):
    assert set(record) == set(expected)
    for key, value in expected.items():
        if isinstance(value, float | np.floating):
            assert record[key] == pytest.approx(float(value), rel=1e-12), key
        else:
            assert record[key] == (value.item() if isinstance(value, np.generic) else value), key


def test_the_story_is_told_turn_by_turn(story, record, scenario):
    crisis = scenario("twelve_day_war")
    turns = [int(t) for t in TURN_HEADER.findall(story)]
    assert turns[0] == 1 and "Turn 1 (days 1-3)" in story
    assert turns == list(range(1, record["end_turn"] + 1))
    for inject in crisis.injects:
        if inject.turn <= record["end_turn"]:
            assert f"  * {inject.note}" in story
    labels = Labels.from_scenario(crisis)
    assert f"the crisis ends: {labels.category(record['end_state'])}" in story


def test_every_actor_speaks_with_its_reasons(story, scenario):
    crisis = scenario("twelve_day_war")
    lines = story.splitlines()
    for actor in crisis.actors.values():
        assert any(line.startswith(f"  {actor.label}: ") for line in lines), actor.label
    because = [line for line in lines if line.strip().startswith("because:")]
    assert because
    labels = Labels.from_scenario(crisis)
    factors = {labels.factor(f) for cls in ACTOR_CLASSES.values() for f in cls.FACTORS}
    explained = 0
    for line in because:
        reasons = line.split("because:", 1)[1].strip()
        if reasons == "imposed by the scenario or a player":
            continue
        for part in reasons.split(", "):
            factor, value = part.rsplit(" ", 1)
            assert factor in factors and "_" not in factor, factor
            assert value == formatting.number(float(value), sign=True)
        explained += 1
    assert explained > 0


OUTCOME_LINE = re.compile(r"^  (\S.*?)  +(\S.*?)  +`(\w+)`$")


def test_the_story_ends_with_the_outcome_record_in_words(story, record, scenario):
    head, _, tail = story.partition("Outcome (seed 3, replication 0):")
    assert tail, "no outcome block"
    lines = [OUTCOME_LINE.match(line) for line in tail.strip("\n").splitlines()]
    assert all(lines), tail
    words = {m[3]: m[1] for m in lines}
    shown = {m[3]: m[2] for m in lines}
    assert set(OUTCOME_FIELDS) <= set(shown)
    labels = Labels.from_scenario(scenario("twelve_day_war"))
    for field in OUTCOME_FIELDS:
        assert words[field] == labels.outcome(field)
        assert "_" not in words[field], words[field]
    assert shown["war"] == ("yes" if record["war"] else "no")
    assert shown["end_state"] == labels.category(record["end_state"])
    assert shown["max_escalation"] == str(record["max_escalation"])
    assert shown["peak_oil_price"] == formatting.number(record["peak_oil_price"])
    assert words["war"] == "US-Iran war" and words["peak_oil_price"] == "peak oil price ($/bbl)"


def test_the_story_names_rungs_in_words(story, scenario):
    ladders = scenario("twelve_day_war").ladders
    headers = re.findall(r"^Turn \d+ \(days [\d.-]+\): escalation (\d+) ([^,]+),", story, re.M)
    assert headers
    for rung, name in headers:
        assert name == readable(ladders.escalation[int(rung)])
    for level, name in re.findall(r"\[support (\d+): ([^\]]+)\]", story):
        assert name == readable(ladders.support[int(level)])
        assert "_" not in name


def test_forced_moves_are_shown_as_imposed(capsys):
    # No early ending, so the story reaches the US strike of turn 4.
    main(
        [
            "run",
            str(CONFIG_ROOT / "twelve_day_war.yaml"),
            "--seed",
            "3",
            "--set",
            "dynamics.iran.collapse_threshold=0",
            "--set",
            "dynamics.escalation.ceasefire_base=0",
            "--set",
            "dynamics.escalation.ceasefire_per_signal=0",
        ]
    )
    story = capsys.readouterr().out
    turn_4 = story.split("Turn 4 (")[1].split("Turn 5 (")[0]
    lines = turn_4.splitlines()
    strike = next(i for i, line in enumerate(lines) if line.startswith("  United States: "))
    assert lines[strike].startswith("  United States: limited strikes - ")
    assert lines[strike + 1].strip() == "because: imposed by the scenario or a player"


def test_run_takes_a_replication_and_overrides(capsys, scenario):
    main(
        [
            "run",
            str(CONFIG_ROOT / "baseline.yaml"),
            "--seed",
            "5",
            "--replication",
            "17",
            "--set",
            "dynamics.iran.collapse_threshold=0.99",
            "--set",
            "dynamics.regime.collapse_days=0",
            "--json",
        ]
    )
    record = json.loads(capsys.readouterr().out)
    assert record["replication"] == 17
    assert record["end_state"] == "regime_collapse"
    assert record["end_turn"] == 1


def test_run_reports_a_bad_override_on_one_line():
    result = wargame("run", "configs/baseline.yaml", "--set", "context.nope=1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
