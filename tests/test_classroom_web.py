"""The web server over real HTTP on loopback: tokens, private views, bad input, exports."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from classroom.helpers import (
    CHINA_COVERT,
    CONFIG,
    COVERT_TEXT,
    call,
    free_port,
    new_session,
    post_form,
    serve,
)
from click.testing import CliRunner

from sim.classroom import commands


@pytest.fixture
def served(covert_turn):
    """A game with the first turn played (China covertly helping Iran), and its server."""
    _, _, f, team, _ = covert_turn
    assert call(f"{team['iran']}/submit", {"turn": "1", "main": "hold_firm"})[1]["ok"]
    assert call(f"{f}/close", {})[1]["ok"]
    return covert_turn


def test_forged_or_missing_tokens_are_refused(served):
    session, base, f, team, _ = served
    entries = len(session.game.entries)
    forged = "x" * 43
    for url in (f"{base}/t/{forged}", f"{base}/f/{forged}", f"{base}/f/{forged}/export.json"):
        status, body = call(url, as_json=False)
        assert status == 403 and "not valid" in body
    for url in (f"{base}/t/", f"{base}/f/", f"{base}/t"):
        assert call(url, as_json=False)[0] == 404
    assert call(f"{base}/t/{forged}/submit", {"turn": "2", "main": "hold_firm"})[0] == 403
    assert call(f"{base}/f/{forged}/start", {})[0] == 403
    # A team's token is not the facilitator's.
    iran_token = session.team_tokens["iran"]
    assert call(f"{base}/f/{iran_token}", as_json=False)[0] == 403
    assert call(f"{base}/f/{iran_token}/start", {})[0] == 403
    assert call(f"{base}/f/{iran_token}/inject", {"event": "tanker_seized"})[0] == 403
    assert len(session.game.entries) == entries


def test_a_team_sees_only_its_own_private_information(served):
    _, base, f, team, _ = served
    pages = {actor: call(url, as_json=False)[1] for actor, url in team.items()}
    assert COVERT_TEXT in pages["china"]  # its own covert act
    assert COVERT_TEXT in pages["iran"]  # covert help it received
    assert COVERT_TEXT not in pages["russia"]
    assert "you receive support 3" in pages["iran"]
    assert "you receive support" not in pages["china"] + pages["russia"]
    assert COVERT_TEXT not in call(f"{base}/board", as_json=False)[1]
    assert COVERT_TEXT in call(f, as_json=False)[1]


def test_a_team_can_submit_only_for_its_own_actor(served):
    session, _, f, team, _ = served
    assert call(f"{f}/start", {})[1]["ok"]
    entries = len(session.game.entries)
    status, answer = call(f"{team['iran']}/submit", {"turn": "2", "actor": "china", **CHINA_COVERT})
    assert status == 403 and answer == {
        "ok": False,
        "message": "This link can submit moves for Iran only.",
    }
    status, answer = call(f"{team['iran']}/submit", {"turn": "2", "main": CHINA_COVERT["main"]})
    assert status == 409 and "not an action of Iran" in answer["message"]
    assert len(session.game.entries) == entries and session.game.pending == {}


def test_invalid_and_late_moves_get_a_message_and_change_nothing(served):
    session, _, f, team, clock = served
    digest = session.game.digest()
    entries = len(session.game.entries)
    for form, message in (
        ({"turn": "1", "main": "hold_firm"}, "Too late: turn 1 is closed"),
        ({"turn": "2", "main": "hold_firm"}, "Turn 2 has not started yet"),
        ({"turn": "two", "main": "hold_firm"}, "turn number is not valid"),
    ):
        status, answer = call(f"{team['iran']}/submit", form)
        assert status == 409 and message in answer["message"]
    assert call(f"{f}/start", {})[1]["ok"]
    entries += 1
    for form, message in (
        (
            {"turn": "2", "main": "missile_strike"},
            "not possible now: needs escalation at least rung 4 limited strikes",
        ),
        ({"turn": "2", "main": "<script>"}, "is not an action of Iran"),
        ({"turn": "2"}, "Choose an action"),
    ):
        status, answer = call(f"{team['iran']}/submit", form)
        assert status == 409 and message in answer["message"]
    # In a browser the message comes back on the page, escaped.
    status, page = call(f"{team['iran']}/submit", {"turn": "2", "main": "<b>x"}, as_json=False)
    assert status == 200 and "&#39;&lt;b&gt;x&#39; is not an action of Iran" in page
    assert session.game.digest() == digest and len(session.game.entries) == entries
    # The deadline passes: the server plays the turn by itself and refuses the late move.
    clock.advance(8 * 60 + 5)
    for _ in range(100):
        if session.game.played == 2:
            break
        time.sleep(0.05)
    assert session.game.played == 2
    status, answer = call(f"{team['china']}/submit", {"turn": "2", **CHINA_COVERT})
    assert (
        status == 409
        and "the model moved for China (did not submit by the deadline)" in (answer["message"])
    )


def test_a_flash_is_shown_once_by_the_page_the_redirect_leads_to(served):
    session, base, f, team, _ = served
    status, location = post_form(f"{f}/start", {})
    assert status == 303 and location.startswith(f"/f/{session.facilitator_token}?flash=")
    flash_id = location.split("flash=")[1]
    # The page's poll reloads it without the id, another page tries the id: neither takes it.
    assert "Turn 2 is open." not in call(f, as_json=False)[1]
    assert "Turn 2 is open." not in call(f"{team['iran']}?flash={flash_id}", as_json=False)[1]
    assert "Turn 2 is open." in call(f"{base}{location}", as_json=False)[1]
    assert "Turn 2 is open." not in call(f"{base}{location}", as_json=False)[1]  # once only
    # A team's answer reaches the team's page, refused moves included.
    status, location = post_form(f"{team['iran']}/submit", {"turn": "2", "main": "nuke"})
    assert status == 303
    assert "is not an action of Iran" in call(f"{base}{location}", as_json=False)[1]


def test_a_team_whose_move_was_refused_reads_why_on_its_page(tmp_path):
    session = new_session(tmp_path / "g.sqlite", "initial.escalation=3")
    with serve(session) as base:
        f = f"{base}/f/{session.facilitator_token}"
        team = {a: f"{base}/t/{t}" for a, t in session.team_tokens.items()}
        assert call(f"{f}/start", {})[1]["ok"]
        assert call(f"{team['iran']}/submit", {"turn": "1", "main": "proxy_pressure"})[1]["ok"]
        assert call(f"{f}/inject", {"event": "tanker_seized"})[1]["ok"]
        assert call(f"{f}/close", {})[1]["ok"]
        text = "your move proxy pressure was no longer possible once the turn&#39;s events had"
        assert text in call(team["iran"], as_json=False)[1]
        assert "team Tehran&#39;s move proxy pressure" in call(f, as_json=False)[1]
        for url in (team["china"], f"{base}/board"):
            assert "no longer possible" not in call(url, as_json=False)[1]
        status, page = call(f"{f}/debrief", as_json=False)
        assert status == 200 and "proxy pressure was no longer possible" in page


def test_facilitator_controls_and_bad_commands(served):
    session, _, f, _, _ = served
    assert call(f"{f}/inject", {"event": "no_such_event"})[0] == 409
    assert call(f"{f}/context", {"name": "sanctions_intensity", "value": "lots"})[0] == 409
    assert call(f"{f}/explode", {})[0] == 404
    assert call(f"{f}/close", {})[1]["message"] == "Turn 2 has not started."
    assert call(f"{f}/handover", {"actor": "russia", "model_plays": "1"})[1]["ok"]
    assert session.game.seats["russia"].model_plays
    assert call(f"{f}/pause", {})[1]["ok"] and session.game.paused
    assert call(f"{f}/resume", {})[1]["ok"] and not session.game.paused
    page = call(f, as_json=False)[1]
    assert "the model plays" in page and "Fire event" in page


def test_exports_hold_the_whole_log_and_no_token(served):
    session, _, f, _, _ = served
    status, data = call(f"{f}/export.json", as_json=False)
    assert status == 200
    text = json.dumps(data)
    assert [e["kind"] for e in data["log"]] == ["start", "move", "move", "close"]
    assert data["turns"][0]["state"] == session.game.turns[0].state
    assert data["seed"] == session.game.setup.seed
    rows = list(csv.DictReader(io.StringIO(call(f"{f}/export.csv", as_json=False)[1])))
    acts = [r for r in rows if r["kind"] == "act"]
    assert {r["actor"] for r in acts} >= {"iran", "china", "russia", "united_states"}
    covert = next(r for r in acts if r["action"] == "covert_economic_lifeline")
    assert covert["covert"] == "True" and covert["decided_by"] == "team"
    for token in [session.facilitator_token, *session.team_tokens.values()]:
        assert token not in text and token not in json.dumps(rows)
    decisions = list(csv.DictReader(io.StringIO(call(f"{f}/decisions.csv", as_json=False)[1])))
    china = {r["factor"] for r in decisions if r["actor"] == "china" and r["turn"] == "1"}
    assert {"taiwan_focus", "gulf_ties", "energy_security"} <= china
    assert call(f"{f}/messages.csv", as_json=False)[1].startswith("seq,turn,time,from,to")
    forged = f.split("/f/")[0] + "/f/" + "x" * 43
    assert call(f"{forged}/decisions.csv", as_json=False)[0] == 403


def test_debrief_and_forecast_pages(served):
    _, _, f, _, _ = served
    status, page = call(f"{f}/debrief", as_json=False)
    assert status == 200
    assert "of 2,000 simulated games" in page and "<svg" in page
    assert "Live forecast from turn 1" in page
    status, page = call(f"{f}/forecast", as_json=False)
    assert status == 200 and "500 simulated futures" in page and page.count("<svg") >= 4
    # Both answer JSON too, for the facilitator's token only.
    status, data = call(f"{f}/debrief")
    assert status == 200 and data["games"] == 2000 and data["timeline"][0]["turn"] == 1
    assert data["placements"][0]["chart"]["counts"]
    status, data = call(f"{f}/forecast")
    assert status == 200 and data["games"] == 500 and data["turn"] == 1
    base = f.split("/f/")[0]
    assert call(f"{base}/f/{'x' * 43}/debrief")[0] == 403


def test_the_server_binds_to_loopback_and_warns_about_all_interfaces(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    runner = CliRunner()
    db = str(tmp_path / "g.sqlite")
    port = str(free_port())  # the command checks that it can listen there
    result = runner.invoke(commands.classroom, [CONFIG, "--db", db, "--port", port])
    assert result.exit_code == 0, result.output
    assert calls[-1]["host"] == "127.0.0.1"
    assert "warning" not in result.stderr
    links = [line for line in result.stdout.splitlines() if "http://" in line]
    assert len(links) == 6 and all(f"http://127.0.0.1:{port}/" in line for line in links)
    options = ["--db", db, "--host", "0.0.0.0", "--port", port]
    result = runner.invoke(commands.classroom, [CONFIG, *options])
    assert result.exit_code == 0, result.output
    assert calls[-1]["host"] == "0.0.0.0"
    assert "warning: listening on 0.0.0.0" in result.stderr
    assert "Resuming the game" in result.stdout


def test_a_scenario_without_a_classroom_block_is_served_with_teams_from_as(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    baseline = CONFIG.replace("classroom.yaml", "baseline.yaml")
    db, port = str(tmp_path / "g.sqlite"), str(free_port())
    result = CliRunner().invoke(commands.classroom, [baseline, "--db", db, "--port", port])
    assert result.exit_code != 0 and "choose actors with --as" in str(result.exception)
    args = [baseline, "--db", db, "--port", port, "--as", "iran,russia"]
    result = CliRunner().invoke(commands.classroom, args)
    assert result.exit_code == 0, result.output
    teams = [line for line in result.stdout.splitlines() if line.startswith("Team ")]
    assert [line.split(":")[0] for line in teams] == ["Team Iran (Iran)", "Team Russia (Russia)"]


def test_the_white_cells_controls_name_values_in_words(served):
    session, _, f, _, _ = served
    page = call(f, as_json=False)[1]
    assert '<option value="russia_ukraine_commitment">Russia&#39;s Ukraine commitment (now' in page
    assert '<option value="iran_stability">Iran stability (now' in page
    assert call(f"{f}/context", {"name": "sanctions_intensity", "value": "0.9"})[1]["ok"]
    assert session.game.scheduled[-1]["note"] == "Sanctions intensity is now 0.90"
