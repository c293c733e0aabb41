"""Channels, rationales, rulings and secrets over real HTTP: the JSON face of every page gives
exactly what its token may see, and free text is stored, logged and rendered inert."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import urllib.request

import pytest
from classroom.helpers import (
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
from sim.classroom.session import GameSession

ATTACK = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def served(covert_turn):
    """Turn 1 played (China covertly helping Iran), turn 2 open, messages in every channel."""
    _, _, f, team, _ = covert_turn
    assert call(f"{f}/close", {})[1]["ok"]
    assert call(f"{f}/start", {})[1]["ok"]
    sends = [
        (team["iran"], "china", "Tehran to Beijing: private plan"),
        (team["china"], "iran", "Beijing to Tehran: private answer"),
        (team["iran"], "white_cell", "Tehran to the white cell: a question"),
        (f, "iran", "White cell to Tehran: an answer"),
        (team["russia"], "public", "Moscow calls for restraint"),
        (f, "public", "White cell: the UN Security Council meets"),
    ]
    for url, to, text in sends:
        status, body = call(f"{url}/messages", {"to": to, "text": text})
        assert status == 200 and body["ok"], body
    return covert_turn


def as_text(url: str) -> str:
    status, body = call(url)
    assert status == 200
    return json.dumps(body)


def test_each_page_answers_json_with_exactly_what_its_token_may_see(served):
    _, base, f, team, _ = served
    seen = {name: as_text(url) for name, url in team.items()}
    seen["board"], seen["white"] = as_text(f"{base}/board"), as_text(f)
    private = {
        "Tehran to Beijing: private plan": {"iran", "china", "white"},
        "Beijing to Tehran: private answer": {"iran", "china", "white"},
        "Tehran to the white cell: a question": {"iran", "white"},
        "White cell to Tehran: an answer": {"iran", "white"},
        COVERT_TEXT: {"iran", "china", "white"},
    }
    for text, readers in private.items():
        assert {name for name, page in seen.items() if text in page} == readers, text
    for text in ("Moscow calls for restraint", "White cell: the UN Security Council meets"):
        assert all(text in page for page in seen.values()), text
    board = json.loads(seen["board"])
    assert {m["visibility"] for m in board["messages"]} == {"public"}
    # A team's threads: its conversation with Beijing holds both directions.
    iran = json.loads(seen["iran"])
    thread = next(t for t in iran["threads"] if t["with"] == "china")
    assert [m["text"] for m in thread["messages"]] == [
        "Tehran to Beijing: private plan",
        "Beijing to Tehran: private answer",
    ]
    assert "token" not in iran and "token" not in board


def test_messages_are_logged_with_their_turn_and_visibility_and_survive_a_restart(served):
    session, *_ = served
    with sqlite3.connect(session.store.path) as db:
        rows = db.execute("SELECT turn, payload FROM log WHERE kind = 'message'").fetchall()
    logged = [(turn, json.loads(p)) for turn, p in rows]
    assert [(t, p["from"], p["to"], p["visibility"]) for t, p in logged] == [
        (2, "iran", "china", "private"),
        (2, "china", "iran", "private"),
        (2, "iran", "white_cell", "private"),
        (2, "white_cell", "iran", "private"),
        (2, "russia", "public", "public"),
        (2, "white_cell", "public", "public"),
    ]
    resumed = GameSession.open(session.store.path)
    assert [m.to_dict() for m in resumed.game.messages] == [
        m.to_dict() for m in session.game.messages
    ]


def test_an_actor_the_model_plays_answers_in_its_own_terms(served):
    session, _, f, team, _ = served
    assert call(f"{f}/handover", {"actor": "russia", "model_plays": "1"})[1]["ok"]
    status, body = call(f"{team['iran']}/messages", {"to": "russia", "text": "Send us arms now"})
    assert status == 200 and body["ok"]
    reply = body["reply"]
    assert reply.startswith("Russia: no, we will not transfer weapons systems")
    assert "war in Ukraine" in reply and "confrontation with the United States" in reply
    last = session.game.messages[-1]
    assert (last.sender, last.to, last.model, last.text) == ("russia", "iran", True, reply)
    # A team (not handed to the model) does not get an automatic answer.
    _, body = call(f"{team['iran']}/messages", {"to": "china", "text": "Send us arms"})
    assert body["reply"] is None
    # The answer is private: Beijing does not see it.
    assert reply not in as_text(team["china"])


def test_bad_messages_are_refused_and_change_nothing(served):
    session, base, f, team, _ = served
    count = len(session.game.entries)
    cases = [
        (team["iran"], {"to": "china", "text": "   "}, "The message is empty."),
        (team["iran"], {"to": "iran", "text": "hi"}, "Unknown recipient 'iran'"),
        (team["iran"], {"to": "nobody", "text": "hi"}, "Unknown recipient 'nobody'"),
        (team["iran"], {"to": "china", "text": "x" * 2001}, "too long: 2001 characters"),
        (f, {"to": "united_states", "text": "hi"}, "Unknown recipient 'united_states'"),
    ]
    for url, form, expected in cases:
        status, body = call(f"{url}/messages", form)
        assert status == 409 and expected in body["message"], body
    assert call(f"{base}/t/{'x' * 43}/messages", {"to": "public", "text": "hi"})[0] == 403
    # A team cannot write in another's name: the sender is the token's team, whatever it says.
    call(f"{team['iran']}/messages", {"to": "public", "text": "signed", "from": "china"})
    assert session.game.messages[-1].sender == "iran"
    assert len(session.game.entries) == count + 1


def test_a_rationale_travels_with_the_move_to_the_white_cell_and_the_exports(served):
    session, _, f, team, _ = served
    why = "Hold firm: Beijing promised money"
    form = {"turn": "2", "main": "hold_firm", "rationale": why}
    assert call(f"{team['iran']}/submit", form)[1]["ok"]
    assert why in as_text(team["iran"])
    assert why in as_text(f)
    assert why not in as_text(team["china"]) and why not in as_text(f.split("/f/")[0] + "/board")
    assert call(f"{f}/close", {})[1]["ok"]
    record = session.game.turns[-1]
    assert record.rationales == {"iran": why}
    exported = call(f"{f}/export.json")[1]
    assert exported["turns"][-1]["rationales"] == {"iran": why}
    csv_text = call(f"{f}/export.csv", as_json=False)[1]
    assert why in csv_text


def test_the_white_cell_overrides_the_adjudication_with_a_note_and_extends_the_clock(served):
    session, base, f, _, clock = served
    status, body = call(f"{f}/ruling", {"variable": "escalation", "value": "3", "note": ""})
    assert status == 409 and "note" in body["message"]
    for value in ("9", "x", "2.5"):
        form = {"variable": "escalation", "value": value, "note": "n"}
        assert call(f"{f}/ruling", form)[0] == 409
    form = {"variable": "hormuz", "value": "closed", "note": "Mines reported"}
    assert call(f"{f}/ruling", form)[1]["ok"]
    assert int(session.game.model.world.hormuz[0]) == 2
    logged = [e for e in session.game.entries if e.kind == "ruling"]
    assert logged[-1].payload == {
        "variable": "hormuz",
        "value": 2,
        "previous": 0,
        "note": "Mines reported",
    }
    board = json.loads(as_text(f"{base}/board"))
    assert board["state"]["hormuz"] == "closed"
    assert "White cell ruling: Hormuz set to closed. Mines reported" in board["announced"]
    deadline = session.game.deadline
    assert call(f"{f}/extend", {"minutes": "2"})[1]["ok"]
    assert session.game.deadline == deadline + 120
    assert call(f"{f}/pause", {})[1]["ok"]
    left = session.game.remaining
    assert call(f"{f}/extend", {"minutes": "1.5"})[1]["ok"]
    assert session.game.remaining == left + 90
    assert call(f"{f}/extend", {"minutes": "-1"})[0] == 409


def test_free_text_is_rendered_inert_on_every_page(served):
    _, base, f, team, _ = served
    assert call(f"{team['iran']}/messages", {"to": "public", "text": ATTACK})[1]["ok"]
    assert call(f"{team['iran']}/messages", {"to": "white_cell", "text": ATTACK})[1]["ok"]
    assert call(f"{f}/messages", {"to": "china", "text": ATTACK})[1]["ok"]
    form = {"turn": "2", "main": "hold_firm", "rationale": ATTACK}
    assert call(f"{team['iran']}/submit", form)[1]["ok"]
    assert call(f"{f}/ruling", {"variable": "oil_price", "value": "90", "note": ATTACK})[1]["ok"]
    note = {"name": "sanctions_intensity", "value": "0.5", "note": ATTACK}
    assert call(f"{f}/context", note)[1]["ok"]
    pages = [team["iran"], team["china"], f, f"{base}/board"]
    for url in pages:
        html = call(url, as_json=False)[1]
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url


def test_live_events_announce_changes_to_the_pages_that_see_them(served):
    _, base, f, team, _ = served

    def first_events(url: str, count: int) -> list[str]:
        with urllib.request.urlopen(url, timeout=10) as stream:
            assert stream.headers.get_content_type() == "text/event-stream"
            data = []
            while len(data) < count:
                line = stream.readline().decode()
                if line.startswith("data:"):
                    data.append(line[5:].strip())
            return data

    (board_version,) = first_events(f"{base}/board/events", 1)
    (china_version,) = first_events(f"{team['china']}/events", 1)
    # A private message changes China's version, not the board's.
    call(f"{team['iran']}/messages", {"to": "china", "text": "another private note"})
    assert first_events(f"{base}/board/events", 1) == [board_version]
    assert first_events(f"{team['china']}/events", 1) != [china_version]
    assert call(f"{base}/t/{'x' * 43}/events")[0] == 403


def test_game_files_are_private_and_hold_no_token(tmp_path):
    db = tmp_path / "g.sqlite"
    session = new_session(db)
    session.message("iran", "public", "hello")  # writes the WAL too
    secrets_file = tmp_path / "g.sqlite.secrets.json"
    for path in (db, secrets_file, tmp_path / "g.sqlite-wal"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    tokens = [session.facilitator_token, *session.team_tokens.values()]
    codes = list(session.team_codes.values())
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("g.sqlite*") if p != secrets_file)
    assert not any(t.encode() in raw for t in tokens + codes)
    kept = json.loads(secrets_file.read_text())
    assert kept["facilitator"] == session.facilitator_token
    assert kept["teams"] == session.team_tokens
    session.store.close()
    # The links can be printed again from the secrets file...
    result = CliRunner().invoke(commands.links, [str(db), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert f"White cell (facilitator): http://127.0.0.1:8123/f/{kept['facilitator']}" in (
        result.output
    )
    assert f"Team Tehran (Iran): http://127.0.0.1:8123/t/{kept['teams']['iran']}" in (result.output)
    # ... and without it the game still opens, but its links cannot be printed.
    secrets_file.unlink()
    result = CliRunner().invoke(commands.links, [str(db)])
    assert result.exit_code != 0
    assert "no such secrets file" in str(result.exception)
    # New links can be issued: the old tokens stop working, the new ones open the game.
    result = CliRunner().invoke(commands.links, [str(db), "--new"])
    assert result.exit_code == 0, result.output
    renewed = GameSession.open(db)
    assert renewed.team_tokens["iran"] != kept["teams"]["iran"]
    assert renewed.team_for(renewed.team_tokens["iran"]) == "iran"
    assert renewed.team_for(kept["teams"]["iran"]) is None
    assert not renewed.is_facilitator(kept["facilitator"])
    assert f"/t/{renewed.team_tokens['iran']}" in result.output
    assert [m.text for m in renewed.game.messages] == ["hello"]
    renewed.store.close()
    secrets_file.unlink()
    # A secrets file of another game is refused.
    other = new_session(tmp_path / "other.sqlite")
    other.store.close()
    (tmp_path / "other.sqlite.secrets.json").rename(secrets_file)
    with pytest.raises(Exception, match="secrets of another game"):
        GameSession.open(db)


def test_a_short_code_or_the_join_sheet_lets_a_team_in(served):
    session, base, f, team, _ = served
    code = session.team_codes["china"]
    spaced = f"{code[:3].lower()} {code[3:]}"
    status, location = post_form(f"{base}/join", {"code": spaced})
    assert (status, location) == (303, f"/t/{session.team_tokens['china']}")
    assert post_form(f"{base}/join", {"code": "ZZZZZZ"})[0] == 403
    sheet = call(f"{f}/join", as_json=False)[1]
    assert sheet.count("<svg") >= 3 and all(c in sheet for c in session.team_codes.values())
    assert call(f"{team['iran']}/join", as_json=False)[0] == 404  # not a team page
    assert call(f"{base}/f/{session.team_tokens['iran']}/join", as_json=False)[0] == 403


def test_wrong_codes_are_not_tried_for_ever(tmp_path):
    session = new_session(tmp_path / "g.sqlite")
    with serve(session) as base:
        statuses = {post_form(f"{base}/join", {"code": "WRONG1"})[0] for _ in range(50)}
        assert statuses == {403}
        code = session.team_codes["iran"]
        assert post_form(f"{base}/join", {"code": code})[0] == 429


def test_a_game_file_of_the_older_format_is_upgraded_without_losing_its_links(tmp_path):
    """Files written before tokens were hashed held them in clear: opening one moves them to
    the secrets file, keeps only hashes, and leaves no token anywhere in the file."""
    db = tmp_path / "old.sqlite"
    session = new_session(db)
    session.start()
    session.submit("iran", {"main": "hold_firm"})
    tokens = session.team_tokens
    facilitator = session.facilitator_token
    session.store.close()
    (tmp_path / "old.sqlite.secrets.json").unlink()
    with sqlite3.connect(db) as old:  # back to format 1: tokens in clear
        old.executescript(
            "CREATE TABLE t1 (actor TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "token TEXT NOT NULL UNIQUE, position INTEGER NOT NULL);"
            "INSERT INTO t1 SELECT actor, name, actor, position FROM teams; DROP TABLE teams;"
            "ALTER TABLE t1 RENAME TO teams; UPDATE meta SET value = '1' WHERE key = 'format';"
            "DELETE FROM meta WHERE key = 'facilitator_hash';"
        )
        old.executemany(
            "UPDATE teams SET token = ? WHERE actor = ?",
            [(token, actor) for actor, token in tokens.items()],
        )
        old.execute("INSERT INTO meta VALUES ('facilitator_token', ?)", (json.dumps(facilitator),))
    os.chmod(db, 0o644)
    upgraded = GameSession.open(db)
    assert upgraded.team_tokens == tokens and upgraded.facilitator_token == facilitator
    assert upgraded.team_for(tokens["china"]) == "china" and upgraded.is_facilitator(facilitator)
    assert upgraded.game.pending == {"iran": {"main": "hold_firm"}}
    upgraded.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("old.sqlite*") if "secrets" not in p.name)
    assert not any(t.encode() in raw for t in [facilitator, *tokens.values()])
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert GameSession.open(db).team_tokens == tokens  # and it opens again as it is


def test_links_are_printed_again_with_the_port_the_game_was_served_on(tmp_path, monkeypatch):
    db = tmp_path / "g.sqlite"
    served = []
    monkeypatch.setattr(commands, "serve", lambda app, host, port: served.append((host, port)))
    port = free_port()
    result = CliRunner().invoke(commands.classroom, [CONFIG, "--db", str(db), "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", port)]
    printed = [line for line in result.output.splitlines() if "http://" in line]
    assert printed and all(f"http://127.0.0.1:{port}/" in line for line in printed)
    again = CliRunner().invoke(commands.links, [str(db)])
    assert again.exit_code == 0, again.output
    assert [line for line in again.output.splitlines() if "http://" in line] == printed
    elsewhere = CliRunner().invoke(commands.links, [str(db), "--port", "8123"])
    assert "White cell (facilitator): http://127.0.0.1:8123/f/" in elsewhere.output
