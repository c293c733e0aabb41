"""Shared fixtures: the shipped scenarios, loaded once, and big seeded batches, run once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from sim.engine.model import CrisisModel
from sim.scenario.config import CONFIG_ROOT, Scenario, load_scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
BASELINE = CONFIG_ROOT / "baseline.yaml"
#: The `wargame` script installed next to the interpreter running the tests.
WARGAME = Path(sys.executable).with_name("wargame")
#: The seed of the shipped scenarios (the first day of the June 2025 war).
SEED = 20250613


def scenario_path(name: str) -> Path:
    return CONFIG_ROOT / f"{name}.yaml"


@cache
def _scenario(name: str, overrides: tuple[str, ...]) -> Scenario:
    return load_scenario(scenario_path(name), list(overrides))


@cache
def _outcomes(name: str, overrides: tuple[str, ...], size: int, seed: int) -> pd.DataFrame:
    return CrisisModel(_scenario(name, overrides), size, rng=seed).run().outcome_frame()


@pytest.fixture(scope="session")
def scenario() -> Callable[..., Scenario]:
    """`scenario("baseline", "context.x=0.5", ...)`: a shipped scenario, validated once."""

    def get(name: str, *overrides: str) -> Scenario:
        return _scenario(name, tuple(overrides))

    return get


@pytest.fixture(scope="session")
def outcomes() -> Callable[..., pd.DataFrame]:
    """`outcomes("baseline", size=1000)`: the outcome frame of one seeded batch, run once.

    Frames are shared between tests: treat them as read-only.
    """

    def get(name: str, *overrides: str, size: int = 1000, seed: int = SEED) -> pd.DataFrame:
        return _outcomes(name, tuple(overrides), size, seed)

    return get


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a scenario file into a temporary folder; `{baseline}` is the shipped baseline."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text.replace("{baseline}", str(BASELINE)), encoding="utf-8")
        return path

    return write


@pytest.fixture
def covert_turn(tmp_path: Path):
    """A classroom game served over HTTP on loopback, turn 1 open and China's team helping
    Iran covertly in it (never discovered): (session, base URL, white-cell URL, team URLs by
    actor, the game's clock)."""
    from classroom.helpers import CHINA_COVERT, FakeClock, call, new_session, serve

    clock = FakeClock()
    session = new_session(
        tmp_path / "g.sqlite", "actors.china.covert.discovery_probability=0", clock=clock
    )
    with serve(session, tick_seconds=0.05) as base:
        white = f"{base}/f/{session.facilitator_token}"
        team = {a: f"{base}/t/{t}" for a, t in session.team_tokens.items()}
        assert call(f"{white}/start", {})[1]["ok"]
        assert call(f"{team['china']}/submit", {"turn": "1", **CHINA_COVERT})[1]["ok"]
        yield session, base, white, team, clock


def pytest_collection_modifyitems(config, items):
    """Tests marked `fuzz` (large example budgets) run only when asked for: `-m fuzz`."""
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="large fuzzing budget: run with -m fuzz")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)
