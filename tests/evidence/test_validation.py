"""`wargame validate`: the validation document, its reference forecasters and its scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.analysis.labels import Labels
from sim.evidence.observed import FieldSpec, Observation
from sim.evidence.scoring import base_rate, brier, crps, log_score, pit
from sim.evidence.simulate import Event
from sim.evidence.stage import validate

EPISODES = ("2020_soleimani", "2024_haniyeh", "2019_exports_collapse")


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    return out, validate(EPISODES, out, replications=40, seed=3)


def test_validation_json_has_the_issues_shape(document):
    out, doc = document
    saved = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert set(saved["episodes"]) == set(EPISODES)
    for episode in saved["episodes"].values():
        assert {"events", "brier", "log_score"} <= set(episode)
        for event in episode["events"]:
            assert {"field", "observed", "brier", "log_score"} <= set(event)
            assert "p" in event or "quantiles" in event
            assert event["base_rate"] is not None and event["prior"] is not None
    assert {"brier", "log_score", "base_rate_brier", "prior_brier"} <= set(saved["overall"])
    for file in ("validation.md", "plots/reliability.png", "plots/episodes.png"):
        assert (out / file).is_file()


def test_numeric_events_get_quantiles_crps_and_pit(document):
    _, doc = document
    oil = [e for e in doc["episodes"]["2020_soleimani"]["events"] if e["field"] == "peak_oil_price"]
    assert oil and {"quantiles", "crps", "pit"} <= set(oil[0])
    q = oil[0]["quantiles"]
    assert q["q05"] <= q["q50"] <= q["q95"]


def test_the_same_seed_gives_the_same_scores(document, tmp_path):
    _, doc = document
    again = validate(EPISODES, tmp_path, replications=40, seed=3)
    assert again["overall"] == doc["overall"]


def test_scores_come_from_the_scoring_library_with_the_usual_values():
    assert brier(0.8) == pytest.approx(0.04)
    assert log_score(0.5) == pytest.approx(np.log(2))
    assert log_score(0.0) == pytest.approx(-np.log(0.005))  # clipped, never infinite
    assert crps(np.array([1.0, 1.0]), None, 1.0) == pytest.approx(0.0)
    assert pit(np.array([1.0, 2.0, 3.0, 4.0]), None, 2.5) == pytest.approx(0.5)


def _event(episode: str, value) -> Event:
    spec = FieldSpec("war", "binary")
    return Event(episode, "war", spec, Observation(value=value, source="S", confidence="reported"))


def test_the_base_rate_leaves_the_episode_out_and_never_says_never():
    others = [_event("a", True), _event("b", True), _event("c", False)]
    assert base_rate(_event("x", True), others) == pytest.approx((2 + 0.5) / 4)
    assert base_rate(_event("x", False), others) == pytest.approx((1 + 0.5) / 4)
    assert 0 < base_rate(_event("x", False), others[:2]) < 0.5
    assert base_rate(_event("x", True), []) == 0.5


def test_validation_md_names_outcomes_and_observations_in_words(document, scenario):
    out, doc = document
    text = (out / "validation.md").read_text(encoding="utf-8")
    labels = Labels.from_scenario(scenario("baseline"))
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    events = [row.split(" | ") for row in rows if "(`" in row]
    assert len(events) == sum(len(e["events"]) for e in doc["episodes"].values())
    for cells in events:
        field = cells[1].rsplit("(`", 1)[1].rstrip("`)")
        assert cells[1] == f"{labels.outcome(field)} (`{field}`)"
        assert "_" not in cells[2], cells[2]  # the observation: `1 to 2`, `no`, `hedge or mediate`
