"""Bad arguments on the command line: one line starting `error:`, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.errors import ConfigError
from sim.scenario.experiment import make_plan
from sim.scenario.limits import MAX_POINTS, MAX_REPLICATIONS

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "configs" / "baseline.yaml")


def fails(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", BASELINE, "--seed", "-1"], "--seed"),
        (["run", BASELINE, "--replication", "99999999999999999999999"], "--replication"),
        (["run", BASELINE, "--replication", "-3"], "--replication"),
        (["batch", BASELINE, "--runs", str(MAX_REPLICATIONS + 1)], "--runs"),
        (["batch", BASELINE, "--runs", "1000000000000"], "--runs"),
        (["batch", BASELINE, "--workers", "0"], "--workers"),
        (["batch", BASELINE, "--chunk-size", "0"], "--chunk-size"),
        (["batch", BASELINE, "--engine", "dask", "--scheduler", "nonsense://x"], "--scheduler"),
        (["batch", BASELINE, "--scheduler", "tcp://host:8786"], "--engine dask"),
        (["batch", BASELINE, "--no-such-option"], "--no-such-option"),
        (["batch"], "CONFIG"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_bad_arguments_are_one_line(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert expected in fails(capsys, *argv)
    assert not list(tmp_path.iterdir()), "nothing may be written"


def test_set_value_out_of_range_is_one_line(capsys):
    err = fails(capsys, "check", BASELINE, "--set", "context.sanctions_intensity=.nan")
    assert "context.sanctions_intensity" in err


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(f"extends: {BASELINE}\nexperiment:\n{body}")
    return path


def test_a_design_past_the_limit_is_refused_before_planning(tmp_path):
    values = ", ".join(str(i / 100) for i in range(100))
    grid = "".join(
        f"    context.{name}: [{values}]\n"
        for name in ("russia_ukraine_commitment", "sanctions_intensity", "gulf_china_trade")
    )
    with pytest.raises(ConfigError, match=f"at most {MAX_POINTS:,}"):
        make_plan(write(tmp_path, f"  grid:\n{grid}"))


def test_a_sobol_design_counts_its_real_size(tmp_path):
    sample = "  sample:\n    method: sobol\n    points: 65536\n"
    sample += "    ranges: {context.sanctions_intensity: [0, 1]}\n"
    with pytest.raises(ConfigError, match="196,608 sweep points"):
        make_plan(write(tmp_path, sample))


def test_runs_past_the_cap_are_refused_from_the_python_api_too():
    with pytest.raises(ConfigError, match="experiment.replications"):
        make_plan(BASELINE, replications=MAX_REPLICATIONS + 1)


def test_a_large_sweep_plans_with_progress(tmp_path):
    seen = []
    values = ", ".join(str(i / 10) for i in range(10))
    plan = make_plan(
        write(tmp_path, f"  grid:\n    context.sanctions_intensity: [{values}]\n"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(plan.points) == 10 and seen[-1] == (10, 10)
    assert [p.scenario.context.sanctions_intensity for p in plan.points][3] == 0.3


@pytest.mark.parametrize(
    "body, field",
    [
        ("  grid:\n    context.nope: [0.1, 0.2]\n", "context.nope"),
        (
            "  grid:\n    context.china_taiwan_tension: [0.1, 0.5]\n"
            "    context.sanctions_intensity: [0.5, 1.5]\n",
            "context.sanctions_intensity",
        ),
        (
            "  sample: {method: lhs, points: 4,\n"
            "           ranges: {context.sanctions_intensity: [0.5, 1.2]}}\n",
            "context.sanctions_intensity",
        ),
        ("  scenarios: [baseline, no_such_scenario]\n", "experiment.scenarios"),
    ],
)
def test_check_validates_the_sweep_as_batch_would(capsys, tmp_path, body, field):
    path = str(write(tmp_path, body))
    assert field in fails(capsys, "check", path)
    assert field in fails(capsys, "batch", path, "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_check_of_a_sweep_probes_few_points_and_counts_them_all(capsys, tmp_path):
    values = ", ".join(str(i / 100) for i in range(50))
    grid = f"  grid:\n    context.sanctions_intensity: [{values}]\n"
    grid += f"    context.gulf_china_trade: [{values}]\n"
    path = write(tmp_path, grid)
    probed = make_plan(path, probe=True)
    assert len(probed.points) == 100  # every value once per parameter, not 2,500 points
    seen = {
        (p.scenario.context.sanctions_intensity, p.scenario.context.gulf_china_trade)
        for p in probed.points
    }
    assert {s for s, _ in seen} == {i / 100 for i in range(50)}
    assert {g for _, g in seen} == {i / 100 for i in range(50)}
    main(["check", str(path)])
    assert "2,500 sweep points" in capsys.readouterr().out
