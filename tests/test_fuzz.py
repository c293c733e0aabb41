"""Property-based tests: whatever a user writes or breaks, the outcome is one of exactly two.

Either the command succeeds, or it prints one line starting `error:` and exits with code 2,
leaving the results folder as it was. A fixed, small example budget runs with the suite; the
same properties run with a large budget under the `fuzz` marker: `pytest -m fuzz`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis.results import Results
from sim.batch.runner import run_batch
from sim.cli import main
from sim.scenario.config import load_scenario
from sim.scenario.errors import WargameError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.yaml"
SMALL, LARGE = 12, 400

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["name", "horizon", "turn_days", "context", "initial", "actors", "injects", "experiment"]
PATHS = [
    "context.sanctions_intensity",
    "actors.russia.rationality",
    "actors.china.weights",
    "dynamics.oil.base_price",
    "initial.escalation",
    "experiment.replications",
    "experiment.seed",
    "horizon",
    "injects",
    "templates.x",
]


def one_of_two(action: Callable[[], object]) -> None:
    """Success, or a user error whose message is one line."""
    try:
        action()
    except WargameError as error:
        message = str(error)
        assert message and "\n" not in message, message


def budgeted(examples: int, fuzz: bool = False):
    """The same property with the suite's small budget or the fuzz marker's large one."""

    def wrap(test):
        test = settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            derandomize=not fuzz,
        )(test)
        return pytest.mark.fuzz(test) if fuzz else test

    return wrap


# ----------------------------------------------------------------------------- scenario files


def check_scenario_file(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "fuzzed.yaml"
    path.write_text(yaml.safe_dump({"extends": str(BASELINE), **document}, allow_unicode=True))
    one_of_two(lambda: load_scenario(path))


scenario_documents = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), values)


@budgeted(SMALL)
@given(document=scenario_documents)
def test_any_scenario_file_loads_or_is_one_line(tmp_path, document):
    check_scenario_file(tmp_path, document)


@budgeted(LARGE, fuzz=True)
@given(document=scenario_documents)
def test_any_scenario_file_loads_or_is_one_line_fuzz(tmp_path, document):
    check_scenario_file(tmp_path, document)


def check_raw_text(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "raw.yaml"
    path.write_bytes(f"extends: {BASELINE}\n".encode() + payload)
    one_of_two(lambda: load_scenario(path))


raw_payloads = st.binary(max_size=200) | st.text(max_size=200).map(str.encode)


@budgeted(SMALL)
@given(payload=raw_payloads)
def test_any_bytes_in_a_scenario_file(tmp_path, payload):
    check_raw_text(tmp_path, payload)


@budgeted(LARGE, fuzz=True)
@given(payload=raw_payloads)
def test_any_bytes_in_a_scenario_file_fuzz(tmp_path, payload):
    check_raw_text(tmp_path, payload)


def check_override(path: str, value: object) -> None:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True)
    one_of_two(lambda: load_scenario(BASELINE, [f"{path}={text.strip()}"]))


@budgeted(SMALL)
@given(path=st.sampled_from(PATHS) | st.text(max_size=10), value=values)
def test_any_set_value(path, value):
    check_override(path, value)


@budgeted(LARGE, fuzz=True)
@given(path=st.sampled_from(PATHS) | st.text(max_size=10), value=values)
def test_any_set_value_fuzz(path, value):
    check_override(path, value)


# ----------------------------------------------------------------------------- run folders


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "b"
    run_batch(BASELINE, runs=200, chunk_size=100, workers=1, out=out, show_progress=False)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


damages = st.tuples(
    st.sampled_from(["truncate", "flip", "delete"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
)


def check_damage(finished: Path, work: Path, damage: tuple[str, int, int]) -> None:
    folder = work / "b"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(finished, folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".lock")
    kind, which, where = damage
    target = files[which % len(files)]
    payload = target.read_bytes()
    if kind == "delete":
        target.unlink()
    elif kind == "truncate":
        target.write_bytes(payload[: where % (len(payload) + 1)])
    elif payload:
        index = where % len(payload)
        target.write_bytes(payload[:index] + bytes([payload[index] ^ 0xFF]) + payload[index + 1 :])
    one_of_two(lambda: Results.load(folder).summary())
    before = snapshot(folder)
    try:
        run_batch(BASELINE, runs=200, chunk_size=100, workers=1, out=folder, show_progress=False)
    except WargameError as error:
        assert "\n" not in str(error)
        assert snapshot(folder) == before, "a refused folder must be left as it was"
        return
    table = Results.load(folder).outcomes
    assert len(table) == 200 and table.replication.is_unique


@budgeted(4)
@given(damage=damages)
def test_any_damage_to_a_run_folder(finished, tmp_path, damage):
    check_damage(finished, tmp_path, damage)


@budgeted(150, fuzz=True)
@given(damage=damages)
def test_any_damage_to_a_run_folder_fuzz(finished, tmp_path, damage):
    check_damage(finished, tmp_path, damage)


# ----------------------------------------------------------------------------- arguments

arguments = st.lists(
    st.sampled_from(["--seed", "--replication", "--set", "--json", "--nope", "-h"])
    | st.integers(min_value=-(2**70), max_value=2**70).map(str)
    | st.text(max_size=8),
    max_size=4,
)


def check_arguments(capsys, argv: list[str]) -> None:
    try:
        main(["run", str(BASELINE), *argv])
    except SystemExit as exited:
        err = capsys.readouterr().err
        if exited.code not in (0, None):
            assert exited.code == 2, (argv, err)
            assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)


@budgeted(SMALL)
@given(argv=arguments)
def test_any_arguments_to_run(capsys, argv):
    check_arguments(capsys, argv)


@budgeted(LARGE, fuzz=True)
@given(argv=arguments)
def test_any_arguments_to_run_fuzz(capsys, argv):
    check_arguments(capsys, argv)
