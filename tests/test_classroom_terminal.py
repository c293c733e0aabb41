"""Terminal play driven by scripted input, saving and resuming, and the team briefs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from classroom.helpers import CONFIG, REPO
from click.testing import CliRunner

from actors import China
from sim.analysis.labels import readable
from sim.classroom.session import GameSession
from sim.cli import cli, main

# Iran then China each turn (hot seat); China answers two menus.
TURN_1 = ["hold_firm", "10", "2"]  # 10 = covert_economic_lifeline, 2 = maintain_purchases
TURN_2 = ["negotiate", "rhetoric", "cut_purchases"]


def play(args: list[str], lines: list[str]):
    result = CliRunner().invoke(cli, ["play", CONFIG, *args], input="\n".join(lines) + "\n")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_a_whole_game_at_the_terminal(tmp_path):
    save = tmp_path / "game.sqlite"
    lines = ["nonsense", "5", *TURN_1, *TURN_2]
    result = play(["--as", "iran,china", "--set", "horizon=2", "--save", str(save)], lines)
    out = result.output
    assert result.exit_code == 0
    # The seat's view: public state, private information, menu with descriptions, advisor.
    assert "Turn 1 of at most 2: team Tehran plays Iran" in out
    assert "Russia: you receive support 1 (rhetoric); you expect" in out
    assert " 2. hold firm - Hold firm and wait, conceding nothing" in out
    assert "(not possible now: needs escalation at least rung 4 limited strikes)" in out
    assert "Advisor: discount oil" in out and "economic need: oil revenue" in out
    # Bad input is explained, never fatal.
    assert "! 'nonsense' is not on the menu" in out
    needs = "needs escalation at least rung 4 limited strikes"
    assert f"! missile strike is not possible now: {needs}." in out
    # China's covert act is not announced to the room, but Iran learns of it at its seat.
    turn_1 = out.split("Turn 1 is played.")[1].split("Turn 2 of at most")[0]
    assert "China: maintain purchases" in turn_1 and "covert economic lifeline" not in turn_1
    assert "Last turn, covert help or private message received: China - Covertly" in out
    # The debrief.
    assert "DEBRIEF" in out and "of 2,000 simulated games" in out
    assert "China: covert economic lifeline [covert] (team)" in out
    game = GameSession.open(save).game
    assert game.ended and game.played == 2
    assert game.turns[1].moves == {
        "iran": {"main": "negotiate"},
        "china": {"main": "rhetoric", "oil_purchases": "cut_purchases"},
    }


def test_save_and_resume_gives_the_same_game_as_playing_straight_through(tmp_path):
    straight, paused = tmp_path / "straight.sqlite", tmp_path / "paused.sqlite"
    options = ["--as", "iran,china", "--set", "horizon=3"]
    play([*options, "--save", str(straight)], [*TURN_1, *TURN_2, *TURN_1])
    first = play([*options, "--save", str(paused)], [*TURN_1, "negotiate", "quit"])
    assert f"--load {paused}" in first.output and "Stopped after turn 1" in first.output
    with pytest.raises(SystemExit) as caught:
        main(["play", CONFIG, "--load", str(paused), "--set", "horizon=5"])
    assert caught.value.code == 2
    second = play(["--load", str(paused)], ["rhetoric", "cut_purchases", *TURN_1])
    assert "Resuming" in second.output and "DEBRIEF" in second.output
    a, b = GameSession.open(straight).game, GameSession.open(paused).game
    assert a.digest() == b.digest()
    assert [r.to_dict() for r in a.turns] == [r.to_dict() for r in b.turns]


def test_a_move_the_turns_events_made_impossible_is_reported_at_the_teams_next_turn():
    seized = "injects=[{turn: 1, note: A tanker is seized, effects: {escalation: 1}}]"
    options = ["--as", "iran", "--set", "horizon=2", "--set", "initial.escalation=3"]
    result = play([*options, "--set", seized], ["proxy_pressure", "hold_firm"])
    assert result.exit_code == 0, result.output
    out = result.output
    turn_2 = out.split("Turn 2 of at most 2: team Tehran plays Iran")[1]
    assert (
        turn_2.split("Only your team sees this")[0]
        .strip()
        .splitlines()[-1]
        .startswith(
            "! Turn 1: your move proxy pressure was no longer possible once the turn's events had "
            "landed (it needs escalation at most rung 3 grey zone clashes), so the model moved "
            "for Iran: "
        )
    )
    debriefed = out.split("DEBRIEF")[1]
    assert "(model (proxy pressure was no longer possible after the turn's events))" in debriefed
    assert "! Turn 1: team Tehran's move proxy pressure was no longer possible" in debriefed


def test_the_wargame_command_reads_moves_from_standard_input(tmp_path):
    wargame = Path(sys.executable).with_name("wargame")
    command = [str(wargame), "play", CONFIG, "--as", "russia", "--set", "horizon=2"]
    done = subprocess.run(
        command, cwd=REPO, input="rhetoric\ndiplomatic_backing\n", capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Team Moscow: rhetoric. Recorded." in done.stdout
    assert "Team Moscow: diplomatic backing. Recorded." in done.stdout
    assert "DEBRIEF" in done.stdout
    refused = subprocess.run(
        [str(wargame), "play", CONFIG, "--as", "atlantis"], cwd=REPO, capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: --as: unknown actor 'atlantis' (expected one of: iran, united_states, russia, "
        "china, saudi_arabia, uae, qatar, israel)"
    ]


def test_brief_in_markdown_and_html(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["brief", CONFIG, "--actor", "china"])
    assert result.exit_code == 0
    text = result.output
    assert text.startswith("# Team brief: China (team Beijing)")
    for argument in China.FACTORS.values():
        assert argument in text
    for heading in ("## The situation", "## Your interests", "## Your moves", "## How turns work"):
        assert heading in text
    assert "Halt nearly all purchases of Iranian crude" in text  # the second menu
    # factors, moves and context values read as the labels name them, every context value
    assert "| BRICS/SCO credibility |" in text and "| halt purchases, cut purchases |" in text
    assert "| Israel's domestic hawkishness |" in text
    assert "`covert_` before the action's name" in text and "12 %" in text
    assert "deadline of 8 minutes; the model moves for a team that misses it" in text
    out = tmp_path / "china.html"
    result = runner.invoke(cli, ["brief", CONFIG, "--actor", "china", "--out", str(out)])
    assert result.exit_code == 0 and "Wrote the brief for China" in result.output
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<title>Team brief: China</title>" in html
    assert "Back Iran at the UN Security Council" in html and "@media print" in html


def test_brief_for_an_unknown_actor_is_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["brief", CONFIG, "--actor", "france"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.startswith("error: unknown actor 'france'")


def test_without_as_the_blocks_teams_play_and_the_advisor_can_be_switched_off():
    options = ["--set", "horizon=1", "--set", "classroom.advisor=false"]
    result = play(options, ["hold_firm", "rhetoric", "maintain_purchases", "rhetoric"])
    assert result.exit_code == 0
    for seat in ("team Tehran plays Iran", "team Beijing plays China", "team Moscow plays Russia"):
        assert seat in result.output
    assert "Advisor:" not in result.output
    assert (
        "There is no advisor"
        in CliRunner().invoke(cli, ["brief", CONFIG, "--actor", "iran", *options]).output
    )


def test_interests_are_named_in_words_with_their_proper_nouns():
    """`alignment_against_us` reads "alignment against US", never "against us"."""
    text = CliRunner().invoke(cli, ["brief", CONFIG, "--actor", "china"]).output
    for factor in China.FACTORS:
        assert f"| {readable(factor)} |" in text, factor
    assert "| alignment against US |" in text and "| BRICS/SCO credibility |" in text
    assert "against us" not in text


def test_teams_at_the_terminal_write_to_each_other_and_the_model_answers():
    lines = [
        "say atlantis Hello",
        "say china Will you keep buying our oil?",
        "say Russia Will you back us at the Security Council?",
        "hold firm",  # a move typed by its name in words
        "rhetoric",
        "maintain purchases",
    ]
    result = play(["--as", "iran,china", "--set", "horizon=1"], lines)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "! Say to whom? say TO TEXT, with TO one of: " in out
    assert "Sent to Team Beijing (China)." in out
    assert "Sent to Russia (played by the model)." in out
    assert "Russia (played by the model) answers: " in out
    assert "Team Tehran: hold firm. Recorded." in out
    china_seat = out.split("team Beijing plays China")[1]
    assert "Message from Team Tehran (Iran): Will you keep buying our oil?" in china_seat
    assert "Will you back us" not in china_seat  # Iran's private thread with Moscow
    assert "Team Beijing: rhetoric, maintain purchases. Recorded." in out
