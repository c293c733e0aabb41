"""The classroom game's rules: moves, the clock, the white cell, visibility, and exact replay."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from classroom.helpers import CHINA_COVERT, FakeClock, new_session

from sim.classroom import debrief, export, views
from sim.classroom.advisor import advise
from sim.classroom.game import Rejected
from sim.classroom.session import GameSession, ReplayError
from sim.engine.model import CrisisModel
from sim.scenario.config import Inject
from sim.scenario.errors import WargameError


def play_turn(session: GameSession, moves: dict[str, dict[str, str]], **close) -> None:
    session.start()
    for actor, chosen in moves.items():
        session.submit(actor, chosen, session.game.current)
    session.close(**close)


def eventful_game(path, clock: FakeClock) -> GameSession:
    """Four turns using every kind of command, ending with one left open mid-turn."""
    session = new_session(path, clock=clock)
    play_turn(
        session,
        {"iran": {"main": "hold_firm"}, "china": CHINA_COVERT, "russia": {"main": "rhetoric"}},
    )
    session.inject("tanker_seized")
    session.set_context("china_taiwan_tension", 0.9, "PLA drills")
    session.start()
    session.submit("iran", {"main": "negotiate"})
    session.handover("russia", True)
    session.pause()
    clock.advance(3600)
    session.resume()
    session.close()  # China is late: the model moves for it
    session.handover("russia", False)
    session.inject("us_strikes_enrichment_sites")
    play_turn(session, {"iran": {"main": "hold_firm"}, "russia": {"main": "economic_lifeline"}})
    session.start()
    clock.advance(9 * 60)
    session.tick()  # the deadline passed: the model moves for every team
    session.start()
    session.submit("china", {"main": "rhetoric", "oil_purchases": "cut_purchases"})
    session.inject("ukraine_ceasefire")
    return session


def assert_same_game(a: GameSession, b: GameSession) -> None:
    ga, gb = a.game, b.game
    assert ga.digest() == gb.digest()
    assert [r.to_dict() for r in ga.turns] == [r.to_dict() for r in gb.turns]
    assert ga.pending == gb.pending
    assert ga.scheduled == gb.scheduled
    assert (ga.phase, ga.paused, ga.deadline) == (gb.phase, gb.paused, gb.deadline)
    assert {a: s.model_plays for a, s in ga.seats.items()} == {
        a: s.model_plays for a, s in gb.seats.items()
    }
    pd.testing.assert_frame_equal(
        ga.model.outcome_frame(), gb.model.outcome_frame(), check_exact=True
    )
    pd.testing.assert_frame_equal(
        ga.model.trajectory_frame(), gb.model.trajectory_frame(), check_exact=True
    )
    for actor_id, actor in ga.model.actors.items():
        twin = gb.model.actors[actor_id]
        np.testing.assert_array_equal(actor.weights, twin.weights)


# ----------------------------------------------------------------------------- replay


def test_restarting_from_the_game_file_resumes_exactly(tmp_path):
    clock = FakeClock()
    live = eventful_game(tmp_path / "game.sqlite", clock)
    assert live.game.played == 4 and live.game.pending and live.game.scheduled
    live.store.backup_to(tmp_path / "copy.sqlite")  # so that both can go on separately
    resumed = GameSession.open(tmp_path / "copy.sqlite", clock=clock)
    assert_same_game(live, resumed)
    # The copy has no secrets file: its tokens are known only as hashes, and still open it.
    assert resumed.team_tokens == {} and resumed.facilitator_token == ""
    assert all(resumed.team_for(token) == actor for actor, token in live.team_tokens.items())
    assert resumed.is_facilitator(live.facilitator_token)
    # ... and both go on identically.
    for session in (live, resumed):
        session.submit("iran", {"main": "hold_firm"})
        session.close()
    assert_same_game(live, resumed)


def test_the_game_plays_what_the_engine_plays_with_the_same_moves(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    session.inject("tanker_seized")
    play_turn(session, {"iran": {"main": "hold_firm"}, "china": CHINA_COVERT})
    game = session.game
    engine = CrisisModel(game.setup.scenario, rng=game.setup.seed, record_decisions=True)
    engine.add_inject(Inject(turn=1, effects={"escalation": 1, "oil_price": 3.0}))
    engine.submit("iran", "hold_firm")
    engine.submit("china", "covert_economic_lifeline")
    engine.submit("china", "maintain_purchases", menu="oil_purchases")
    engine.step()
    pd.testing.assert_frame_equal(
        engine.trajectory_frame(), game.model.trajectory_frame(), check_exact=True
    )
    assert game.turns[0].model_moved == {"russia": "did not submit"}


def test_a_replay_that_reaches_another_state_is_refused(tmp_path):
    path = tmp_path / "g.sqlite"
    session = new_session(path)
    play_turn(session, {"iran": {"main": "hold_firm"}})
    session.store.close()
    with sqlite3.connect(path) as db:
        (state,) = db.execute("SELECT state FROM turns WHERE turn = 1").fetchone()
        tampered = json.loads(state) | {"oil_price": 1.0}
        db.execute("UPDATE turns SET state = ? WHERE turn = 1", (json.dumps(tampered),))
    with pytest.raises(ReplayError, match="turn 1"):
        GameSession.open(path)


def test_each_command_is_one_log_entry_and_a_played_turn_stores_its_state(tmp_path):
    clock = FakeClock()
    session = eventful_game(tmp_path / "g.sqlite", clock)
    kinds = [e.kind for e in session.store.entries()]
    assert kinds[:5] == ["start", "move", "move", "move", "close"]
    assert kinds.count("close") == 4 and kinds.count("inject") == 4
    assert sorted(session.store.states()) == [1, 2, 3, 4]
    assert session.store.states()[4] == session.game.turns[3].state


def test_a_failed_save_leaves_the_game_as_the_file_has_it(tmp_path, monkeypatch):
    session = new_session(tmp_path / "g.sqlite")
    session.start()

    def broken(entry, state=None):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(session.store, "append", broken)
    with pytest.raises(WargameError, match="could not save"):
        session.submit("iran", {"main": "hold_firm"})
    assert session.game.pending == {}
    assert len(session.game.entries) == 1


def test_a_command_is_never_left_applied_without_being_saved(tmp_path, monkeypatch):
    """Applied, then saved: if the save fails and the file cannot even be read back, the
    session accepts nothing more rather than play on with a game the file does not hold."""
    session = new_session(tmp_path / "g.sqlite")
    session.start()

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(session.store, "append", broken)
    monkeypatch.setattr(session.store, "entries", broken)
    with pytest.raises(WargameError, match="could not be read back"):
        session.submit("iran", {"main": "hold_firm"})
    monkeypatch.undo()
    with pytest.raises(WargameError, match="nothing more is accepted"):
        session.close()
    assert GameSession.open(tmp_path / "g.sqlite").game.played == 0


# ----------------------------------------------------------------------------- moves


def test_a_move_the_turns_events_made_impossible_is_refused_and_the_model_moves(tmp_path):
    path = tmp_path / "g.sqlite"
    session = new_session(path, "initial.escalation=3")
    session.start()
    session.submit("iran", {"main": "proxy_pressure"})  # needs escalation at most rung 3: legal now
    session.inject("tanker_seized")  # escalation +1 at the start of the turn
    record = session.close()
    game, now = session.game, session.clock()
    decision = next(d for d in game.model.decision_log[-1][1] if d.actor_id == "iran")
    assert decision.refused[0] and not decision.forced[0]
    act = next(a for a in record.acts if a.actor == "iran")
    assert (act.by, act.refused) == ("model", "proxy_pressure") and act.action != "proxy_pressure"
    played = act.action.replace("_", " ")  # the move in words: no capitals in Iran's moves
    assert record.moves == {"iran": {"main": "proxy_pressure"}}  # what the team submitted
    # The team is told; no other team learns what it had submitted.
    assert views.team(game, "iran", now)["refused"] == [
        "Turn 1: your move proxy pressure was no longer possible once the turn's events had "
        "landed (it needs escalation at most rung 3 grey zone clashes), so the model moved for "
        f"Iran: {played}."
    ]
    assert views.team(game, "china", now)["refused"] == []
    for page in (views.board(game, now), views.team(game, "china", now)):
        assert all(not a["refused"] for turn in page["feed"] for a in turn["acts"])
    white = views.facilitator(game, now)
    assert white["refused"][0].startswith("Turn 1: team Tehran's move proxy pressure")
    assert any(
        (a["refused"], a["refused_name"]) == ("proxy_pressure", "proxy pressure")
        for a in white["feed"][0]["acts"]
    )
    # The debrief and the exports say the model moved, and why.
    rows = [r for r in debrief.choices(game) if r["team"] == "Tehran"]
    assert rows[0]["by"] == (
        "model (proxy pressure was no longer possible after the turn's events)"
    )
    assert debrief.agreement(game, rows) == []  # the team made no move of its own
    assert "team Tehran's move proxy pressure" in debrief.timeline(game)[0]["refused"][0]
    acts = list(csv.DictReader(io.StringIO(export.to_csv(game))))
    iran = next(r for r in acts if r["kind"] == "act" and r["actor"] == "iran")
    assert iran["decided_by"] == "model" and json.loads(iran["details"]) == {
        "refused": "proxy_pressure"
    }
    # Replaying the game file gives the same refusal and the same state.
    resumed = GameSession.open(path)
    assert_same_game(session, resumed)
    assert resumed.game.turns[0].acts == record.acts


def test_an_event_that_forces_a_teams_actor_overrides_its_move_and_says_so(tmp_path):
    session = new_session(
        tmp_path / "g.sqlite", "classroom.teams=[{actor: united_states, name: DC}]"
    )
    session.start()
    session.submit("united_states", {"main": "negotiate"})
    session.inject("us_strikes_enrichment_sites")
    record = session.close()
    act = next(a for a in record.acts if a.actor == "united_states")
    assert (act.action, act.by, act.refused) == ("limited_strikes", "white cell", "negotiate")
    assert views.team(session.game, "united_states", session.clock())["refused"] == [
        "Turn 1: an event forced limited strikes (United States, main move) in place of your "
        "move negotiate."
    ]


def test_refused_moves_say_why_and_change_nothing(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    with pytest.raises(Rejected, match="has not started"):
        session.submit("iran", {"main": "hold_firm"})
    session.start()
    before = (len(session.store.entries()), session.game.digest())
    cases = {
        "not an action of Iran": ("iran", {"main": "covert_economic_lifeline"}),
        "needs escalation at least rung 4 limited strikes": ("iran", {"main": "missile_strike"}),
        "at most 2 rungs": ("china", {"main": "technical_aid", "oil_purchases": "cut_purchases"}),
        "oil purchases": ("china", {"main": "rhetoric"}),
        "has no menu": ("iran", {"main": "hold_firm", "oil_purchases": "cut_purchases"}),
        "No team plays": ("united_states", {"main": "negotiate"}),
    }
    for message, (actor, moves) in cases.items():
        with pytest.raises(Rejected, match=message):
            session.submit(actor, moves, 1)
    with pytest.raises(Rejected, match="not started yet"):
        session.submit("iran", {"main": "hold_firm"}, 2)
    assert (len(session.store.entries()), session.game.digest()) == before
    assert session.game.pending == {}
    session.submit("iran", {"main": "hold_firm"}, 1)
    session.submit("iran", {"main": "negotiate"}, 1)  # a team may change its move
    assert session.game.pending == {"iran": {"main": "negotiate"}}
    session.close()
    with pytest.raises(Rejected, match="Too late: turn 1 is closed"):
        session.submit("iran", {"main": "hold_firm"}, 1)
    assert len(session.store.entries()) == before[0] + 3


def test_the_model_moves_for_a_team_that_misses_the_deadline(tmp_path):
    clock = FakeClock()
    session = new_session(tmp_path / "g.sqlite", clock=clock)
    session.start()
    session.submit("iran", {"main": "hold_firm"})
    clock.advance(8 * 60 + 1)
    with pytest.raises(Rejected, match=r"turn 1 is closed and the model moved for China \(did not"):
        session.submit("china", CHINA_COVERT)
    assert session.game.played == 1  # refusing the late move also played the turn
    record = session.game.turns[0]
    assert record.model_moved == {
        "china": "did not submit by the deadline",
        "russia": "did not submit by the deadline",
    }
    by = {a.actor: a.by for a in record.acts if a.menu == "main"}
    assert by["iran"] == "team" and by["china"] == "model" and by["russia"] == "model"


def test_with_the_wait_policy_the_turn_waits_for_late_teams(tmp_path):
    clock = FakeClock()
    session = new_session(tmp_path / "g.sqlite", "classroom.late_policy=wait", clock=clock)
    session.start()
    session.submit("iran", {"main": "hold_firm"})
    clock.advance(3600)
    assert session.tick() is None and session.game.played == 0
    session.submit("russia", {"main": "rhetoric"})  # late, but the turn waits
    with pytest.raises(Rejected, match="Waiting for Beijing"):
        session.close()
    session.handover("china", True)
    session.close()
    assert session.game.turns[0].model_moved == {"china": "handed to the model"}


def test_pause_stops_the_clock_and_submissions(tmp_path):
    clock = FakeClock()
    session = new_session(tmp_path / "g.sqlite", clock=clock)
    session.start()
    clock.advance(60)
    session.pause()
    with pytest.raises(Rejected, match="paused"):
        session.submit("iran", {"main": "hold_firm"})
    clock.advance(10_000)
    assert session.tick() is None
    session.resume()
    assert session.game.seconds_left(clock()) == pytest.approx(7 * 60)


def test_events_and_context_changes_open_the_next_turn(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    session.inject("us_strikes_enrichment_sites")
    session.inject("taiwan_strait_exercises")
    session.set_context("sanctions_intensity", "0.95")
    with pytest.raises(Rejected, match="already scheduled"):
        session.inject("taiwan_strait_exercises")
    with pytest.raises(Rejected, match="Unknown event"):
        session.inject("alien_invasion")
    with pytest.raises(Rejected, match="from 0 to 1"):
        session.set_context("sanctions_intensity", "2")
    play_turn(session, {"iran": {"main": "hold_firm"}})
    world = session.game.model.world
    record = session.game.turns[0]
    us = next(a for a in record.acts if a.actor == "united_states")
    assert (us.action, us.by) == ("limited_strikes", "white cell")
    assert world.escalation[0] >= 4
    assert world.context["china_taiwan_tension"][0] == pytest.approx(0.85, abs=0.05)
    # enforcement fades a little without fresh US effort (dynamics.sanctions)
    assert world.context["sanctions_intensity"][0] == pytest.approx(0.95, abs=0.05)
    assert [p["event"] for p in record.injects] == [
        "us_strikes_enrichment_sites",
        "taiwan_strait_exercises",
        None,
    ]


# ----------------------------------------------------------------------------- visibility


def _descriptions(rows) -> set[str]:
    return {row["action"] for row in rows}


def _feed_actions(feed) -> set[str]:
    return {act["action"] for turn in feed for act in turn["acts"]}


def test_a_covert_act_is_seen_by_its_author_its_target_and_the_white_cell_only(tmp_path):
    session = new_session(tmp_path / "g.sqlite", "actors.china.covert.discovery_probability=0")
    play_turn(session, {"china": CHINA_COVERT, "russia": {"main": "economic_lifeline"}})
    play_turn(session, {"russia": {"main": "covert_intelligence_sharing"}})
    game, now = session.game, session.clock()
    china, iran, russia = (views.team(game, a, now) for a in ("china", "iran", "russia"))
    board, white = views.board(game, now), views.facilitator(game, now)
    covert = "covert_economic_lifeline"
    assert covert in _descriptions(china["private"]["own"])
    assert covert in _descriptions(iran["private"]["received"])
    assert covert not in _feed_actions(russia["feed"]) | _descriptions(
        russia["private"]["received"]
    )
    assert covert not in _feed_actions(board["feed"])
    assert covert in _feed_actions(white["feed"])
    # Intelligence reaches its target only.
    assert "covert_intelligence_sharing" in _descriptions(iran["private"]["intelligence"])
    assert "covert_intelligence_sharing" not in _feed_actions(china["feed"])
    # The public sees no covert support on the ladder; Iran knows what it receives.
    public = {s["actor"]: s["level"] for s in board["state"]["support"]}
    assert game.model.world.support["russia"][0] == 4 and public["russia"] == 0
    assert any("Russia: you receive support 4" in line for line in iran["status"])


def test_intelligence_is_the_support_ladders_rung_of_that_name(tmp_path):
    """Which rung shares intelligence comes from the scenario's ladder, not from a number."""
    ladder = (
        "ladders.support=[none, rhetoric, diplomatic_backing, intelligence_sharing, "
        "economic_lifeline, technical_aid, arms_transfers, direct_intervention]"
    )
    session = new_session(tmp_path / "g.sqlite", ladder)
    game = session.game
    assert views.intelligence_level(game) == 3
    play_turn(session, {"china": CHINA_COVERT})  # a covert act on rung 3
    iran = views.team(game, "iran", session.clock())["private"]
    assert "covert_economic_lifeline" in _descriptions(iran["intelligence"])
    assert "covert_economic_lifeline" not in _descriptions(iran["received"])
    shipped = new_session(tmp_path / "shipped.sqlite")
    assert views.intelligence_level(shipped.game) == 4


