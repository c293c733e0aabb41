"""Start-up: what the quick commands import, so that they stay quick (timings are the bench's)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import BASELINE

HEAVY = ("mesa", "pandas", "scipy", "matplotlib", "pyarrow", "networkx", "dask")


def _imported_after(arguments: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        "from sim.cli import main\n"
        f"main({arguments!r})\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_help_imports_nothing_heavy():
    imported = _imported_after(["--help"])
    assert not imported & {*HEAVY, "numpy", "pydantic"}


def test_checking_a_scenario_imports_no_simulation_library():
    """No Mesa (nor what it pulls in): the factors come from `actors.factors`. The calibrated
    posterior's particles are read by pyarrow's Parquet reader alone, without pandas."""
    imported = _imported_after(["check", str(BASELINE)])
    assert {"pydantic", "pyarrow"} <= imported  # it did validate, the posterior included
    assert not imported & {"mesa", "pandas", "scipy", "matplotlib", "networkx", "dask"}


def test_every_actor_class_takes_its_factors_from_the_table():
    """One list per kind: what `wargame check` accepts is what the class weighs."""
    from actors import ACTOR_CLASSES
    from actors.factors import FACTORS

    assert set(FACTORS) == set(ACTOR_CLASSES)
    for kind, cls in ACTOR_CLASSES.items():
        assert cls.FACTORS is FACTORS[kind]


def test_a_rerun_with_nothing_new_imports_no_simulation_library(tmp_path):
    """A finished batch run again is verified, not recomputed: no engine, no table library."""
    arguments = ["batch", str(BASELINE), "--runs", "40", "--out", str(tmp_path / "b")]
    arguments.append("--no-progress")
    assert "mesa" in _imported_after(arguments)  # the batch itself
    assert not _imported_after(arguments) & {"mesa", "pandas", "scipy", "networkx", "dask"}
