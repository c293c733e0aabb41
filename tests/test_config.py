"""Scenario files: loading, `extends`, `--set` overrides and one-line validation errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from actors import ACTOR_CLASSES
from sim.cli import main
from sim.engine.model import CrisisModel
from sim.scenario.config import CONFIG_ROOT, load_scenario
from sim.scenario.distributions import Uniform
from sim.scenario.errors import ConfigError

BASELINE = CONFIG_ROOT / "baseline.yaml"
SHIPPED = sorted(CONFIG_ROOT.glob("*.yaml"))
SCENARIO_NAMES = [p.stem for p in SHIPPED]


def config_error(path, overrides=()) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, list(overrides))
    return caught.value


def assert_one_line(error: ConfigError, file: Path | str, field: str | None, line: int | None):
    """The message is `file[:line]:[ field:] expected`, on one line, and names the right file."""
    text = str(error)
    assert "\n" not in text and "\r" not in text
    if isinstance(file, Path):
        assert Path(error.file).resolve() == file.resolve()
    else:
        assert error.file == file
    assert error.field == field
    assert error.line == line
    where = error.file if line is None else f"{error.file}:{line}"
    what = f" {field}:" if field else ""
    assert text == f"{where}:{what} {error.expected}"
    assert error.expected.strip()


# ----------------------------------------------------------------------------- shipped scenarios


def test_there_are_shipped_scenarios():
    assert {"baseline", "twelve_day_war", "regime_change", "max_pressure"} <= set(SCENARIO_NAMES)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_every_shipped_scenario_loads_and_checks(name, capsys):
    crisis = load_scenario(CONFIG_ROOT / f"{name}.yaml")
    assert crisis.name
    assert load_scenario(name) == crisis  # found by name too
    main(["check", str(CONFIG_ROOT / f"{name}.yaml")])
    out, err = capsys.readouterr()
    assert err == ""
    assert f"ok - scenario '{crisis.name}'" in out
    assert len(out.strip().splitlines()) == 1


def test_wargame_check_passes_from_the_command_line():
    result = subprocess.run(
        [_wargame(), "check", "configs/baseline.yaml", "--set", "horizon=12"],
        cwd=CONFIG_ROOT.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "ok - scenario 'baseline', 12 turns" in result.stdout


def test_scenarios_inherit_and_override_the_baseline(scenario):
    base, war = scenario("baseline"), scenario("twelve_day_war")
    assert war.horizon != base.horizon
    assert war.dynamics == base.dynamics  # inherited untouched
    assert war.actors == base.actors
    assert war.context.sanctions_intensity == base.context.sanctions_intensity
    assert war.context.us_regime_change_intent != base.context.us_regime_change_intent
    assert war.injects and not base.injects


# ----------------------------------------------------------------------------- --set paths


@pytest.mark.parametrize(
    "name", ["russia_ukraine_commitment", "china_taiwan_tension", "sanctions_intensity"]
)
def test_set_a_context_value(name, scenario):
    default = CrisisModel(scenario("baseline"), 50, rng=1).world.context[name]
    crisis = scenario("baseline", f"context.{name}=0.37")
    assert getattr(crisis.context, name) == 0.37
    drawn = CrisisModel(crisis, 50, rng=1).world.context[name]
    np.testing.assert_array_equal(drawn, 0.37)
    assert not np.allclose(default, 0.37)


def test_set_a_context_value_to_a_distribution(scenario):
    crisis = scenario("baseline", "context.sanctions_intensity={dist: uniform, low: 0.9, high: 1}")
    assert crisis.context.sanctions_intensity == Uniform(dist="uniform", low=0.9, high=1.0)
    drawn = CrisisModel(crisis, 200, rng=1).world.context["sanctions_intensity"]
    assert drawn.min() >= 0.9 and drawn.max() <= 1.0 and drawn.std() > 0


@pytest.mark.parametrize("actor_id", list(load_scenario(BASELINE).actors))
def test_set_every_weight_and_the_rationality_of_an_actor(actor_id, scenario):
    crisis = scenario("baseline")
    factors = list(ACTOR_CLASSES[crisis.actors[actor_id].kind].FACTORS)
    default = CrisisModel(crisis, 20, rng=2).actors[actor_id]
    for index, factor in enumerate(factors):
        value = 2.345 + index
        changed = scenario("baseline", f"actors.{actor_id}.weights.{factor}={value}")
        actor = CrisisModel(changed, 20, rng=2).actors[actor_id]
        np.testing.assert_array_equal(actor.weights[:, index], value)
        # Only that weight changed.
        others = [i for i in range(len(factors)) if i != index]
        np.testing.assert_array_equal(actor.weights[:, others], default.weights[:, others])
    changed = scenario("baseline", f"actors.{actor_id}.rationality=7.5")
    actor = CrisisModel(changed, 20, rng=2).actors[actor_id]
    np.testing.assert_array_equal(actor.rationality, 7.5)
    assert not np.array_equal(default.rationality, actor.rationality)


def test_set_reads_yaml_values_and_changes_only_the_named_actor(scenario):
    crisis = scenario("baseline", "actors.saudi_arabia.actions.hedge.loadings.retaliation_fear=9")
    assert crisis.actors["saudi_arabia"].actions["hedge"].loadings["retaliation_fear"] == 9
    # The Gulf states share one action menu through a YAML anchor; the others keep theirs.
    base = scenario("baseline").actors["uae"].actions["hedge"]
    assert crisis.actors["uae"].actions["hedge"] == base
    assert crisis.actors["qatar"].actions["hedge"] == base


def test_several_overrides_apply_in_order(scenario):
    crisis = scenario("baseline", "horizon=7", "horizon=9", "dynamics.oil.volatility=0")
    assert crisis.horizon == 9
    assert crisis.dynamics.oil.volatility == 0


# ----------------------------------------------------------------------------- errors in files


BAD_FILES = {
    "unknown_top_level_key": (
        "extends: {baseline}\nbogus: 1\n",
        "bogus",
        2,
        ["unknown field 'bogus'", "horizon"],
    ),
    "unknown_nested_key": (
        "extends: {baseline}\nactors:\n  russia:\n    weights:\n      ukraine_commitmnt: 1.0\n",
        "actors.russia.weights.ukraine_commitmnt",
        5,
        ["unknown factor for russia (expected", "ukraine_commitment"],
    ),
    "unknown_key_in_a_rule": (
        "extends: {baseline}\ndynamics:\n  oil:\n    harassment_premum: 40\n",
        "dynamics.oil.harassment_premum",
        4,
        ["unknown field", "harassment_premium"],
    ),
    "unknown_key_in_an_actor": (
        "extends: {baseline}\nactors:\n  china:\n    rationalty: 3\n",
        "actors.china.rationalty",
        4,
        ["unknown field", "rationality"],
    ),
    "string_for_a_number": (
        "extends: {baseline}\nturn_days: three\n",
        "turn_days",
        2,
        ["expected a number", "'three'"],
    ),
    "string_for_a_parameter": (
        "extends: {baseline}\nactors:\n  russia:\n    rationality: high\n",
        "actors.russia.rationality",
        4,
        ["expected a number or a distribution", "'high'"],
    ),
    "string_for_an_integer": (
        "extends: {baseline}\nhorizon: many\n",
        "horizon",
        2,
        ["integer", "'many'"],
    ),
    "value_out_of_range": (
        "extends: {baseline}\ncontext:\n  sanctions_intensity: 1.5\n",
        "context.sanctions_intensity",
        3,
        ["[0.0, 1.0]", "1.5"],
    ),
    "distribution_leaving_the_range": (
        "extends: {baseline}\ncontext:\n\n"
        "  sanctions_intensity: {dist: uniform, low: 0.5, high: 1.2}\n",
        "context.sanctions_intensity",
        4,
        ["[0.0, 1.0]", "1.2"],
    ),
    "unbounded_normal_for_a_share": (
        "extends: {baseline}\ncontext:\n  gulf_china_trade: {dist: normal, mean: 0.5, sd: 0.1}\n",
        "context.gulf_china_trade",
        3,
        ["[0.0, 1.0]"],
    ),
    "belief_off_the_ladder": (
        "extends: {baseline}\ninitial:\n  iran_belief:\n    russia: 7.5\n",
        "initial.iran_belief.russia",
        4,
        ["[0.0, 7.0]"],
    ),
    "negative_weight": (
        "extends: {baseline}\nactors:\n  china:\n    weights:\n      taiwan_focus: -1\n",
        "actors.china.weights.taiwan_focus",
        5,
        ["[0.0, inf]"],
    ),
    "unknown_distribution": (
        "extends: {baseline}\ncontext:\n  gulf_china_trade: {dist: lognormal, mu: 0}\n",
        "context.gulf_china_trade",
        3,
        ["distribution"],
    ),
    "inverted_uniform": (
        "extends: {baseline}\ncontext:\n  gulf_china_trade: {dist: uniform, low: 0.9, high: 0.1}\n",
        "context.gulf_china_trade",
        3,
        ["high (0.1) must be >= low (0.9)"],
    ),
    "inverted_clipped_normal": (
        "extends: {baseline}\ncontext:\n"
        "  gulf_china_trade: {dist: normal, mean: 0.5, sd: 0.1, low: 0.9, high: 0.1}\n",
        "context.gulf_china_trade",
        3,
        ["high (0.1) must be >= low (0.9)"],
    ),
    "inverted_beta": (
        "extends: {baseline}\ncontext:\n"
        "  gulf_china_trade: {dist: beta, a: 2, b: 2, low: 0.9, high: 0.1}\n",
        "context.gulf_china_trade",
        3,
        ["high (0.1) must be >= low (0.9)"],
    ),
    "missing_extends_target": (
        "extends: no_such_scenario.yaml\nname: orphan\n",
        "extends",
        1,
        ["no scenario 'no_such_scenario.yaml'"],
    ),
    "extends_not_a_name": (
        "extends: {a: 1}\nname: odd\n",
        "extends",
        1,
        ["expected a scenario name"],
    ),
    "inject_naming_an_unknown_actor": (
        "extends: {baseline}\ninjects:\n  - turn: 2\n    actor: hezbollah\n    action: strike\n",
        "injects.0.actor",
        4,
        ["unknown actor 'hezbollah'", "iran"],
    ),
    "inject_naming_an_unknown_action": (
        "extends: {baseline}\ninjects:\n  - turn: 2\n    actor: iran\n    action: nuke\n",
        "injects.0.action",
        5,
        ["unknown action 'nuke' for iran", "missile_strike"],
    ),
    "inject_with_an_unknown_effect": (
        "extends: {baseline}\ninjects:\n  - turn: 2\n    effects: {earthquake: 1}\n",
        "injects.0.effects.earthquake",
        4,
        ["unknown effect", "escalation_floor"],
    ),
    "inject_after_the_horizon": (
        "extends: {baseline}\nhorizon: 5\ninjects:\n  - turn: 6\n    effects: {oil_price: 1}\n",
        "injects.0.turn",
        4,
        ["after the horizon"],
    ),
    "inject_with_half_a_move": (
        "extends: {baseline}\ninjects:\n  - turn: 2\n    actor: iran\n",
        "injects.0",
        3,
        ["needs both 'actor' and 'action'"],
    ),
    "bad_precondition": (
        "extends: {baseline}\nactors:\n  iran:\n    actions:\n      negotiate:\n"
        "        requires: ['escalation >> 4']\n",
        "actors.iran.actions.negotiate.requires.0",
        6,
        ["expected a condition like"],
    ),
    "misspelt_factor_in_covert_rules": (
        "extends: {baseline}\nactors:\n  russia:\n    covert:\n      loading_scale:\n"
        "        escalaton_risk: 0.4\n",
        "actors.russia.covert.loading_scale.escalaton_risk",
        6,
        ["unknown factor", "escalation_risk"],
    ),
    "covert_rung_without_an_action": (
        "extends: {baseline}\nactors:\n  china:\n    covert:\n      levels: [3, 9]\n",
        "actors.china.covert.levels.1",
        5,
        ["no action on rung 9"],
    ),
    "covert_rules_for_a_gulf_state": (
        "extends: {baseline}\nactors:\n  qatar:\n    covert:\n      levels: [3]\n"
        "      loading_scale: {}\n      effect_scale: 0.5\n      discovery_probability: 0.1\n",
        "actors.qatar.covert",
        4,
        ["for Russia and China only"],
    ),
    "support_level_for_a_gulf_state": (
        "extends: {baseline}\nactors:\n  qatar:\n    actions:\n      mediate:\n        level: 2\n",
        "actors.qatar.actions.mediate.level",
        6,
        ["for Russia and China only"],
    ),
    "non_mapping_document": ("- a\n- b\n", None, 1, ["expected a mapping", "list"]),
    "empty_file": ("", None, 1, ["expected a mapping", "empty"]),
    "yaml_syntax_error": (
        "extends: {baseline}\nname: broken\ncontext: [unclosed\n",
        None,
        4,
        ["not valid YAML"],
    ),
    "yaml_bad_indentation": (
        "extends: {baseline}\ncontext:\n  sanctions_intensity: 0.5\n   oops: 1\n",
        None,
        4,
        ["not valid YAML"],
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=str)
def test_bad_scenario_files_give_one_line_errors(case, write_yaml):
    text, field, line, expected = BAD_FILES[case]
    path = write_yaml(text, f"{case}.yaml")
    error = config_error(path)
    assert_one_line(error, path, field, line)
    for fragment in expected:
        assert fragment in error.expected


def test_a_missing_file_is_a_config_error(tmp_path):
    error = config_error(tmp_path / "nowhere.yaml")
    assert_one_line(error, tmp_path / "nowhere.yaml", None, None)
    assert "file not found" in error.expected


def test_circular_extends_is_a_config_error(write_yaml):
    write_yaml("extends: second.yaml\nname: first\n", "first.yaml")
    path = write_yaml("extends: first.yaml\nname: second\n", "second.yaml")
    error = config_error(path)
    assert "circular" in error.expected and error.field == "extends"
    assert "\n" not in str(error)


def test_errors_in_a_parent_point_into_the_parent(write_yaml):
    parent = write_yaml(
        "extends: {baseline}\nname: parent\n\ncontext:\n  sanctions_intensity: 2.0\n", "p.yaml"
    )
    child = write_yaml("extends: p.yaml\nname: child\n", "c.yaml")
    error = config_error(child)
    assert_one_line(error, parent, "context.sanctions_intensity", 5)


def test_errors_in_an_overriding_list_point_at_the_override(write_yaml):
    """A list replaces the inherited one: its errors must not be placed in the parent file."""
    path = write_yaml(
        f"extends: {CONFIG_ROOT / 'regime_change.yaml'}\ninjects:\n"
        "  - note: no turn here\n    effects: {oil_price: 1.0}\n"
    )
    error = config_error(path)
    assert_one_line(error, path, "injects.0.turn", 3)
    assert "missing" in error.expected


# ----------------------------------------------------------------------------- distributions


def test_an_overriding_distribution_replaces_the_inherited_one(write_yaml):
    """Keys of the parent's `uniform` must not leak into a `choice` or `normal` that replaces it."""
    choice = load_scenario(
        write_yaml(
            "extends: {baseline}\ncontext:\n"
            "  sanctions_intensity: {dist: choice, values: [0.6, 0.8]}\n",
            "choice.yaml",
        )
    )
    assert choice.context.sanctions_intensity.values == [0.6, 0.8]
    drawn = CrisisModel(choice, 400, rng=1).world.context["sanctions_intensity"]
    assert set(np.unique(drawn)) == {0.6, 0.8}
    normal = load_scenario(
        write_yaml(
            "extends: {baseline}\ncontext:\n"
            "  sanctions_intensity: {dist: normal, mean: 0.6, sd: 0.05, low: 0.4, high: 0.8}\n",
            "normal.yaml",
        )
    )
    assert normal.context.sanctions_intensity.support() == (0.4, 0.8)
    partial = write_yaml(
        "extends: {baseline}\ncontext:\n  sanctions_intensity: {dist: uniform, low: 0.3}\n",
        "partial.yaml",
    )
    error = config_error(partial)
    assert_one_line(error, partial, "context.sanctions_intensity.high", 3)
    assert "missing" in error.expected