def test_an_exposed_covert_act_becomes_public(tmp_path):
    session = new_session(tmp_path / "g.sqlite", "actors.china.covert.discovery_probability=1")
    play_turn(session, {"china": CHINA_COVERT})
    game = session.game
    board = views.board(game, session.clock())
    assert game.turns[0].discovered == ["china"]
    exposed = [a for t in board["feed"] for a in t["acts"] if a["action"] == CHINA_COVERT["main"]]
    assert exposed and exposed[0]["exposed"]
    assert {s["actor"]: s["level"] for s in board["state"]["support"]}["china"] == 3
    assert board["feed"][0]["exposed"] == ["China"]


def test_private_requests_reach_the_partners_only(tmp_path):
    session = new_session(tmp_path / "g.sqlite", "initial.escalation=2")
    play_turn(session, {"iran": {"main": "request_help_private"}})
    game, now = session.game, session.clock()
    assert "request_help_private" in _descriptions(
        views.team(game, "china", now)["private"]["received"]
    )
    assert "request_help_private" in _descriptions(views.team(game, "iran", now)["private"]["own"])
    assert "request_help_private" not in _feed_actions(views.board(game, now)["feed"])


def test_the_advisor_leaves_the_actor_as_it_found_it(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    china = session.game.model.actors["china"]
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(china).items()}
    advice = advise(china, session.game.model.world)
    assert vars(china).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(vars(china)[key], value)
    assert set(advice) == {"main", "oil_purchases"}
    main = advice["main"]
    assert [a.utility for a in main] == sorted((a.utility for a in main), reverse=True)
    assert sum(main[0].contributions.values()) == pytest.approx(main[0].utility)
