"""The after-action review written from a game file: HTML review and exports for analysis."""

from __future__ import annotations

import csv
import io
import json

import pytest
from classroom.helpers import new_session
from click.testing import CliRunner

from sim.cli import cli, main

ATTACK = "<script>alert(1)</script>"
WHY = "Hold firm: Beijing said it would keep buying"


@pytest.fixture(scope="module")
def game_file(tmp_path_factory):
    """Two turns with messages in every channel, a reason with a move and a ruling."""
    db = tmp_path_factory.mktemp("aar") / "class.sqlite"
    session = new_session(db, "horizon=2")
    session.start()
    session.message("iran", "china", "Will you keep buying our oil?")
    session.message("china", "iran", "Yes, at a discount")
    session.message("iran", "white_cell", f"Question {ATTACK}")
    session.message("russia", "public", "Moscow calls for restraint")
    session.message("iran", "united_states", "Stop the sanctions")
    session.submit("iran", {"main": "hold_firm"}, rationale=WHY)
    session.close()
    session.rule("oil_price", "95", "Markets panic after the seizure")
    session.start()
    session.submit("iran", {"main": "negotiate"}, rationale=ATTACK)
    session.close()
    session.store.close()
    return db


def test_the_review_holds_the_timeline_reasons_messages_decisions_and_placement(
    game_file, tmp_path
):
    out = tmp_path / "review"
    result = CliRunner().invoke(cli, ["aar", str(game_file), "--out", str(out), "--games", "60"])
    assert result.exit_code == 0, result.output
    assert f"Wrote the after-action review to {out}/index.html" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "decisions.csv",
        "game.json",
        "index.html",
        "log.csv",
        "messages.csv",
    ]
    html = (out / "index.html").read_text()
    assert WHY in html
    assert "Will you keep buying our oil?" in html and "Moscow calls for restraint" in html
    assert "United States (played by the model) to Team Tehran (Iran)" in html  # the answer
    assert "White cell ruling: oil price set to 95. Markets panic after the seizure" in html
    assert "The model's decisions this turn" in html and "(priority on keeping Iran" in html
    assert "Of 60 simulated games from the same start" in html
    assert html.count('<svg class="chart"') >= 5
    assert ATTACK not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    messages = list(csv.DictReader(io.StringIO((out / "messages.csv").read_text())))
    assert [(m["from"], m["to"], m["visibility"]) for m in messages][:4] == [
        ("iran", "china", "private"),
        ("china", "iran", "private"),
        ("iran", "white_cell", "private"),
        ("russia", "public", "public"),
    ]
    assert messages[-1]["from"] == "united_states" and messages[-1]["model"] == "True"
    decisions = list(csv.DictReader(io.StringIO((out / "decisions.csv").read_text())))
    us = [d for d in decisions if d["actor"] == "united_states" and d["turn"] == "1"]
    assert {d["factor"] for d in us} >= {"nonproliferation", "cost_aversion"}
    log = list(csv.DictReader(io.StringIO((out / "log.csv").read_text())))
    assert any(row["kind"] == "act" and row["rationale"] == WHY for row in log)
    data = json.loads((out / "game.json").read_text())
    assert data["turns"][0]["rationales"] == {"iran": WHY}
    assert len(data["messages"]) == 6
    assert "token" not in json.dumps(data).lower()


def test_bad_review_targets_are_one_line_errors(game_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args, expected in (
        ([str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "r")], "no such game file"),
        ([str(game_file), "--out", str(blocker / "r"), "--games", "20"], "cannot write"),
    ):
        with pytest.raises(SystemExit) as stopped:
            main(["aar", *args])
        assert stopped.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0]
