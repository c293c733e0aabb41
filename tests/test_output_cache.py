"""Figures and the report are made again only when what they are made from changes: a rerun
with nothing new neither loads the run nor draws, and any change to the tables, the summary or
the figures makes them again (timings are the bench's)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.batch.runner import run_batch
from sim.cli import main
from sim.output import fingerprint
from sim.scenario.config import CONFIG_ROOT

BASELINE = CONFIG_ROOT / "baseline.yaml"
HEAVY = ("pandas", "matplotlib", "pyarrow", "scipy", "numpy")


def wargame(*arguments: str) -> str:
    """Run the command line in this process and return what it printed."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        main(list(arguments))
    return stdout.getvalue()


def imported_by(*arguments: str) -> tuple[set[str], str]:
    """The top-level packages a command imported (in a fresh interpreter), and its output."""
    code = (
        "import json, sys\n"
        "from sim.cli import main\n"
        "try:\n"
        f"    main({list(arguments)!r})\n"
        "except SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    *output, modules = result.stdout.strip().splitlines()
    return set(json.loads(modules)), "\n".join(output)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    run_batch(BASELINE, runs=30, workers=1, out=out, show_progress=False)
    return out


def test_a_rerun_with_nothing_new_loads_and_draws_nothing(folder: Path) -> None:
    wargame("plot", str(folder), "--format", "png")
    wargame("report", str(folder))
    report = folder / "report.html"
    written = report.stat().st_mtime_ns, report.read_bytes()
    figures = {p.name: p.stat().st_mtime_ns for p in (folder / "plots").iterdir()}

    imported, output = imported_by("plot", str(folder), "--format", "png")
    assert "0 drawn" in output
    assert not imported & set(HEAVY)
    imported, output = imported_by("report", str(folder))
    assert output.splitlines()[-1] == str(report)
    assert not imported & set(HEAVY)
    assert (report.stat().st_mtime_ns, report.read_bytes()) == written
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "plots").iterdir()} == figures


def test_tables_rewritten_with_the_same_rows_keep_the_figures(folder: Path) -> None:
    wargame("plot", str(folder), "--format", "png")
    # the same batch again: every table is written anew, with the same bytes
    run_batch(BASELINE, runs=30, workers=1, out=folder, show_progress=False)
    record = fingerprint.current_gallery(folder, folder / "plots", ("png",), 150)
    assert record is not None and len(record["figures"]) > 10
    # a format not drawn yet is not current
    assert fingerprint.current_gallery(folder, folder / "plots", ("png", "svg"), 150) is None
    assert fingerprint.current_gallery(folder, folder / "plots", ("png",), 100) is None


def test_any_change_to_its_inputs_makes_the_report_again(folder: Path) -> None:
    wargame("plot", str(folder), "--format", "png")
    wargame("report", str(folder))
    report = folder / "report.html"
    assert fingerprint.current_report(folder, report)

    summary = folder / "summary.json"
    saved = summary.read_text(encoding="utf-8")
    summary.write_text(json.dumps(json.loads(saved)), encoding="utf-8")  # same data, new bytes
    assert not fingerprint.current_report(folder, report)
    wargame("report", str(folder))
    assert fingerprint.current_report(folder, report)

    figure = next((folder / "plots").glob("outcome_*.png"))
    figure.write_bytes(figure.read_bytes() + b"\0")
    assert not fingerprint.current_report(folder, report)

    # more runs: figures and report are made again and describe every run
    run_batch(BASELINE, runs=45, workers=1, out=folder, show_progress=False)
    assert " 0 unchanged" in wargame("plot", str(folder), "--format", "png")
    output = wargame("report", str(folder))
    assert output.splitlines()[-1] == str(report)
    assert fingerprint.current_report(folder, report)
    page = report.read_text(encoding="utf-8")
    assert "45 replications each" in page and "30 replications each" not in page


def test_a_report_elsewhere_keeps_its_own_mark(folder: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared" / "baseline.html"
    elsewhere.parent.mkdir()
    wargame("report", str(folder), "--out", str(elsewhere))
    assert fingerprint.current_report(folder, elsewhere)
    assert not fingerprint.current_report(folder, folder / "report.html")  # never written
