"""`wargame viz` in headless Chromium: step a replication, see the ladder and the moves with
their factors, change the context and replay. Skipped where no system Chromium is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from classroom.helpers import REPO, free_port, wait_for_port

from sim.analysis.labels import Labels
from sim.engine.model import CrisisModel

pytest.importorskip("solara")  # installed with the project; absent in an environment not updated
from sim.output import viz  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT = 60_000

browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium")


def test_the_page_content_follows_the_model() -> None:
    model = CrisisModel("baseline", replication=0, rng=4, record_decisions=True)
    labels = Labels.from_scenario(model.crisis)
    here = [r["rung"] for r in viz.ladder_rows(model, labels) if r["here"]]
    assert here == [f"{int(model.world.escalation[0])} crisis"]
    assert viz.move_rows(model, labels) == []
    model.step()
    moves = viz.move_rows(model, labels)
    assert {m["actor"] for m in moves} >= {"Iran", "United States", "Russia", "China"}
    assert all(m["why"] for m in moves)
    params = viz.model_params(model.crisis, 4, "baseline")
    assert params["russia_ukraine_commitment"]["value"] == pytest.approx(0.8)  # uniform 0.7-0.9
    values = {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}
    rebuilt = viz.VizModel(**{**values, "russia_ukraine_commitment": 0.3})
    assert rebuilt.crisis.context.russia_ukraine_commitment == 0.3


@browser_only
@pytest.mark.slow
def test_step_a_replication_and_replay_it_under_another_context(tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)
    port = free_port()
    command = [sys.executable, "-m", "sim.cli", "viz", "configs/baseline.yaml", "--port", str(port)]
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log, env=os.environ)
    try:
        wait_for_port(port, timeout=120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(f"http://127.0.0.1:{port}/")
            expect(page.get_by_text("Escalation ladder")).to_be_visible()
            expect(page.get_by_text("▶ 1 crisis")).to_be_visible()
            expect(page.get_by_text("Russia's Ukraine commitment 0.8")).to_be_visible()
            page.get_by_role("button", name="Step").click()
            expect(page.get_by_text("Moves on turn 1")).to_be_visible()
            expect(page.get_by_role("cell", name="United States")).to_be_visible()
            expect(page.get_by_text("cost aversion", exact=False)).to_be_visible()
            # a context slider moved by the keyboard, then Reset: the crisis replays under it
            slider = page.get_by_role("slider", name="Russia's Ukraine commitment")
            slider.focus()
            for _ in range(4):
                slider.press("ArrowLeft")
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("Russia's Ukraine commitment 0.6")).to_be_visible()
            expect(page.get_by_text("Moves (press Step)")).to_be_visible()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
