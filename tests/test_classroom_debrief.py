"""The debrief places the class's game in the simulated distribution; the forecast forks it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from classroom.helpers import new_session

from sim.classroom import charts, debrief
from sim.engine.model import CrisisModel
from sim.engine.world import Hormuz


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A short game (three turns) that escalates: a US strike is fired on turn 1."""
    session = new_session(tmp_path_factory.mktemp("g") / "g.sqlite", "horizon=3")
    session.inject("us_strikes_enrichment_sites")
    for moves in (
        {"iran": {"main": "hold_firm"}},
        {"iran": {"main": "missile_strike"}},
        {"iran": {"main": "close_hormuz"}},
    ):
        session.start()
        for actor, chosen in moves.items():
            session.submit(actor, chosen)
        session.close()
    return session.game


def test_placement_counts_games_beyond_level_with_and_short_of_the_class():
    values = np.array([1, 2, 3, 3, 4, 5, 6, 7])
    assert debrief.placement(3, values) == {"beyond": 25.0, "same": 25.0, "short": 50.0}
    assert debrief.placement(3, values, higher_is_beyond=False) == {
        "beyond": 50.0,
        "same": 25.0,
        "short": 25.0,
    }


def test_the_debrief_sentence_comes_from_the_outcome_records(finished):
    game = finished
    assert game.ended and game.end_state() is not None
    frame = CrisisModel(game.setup.scenario, 2000, rng=game.setup.seed).run().outcome_frame()
    record = game.model.outcome_frame().iloc[0]
    data = debrief.debrief(game)
    assert data["games"] == 2000
    escalation = next(p for p in data["placements"] if p["column"] == "max_escalation")
    expected = 100.0 * np.mean(frame["max_escalation"] < record["max_escalation"])
    assert escalation["beyond"] == pytest.approx(expected)
    higher = 100.0 * np.mean(frame["max_escalation"] > record["max_escalation"])
    same = 100.0 - expected - higher
    rung = record["max_escalation"]
    sentence = escalation["sentence"]
    assert sentence.startswith(
        f"Highest escalation rung: {rung} in the class's game. Of 2,000 simulated games from "
        "the same start, "
    )

    def shown(percent: float) -> str:
        if percent < 0.5:
            return "under 1 %"
        return "over 99 %" if 99.5 <= percent < 100 else f"{percent:.0f} %"

    for percent, words in ((expected, "stayed lower"), (same, "reached"), (higher, "went")):
        assert (f"{shown(percent)} {words}" in sentence) == (percent > 0), (percent, sentence)
    assert " 0 %" not in sentence and "tied" not in sentence
    ended = record["end_state"]
    share = 100.0 * np.mean(frame["end_state"] == ended)
    assert f"so did {share:.0f} % of 2,000 simulated games" in data["end"]["sentence"]


def test_a_placement_sentence_names_the_value_and_leaves_out_empty_shares():
    measure = debrief.Measure("x", "Turns at war", "spent more turns at war than")
    shares = {"beyond": 0.0, "same": 84.0, "short": 16.0}
    assert debrief.placement_sentence(measure, 0.0, shares, 2000) == (
        "Turns at war: 0 in the class's game. Of 2,000 simulated games from the same start, "
        "84 % reached the same and 16 % went higher."
    )
    low = debrief.Measure("y", "Lowest stability", "lower", higher_is_beyond=False)
    shares = {"beyond": 0.2, "same": 0.0, "short": 99.8}
    assert debrief.placement_sentence(low, 0.4123, shares, 500) == (
        "Lowest stability: 0.41 in the class's game. Of 500 simulated games from the same "
        "start, over 99 % stayed lower and under 1 % went higher."
    )


def test_choices_sit_beside_the_advisors_first_choice(finished):
    rows = debrief.choices(finished)
    iran = [r for r in rows if r["team"] == "Tehran"]
    assert [r["chosen"] for r in iran] == ["hold firm", "missile strike", "close Hormuz"]
    assert all(r["by"] == "team" and r["advised"] for r in iran)
    china = [r for r in rows if r["team"] == "Beijing"]
    assert all(r["by"] == "model (did not submit)" for r in china)
    for record in finished.turns:
        for actor, menus in record.advice.items():
            assert set(menus) == set(finished.model.actors[actor].menus)
    lines = debrief.agreement(finished, rows)
    assert re.match(
        r"Team Tehran \(Iran\) chose what the advisor ranked first in \d of 3", lines[0]
    )


def test_the_live_forecast_continues_from_the_current_state(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    session.inject("us_strikes_enrichment_sites")
    session.start()
    session.close()
    game = session.game
    frame = debrief.forecast(game, 300)
    assert len(frame) == 300
    # The futures carry the game's history: none escalates less than the game already has.
    reached = int(game.model.outcome_frame()["max_escalation"].iloc[0])
    assert reached >= 4 and (frame["max_escalation"] >= reached).all()
    summary = debrief.forecast_summary(game, 300)
    assert summary["sentences"][0].startswith("From turn 1, 100 % of 300 simulated futures")
    assert game.played == 1  # forecasting does not move the game
    # Its seed: the same when asked again, never the game's own, another one each turn.
    seed = debrief.forecast_seed(game)
    assert seed == debrief.forecast_seed(game) and seed != game.setup.seed
    pd.testing.assert_frame_equal(debrief.forecast(game, 50), debrief.forecast(game, 50))
    session.start()
    session.close()
    assert debrief.forecast_seed(game) != seed


def test_the_timeline_names_the_state_of_hormuz_as_the_engine_does(finished):
    for row, record in zip(debrief.timeline(finished), finished.turns, strict=True):
        assert row["hormuz"] == Hormuz(record.state["hormuz"]).name.lower()
    assert "closed" in {row["hormuz"] for row in debrief.timeline(finished)}


def test_histograms_render_as_valid_svg_with_the_class_marked():
    chart = charts.histogram("Highest escalation rung", np.array([1, 1, 2, 4, 4, 4]), 4)
    assert chart.labels == ["1", "2", "3", "4"] and chart.counts == [2, 1, 0, 3]
    assert chart.marked == 3
    svg = ET.fromstring(charts.svg(chart))
    rects = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert [r.get("fill") for r in rects] == [charts.BAR, charts.BAR, charts.BAR, charts.MARK]
    binned = charts.histogram("Peak oil", np.linspace(60.0, 120.0, 50), 119.0)
    assert len(binned.counts) == 12 and binned.marked == 11 and binned.total == 50
    assert charts.text(chart)[-1].endswith("<- class")
