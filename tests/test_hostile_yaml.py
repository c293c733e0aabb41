"""Hostile scenario files and values: bounded before they are walked, one-line errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.scenario.config import load_scenario
from sim.scenario.errors import ConfigError
from sim.scenario.reader import MAX_DEPTH

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.yaml"


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(f"extends: {BASELINE}\n" + text)
    return path


def test_alias_bomb_is_refused_at_once(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write(tmp_path, "templates:\n" + "".join(f"  {line}\n" for line in lines))
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than"):
        load_scenario(path)
    assert time.perf_counter() - started < 5


def test_aliases_used_sparingly_still_work(tmp_path):
    path = write(tmp_path, "templates:\n  x: &x [1, 2]\n  y: *x\n")
    templates = load_scenario(path).templates
    assert templates["x"] == templates["y"] == [1, 2]


def test_duplicate_key_names_both_lines(tmp_path):
    path = write(tmp_path, "name: first\ndescription: d\nname: second\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.field == "name" and caught.value.line == 4
    assert "lines 2 and 4" in str(caught.value)


def test_deep_nesting_is_refused(tmp_path):
    depth = MAX_DEPTH + 5
    path = write(tmp_path, "templates:\n  x: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ConfigError, match="nested deeper"):
        load_scenario(path)


def test_recursive_alias_is_refused(tmp_path):
    path = write(tmp_path, "templates: &t\n  x: *t\n")
    with pytest.raises(ConfigError, match="refers to itself"):
        load_scenario(path)


def test_text_that_is_not_utf8_names_its_line(tmp_path):
    path = write(tmp_path, b"name: a\ndescription: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        load_scenario(path)
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "override, field",
    [
        ("context.sanctions_intensity=.nan", "context.sanctions_intensity"),
        ("dynamics.oil.base_price=.inf", "dynamics.oil.base_price"),
        ("dynamics.oil.volatility=-.inf", "dynamics.oil.volatility"),
        ("actors.russia.rationality=.nan", "actors.russia.rationality"),
        (
            "context.gulf_china_trade={dist: uniform, low: .nan, high: 1}",
            "context.gulf_china_trade",
        ),
        ("injects=[{turn: 2, effects: {escalation: .nan}}]", "injects.0.effects.escalation"),
    ],
)
def test_nan_and_infinity_are_refused(override, field):
    with pytest.raises(ConfigError) as caught:
        load_scenario(BASELINE, [override])
    assert str(caught.value.field).startswith(field)


def test_infinite_rationality_is_best_response_and_allowed():
    scenario = load_scenario(BASELINE, ["actors.russia.rationality=.inf"])
    assert scenario.actors["russia"].rationality == float("inf")


def test_alias_bomb_in_a_set_value_is_refused():
    bomb = "[" + ", ".join(["&a [x, x, x, x, x, x, x, x, x]"] + ["*a"] * 8) + "]"
    for level in range(9):
        bomb = f"[&b{level} {bomb}, " + ", ".join([f"*b{level}"] * 8) + "]"
    with pytest.raises(ConfigError, match="expands to more than"):
        load_scenario(BASELINE, [f"templates.x={bomb}"])