def test_a_mapping_without_dist_still_merges_into_the_inherited_distribution(write_yaml):
    crisis = load_scenario(
        write_yaml("extends: {baseline}\ncontext:\n  sanctions_intensity: {high: 0.65}\n")
    )
    base = load_scenario(CONFIG_ROOT / "baseline.yaml").context.sanctions_intensity
    assert crisis.context.sanctions_intensity == Uniform(dist="uniform", low=base.low, high=0.65)


# ----------------------------------------------------------------------------- --set errors


@pytest.mark.parametrize(
    ("assignment", "field", "expected"),
    [
        ("context.nope=1", "context.nope", ["no such field", "sanctions_intensity"]),
        ("nope.deeper=1", "nope", ["no such field", "horizon"]),
        (
            "actors.russia.weights.ukraine_commitmnt=1",
            "actors.russia.weights.ukraine_commitmnt",
            ["no such field", "ukraine_commitment"],
        ),
        ("horizon.turns=3", "horizon.turns", ["no such field", "horizon is a value"]),
        ("actors.hezbollah.rationality=2", "actors.hezbollah", ["no such field", "russia"]),
        ("context.sanctions_intensity", "context.sanctions_intensity", ["path=value"]),
        ("context..x=1", "context..x", ["dotted path"]),
        ("context.sanctions_intensity=1.5", "context.sanctions_intensity", ["[0.0, 1.0]"]),
        ("context.sanctions_intensity=abc", "context.sanctions_intensity", ["number", "'abc'"]),
        ("horizon=0", "horizon", ["greater than or equal to 1"]),
        # NaN is told the same way in a probability, a plain number and a distribution-able one
        ("context.sanctions_intensity=.nan", "context.sanctions_intensity", ["finite number"]),
        ("dynamics.oil.base_price=.nan", "dynamics.oil.base_price", ["finite number (got nan)"]),
        ("actors.iran.rationality=.nan", "actors.iran.rationality", ["finite number (got nan)"]),
        ("injects.0.turn=3", "injects.0", ["list item", "injects=[...]"]),
    ],
)
def test_bad_overrides_give_one_line_errors(assignment, field, expected):
    error = config_error(BASELINE, [assignment])
    assert_one_line(error, "--set", field, None)
    for fragment in expected:
        assert fragment in error.expected


