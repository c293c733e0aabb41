"""The `classroom:` block: the shipped scenario is valid, and every mistake is one clear line."""

from __future__ import annotations

import textwrap

import pytest
from classroom.helpers import CONFIG

from sim.classroom.config import ClassroomConfig, classroom_for, load_game_config
from sim.cli import main
from sim.scenario.config import load_scenario
from sim.scenario.errors import ConfigError


def scenario_file(tmp_path, block: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {CONFIG}\n" + textwrap.dedent(block), encoding="utf-8")
    return str(path)


def test_the_shipped_classroom_scenario_has_three_teams_and_events():
    scenario, path = load_game_config(CONFIG)
    block = scenario.classroom
    assert isinstance(block, ClassroomConfig)
    assert path.endswith("classroom.yaml")
    assert [t.actor for t in block.teams] == ["iran", "china", "russia"]
    assert block.late_policy == "model_moves" and block.advisor and block.deadline_minutes
    assert {"us_strikes_enrichment_sites", "tanker_seized", "taiwan_strait_exercises"} <= {
        e.name for e in block.events
    }


@pytest.mark.parametrize(
    ("block", "field", "expected", "line"),
    [
        (
            "classroom:\n  late_policy: sometimes\n",
            "classroom.late_policy",
            "'model_moves' or 'wait' (got 'sometimes')",
            3,
        ),
        (
            "classroom:\n  deadline: 5\n",
            "classroom.deadline",
            "unknown field 'deadline' (expected one of: title, teams, deadline_minutes",
            3,
        ),
        (
            "classroom:\n  deadline_minutes: -1\n",
            "classroom.deadline_minutes",
            "greater than 0",
            3,
        ),
        (
            "classroom:\n  deadline_minutes: .nan\n",
            "classroom.deadline_minutes",
            "finite number",
            3,
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, effects: {oil_price: .inf}}\n",
            "classroom.events.0.effects.oil_price",
            "finite number",
            None,
        ),
        (
            "classroom:\n  teams:\n    - {actor: iran, name: A}\n    - {actor: iran, name: B}\n",
            "classroom",
            "each team actor must be unique (repeated: iran)",
            None,
        ),
    ],
)
def test_schema_mistakes_name_the_file_the_field_and_what_was_expected(
    tmp_path, block, field, expected, line
):
    path = scenario_file(tmp_path, block)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.file.endswith("bad.yaml")
    assert error.field == field
    assert expected in error.expected
    if line is not None:
        assert error.line == line
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("block", "field", "expected"),
    [
        (
            "classroom:\n  teams:\n    - {actor: france, name: Paris}\n",
            "classroom.teams.0.actor",
            "unknown actor 'france' (expected one of: iran, united_states",
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, actor: united_states, action: nuke}\n",
            "classroom.events.0.action",
            "unknown action 'nuke' for united_states",
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, effects: {rain: 1}}\n",
            "classroom.events.0.effects.rain",
            "unknown effect",
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, context: {weather: 0.5}}\n",
            "classroom.events.0.context.weather",
            "Input should be 'russia_ukraine_commitment', ",
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, context: {sanctions_intensity: 2}}\n",
            "classroom.events.0.context.sanctions_intensity",
            "less than or equal to 1",
        ),
        (
            "classroom:\n  events:\n    - {name: quiet, note: Nothing happens}\n",
            "classroom.events.0",
            "needs 'actor' and 'action', 'effects' or 'context'",
        ),
        (
            "classroom:\n  events:\n    - {name: x, note: y, actor: iran}\n",
            "classroom.events.0",
            "needs both 'actor' and 'action'",
        ),
    ],
)
def test_references_to_actors_actions_and_effects_are_checked(tmp_path, block, field, expected):
    path = scenario_file(tmp_path, block)
    with pytest.raises(ConfigError) as caught:
        load_game_config(path)
    assert caught.value.field == field
    assert expected in caught.value.expected
    assert caught.value.file.endswith("bad.yaml") and caught.value.line == 4


@pytest.mark.parametrize(
    "what",
    [
        "{note: y, context: {weather: 0.5}}",
        "{note: y, context: {sanctions_intensity: 2}}",
        "{note: y, effects: {rain: 1}}",
        "{note: y, actor: united_states, action: nuke}",
        "{note: y, actor: iran}",
        "{note: y}",
    ],
)
def test_an_event_and_a_scenarios_inject_obey_the_same_rules(tmp_path, what):
    """Events are checked by the schema and checks of `sim.scenario.config.Inject`, not a copy."""
    event = what.replace("{", "{name: x, ", 1)
    inject = what.replace("{", "{turn: 1, ", 1)
    errors = {}
    for key, block in (
        ("event", f"classroom:\n  events:\n    - {event}\n"),
        ("inject", f"injects:\n  - {inject}\n"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_scenario(scenario_file(tmp_path, block))
        errors[key] = caught.value
    # (an event's numbers are read as numbers first: 2 shows as 2.0)
    same = [e.expected.replace(".0)", ")") for e in errors.values()]
    assert same[0] == same[1]
    assert errors["event"].field.removeprefix("classroom.events.0") == errors[
        "inject"
    ].field.removeprefix("injects.0")


def test_the_command_line_reports_a_bad_block_in_one_line_with_exit_code_2(tmp_path, capsys):
    path = scenario_file(tmp_path, "classroom:\n  teams:\n    - {actor: france, name: Paris}\n")
    for command in (
        ["classroom", path],
        ["play", path, "--as", "iran"],
        ["brief", path, "--actor", "iran"],
    ):
        with pytest.raises(SystemExit) as caught:
            main(command)
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "bad.yaml:4: classroom.teams.0.actor: unknown actor 'france'" in err


def test_teams_from_the_command_line_keep_the_blocks_names_and_settings():
    scenario, _ = load_game_config(CONFIG)
    chosen = classroom_for(scenario, ["china", "united_states"])
    assert [(t.actor, t.name) for t in chosen.teams] == [
        ("china", "Beijing"),
        ("united_states", "United States"),
    ]
    assert chosen.events == scenario.classroom.events
    with pytest.raises(ConfigError, match="unknown actor 'mars'"):
        classroom_for(scenario, ["mars"])
    baseline = load_scenario("baseline")
    with pytest.raises(ConfigError, match="no classroom block"):
        classroom_for(baseline, None)
    assert classroom_for(baseline, ["iran"]).teams[0].name == "Iran"