def test_an_item_of_a_list_the_scenario_has_is_refused_like_a_missing_one():
    error = config_error(CONFIG_ROOT / "twelve_day_war.yaml", ["injects.0.turn=3"])
    assert_one_line(error, "--set", "injects.0.turn", None)
    assert "list item" in error.expected and "injects=[...]" in error.expected


# ----------------------------------------------------------------------------- the CLI


def _wargame() -> str:
    """The `wargame` script installed next to the interpreter running the tests."""
    return str(Path(sys.executable).with_name("wargame"))


@pytest.mark.parametrize(
    "case", ["unknown_top_level_key", "yaml_syntax_error", "non_mapping_document"]
)
def test_wargame_check_reports_a_bad_file_on_one_line(case, write_yaml):
    path = write_yaml(BAD_FILES[case][0], f"{case}.yaml")
    result = subprocess.run(
        [_wargame(), "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert f"{case}.yaml" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_check_exits_with_code_2_for_every_bad_file(case, write_yaml, capsys):
    path = write_yaml(BAD_FILES[case][0], f"{case}.yaml")
    with pytest.raises(SystemExit) as exited:
        main(["check", str(path)])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert err.strip() == f"error: {config_error(path)}"


def test_check_reports_a_missing_file_and_a_bad_override(tmp_path, capsys):
    for argv in (
        ["check", str(tmp_path / "nowhere.yaml")],
        ["check", str(BASELINE), "--set", "context.nope=1"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("error: ")
