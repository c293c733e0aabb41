"""A whole classroom game in headless Chromium: three teams, a facilitator and the board.

The server runs as a real `wargame classroom` process and is restarted in the middle of the
game; the pages must carry on where they were. Skipped where no system Chromium is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from classroom.helpers import CONFIG, COVERT_TEXT, REPO, free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: how long a condition may take to hold; every step waits on a condition, never on a delay
TIMEOUT = 30_000
#: the debrief first simulates its games, which takes longer on a loaded machine
SLOW = 120_000

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium")


@contextmanager
def classroom_server(db: Path, port: int, log: Path, *options: str) -> Iterator[dict[str, str]]:
    """`wargame classroom` in its own process; yields the links it prints."""
    command = [sys.executable, "-m", "sim.cli", "classroom", CONFIG, "--port", str(port)]
    command += ["--db", str(db), *options]
    with open(log, "a") as errors:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True, env=os.environ
        )
        try:
            links = {}
            for line in process.stdout:
                if "http://" in line:
                    name, url = line.rsplit(": ", 1)
                    links[name.strip()] = url.strip()
                if line.startswith("Stop with"):
                    break
            wait_for_port(port)
            yield links
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_a_class_plays_a_whole_game_in_the_browser(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)

    db, port, log = tmp_path / "class.sqlite", free_port(), tmp_path / "server.log"
    setup = ["--set", "horizon=3", "--set", "actors.china.covert.discovery_probability=0"]
    setup += ["--set", "classroom.debrief_games=500"]  # a smaller distribution: a faster test
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
        pages = {}
        dialogs: list[str] = []

        def open_page(name: str, url: str, **options) -> None:
            page = browser.new_context(**options).new_page()
            page.set_default_timeout(TIMEOUT)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            pages[name] = page

        def send(page, to: str, text: str) -> None:
            page.select_option("#message-to", to)
            page.fill("#message-text", text)
            page.click("#send")
            expect(page.locator("#flash")).to_contain_text("sent")

        with classroom_server(db, port, log, *setup) as links:
            assert set(links) == {
                "White cell (facilitator)",
                "Board (projector)",
                "Join sheet (QR codes)",
                "Team Tehran (Iran)",
                "Team Beijing (China)",
                "Team Moscow (Russia)",
            }
            white_url = links["White cell (facilitator)"]
            open_page("white", white_url)
            open_page("board", links["Board (projector)"])
            open_page("iran", links["Team Tehran (Iran)"], **phone)
            open_page("china", links["Team Beijing (China)"])
            open_page("russia", links["Team Moscow (Russia)"], **phone)
            white, board, iran, china, russia = (
                pages[k] for k in ("white", "board", "iran", "china", "russia")
            )
            teams = (iran, china, russia)
            for page in pages.values():
                expect(page.locator("body")).to_have_attribute("data-live", "connected")
            for team in teams:
                expect(team.locator("#move")).to_contain_text("Turn 1 has not started yet")
            # On a phone the situation, the advisor and the messages come before the moves,
            # and nothing is wider than the screen.
            order = iran.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
            assert order[:3] == ["situation", "advisor", "messages"] and "move" in order
            assert iran.evaluate("document.documentElement.scrollWidth") <= 390

            # Messages in every channel, before the turn opens.
            send(iran, "china", "Tehran to Beijing: will you keep buying our oil?")
            send(china, "iran", "Beijing to Tehran: yes, quietly")
            send(iran, "white_cell", "Tehran asks the white cell: can we call the UN?")
            send(white, "iran", "White cell to Tehran: yes, next turn")
            send(russia, "public", 'Moscow calls for restraint <img src=x onerror="alert(1)">')
            send(
                white, "public", "White cell: the Security Council meets <script>alert(2)</script>"
            )
            expect(board.locator("#statements")).to_contain_text("Moscow calls for restraint")
            expect(board.locator("#statements")).to_contain_text("<img src=x")
            expect(board.locator("#statements")).to_contain_text("<script>alert(2)</script>")
            expect(russia.locator("#messages")).to_contain_text("the Security Council meets")
            expect(iran.locator("#messages")).to_contain_text("yes, quietly")
            expect(iran.locator("#messages")).to_contain_text("White cell to Tehran")
            expect(white.locator("#channels")).to_contain_text("can we call the UN?")
            for page in (russia, board):
                expect(page.locator("body")).not_to_contain_text("yes, quietly")
            expect(china.locator("body")).not_to_contain_text("can we call the UN?")

            # Turn 1: the facilitator starts it; the team pages update by themselves.
            white.click("#start")
            expect(white.locator("#flash")).to_have_text("Turn 1 is open.")
            for team in teams:
                expect(team.locator("#move-form")).to_be_visible()
            expect(iran.locator("#advisor")).to_contain_text("Advice:")
            expect(iran.locator("#move")).to_contain_text("Hold firm and wait")
            expect(iran.locator("#move .phase").first).to_have_text("diplomatic")
            # Tehran is mid-choice when Beijing submits: its page updates, its choice stays.
            iran.check("input[name=main][value=hold_firm]")
            iran.fill("#rationale", "Beijing promised to keep buying")
            iran.locator("#advisor details summary").nth(1).click()  # opens the second advice
            refreshed = iran.get_attribute("body", "data-refreshed") or "0"
            china.check("input[name=main][value=covert_economic_lifeline]")
            china.check("input[name=oil_purchases][value=maintain_purchases]")
            china.click("#submit")
            expect(china.locator("#submitted")).to_contain_text(COVERT_TEXT)
            expect(iran.locator("#situation")).to_contain_text("1 of 3 teams in")
            assert (iran.get_attribute("body", "data-refreshed") or "0") != refreshed
            expect(iran.locator("input[name=main][value=hold_firm]")).to_be_checked()
            expect(iran.locator("#rationale")).to_have_value("Beijing promised to keep buying")
            expect(iran.locator("#advisor details").nth(1)).to_have_attribute("open", "")
            expect(board.locator("#progress")).to_have_text("1 of 3 teams in (Beijing).")
            iran.click("#submit")
            expect(iran.locator("#flash")).to_contain_text("Move for turn 1 received: Hold firm")
            russia.check("input[name=main][value=diplomatic_backing]")
            russia.click("#submit")
            expect(russia.locator("#flash")).to_contain_text("received")
            for actor in ("iran", "china", "russia"):
                expect(white.locator(f"#seat-{actor} .status")).to_have_text("submitted")
            expect(white.locator("#seat-iran")).to_contain_text("Beijing promised to keep buying")

            # An event from the scenario's list, announced on the board.
            white.select_option("#event", "tanker_seized")
            white.click("#inject")
            expect(white.locator("#flash")).to_have_text("Event scheduled for turn 1.")
            expect(board.locator("#progress-bar")).to_contain_text("A tanker bound for Fujairah")

            white.click("#close")
            expect(white.locator("#flash")).to_have_text("Turn 1 has been played.")
            for page in (*teams, board):
                expect(page.locator("#board h2")).to_have_text("The crisis after turn 1")
            expect(white.locator("#feed")).to_contain_text(COVERT_TEXT)
            # The board's map has a layer per turn and trend lines with axes.
            expect(board.locator("#region-map .frame")).to_have_count(2)
            expect(board.locator("#trends svg")).to_have_count(3)
            expect(board.locator("#trends")).to_contain_text("turn")

            # The covert act: seen by China and its target Iran, hidden from Russia and the board.
            expect(china.locator("#private")).to_contain_text(COVERT_TEXT)
            expect(iran.locator("#private")).to_contain_text(COVERT_TEXT)
            # (Russia's own advisor may suggest covert moves of Russia's: only China's is secret)
            expect(russia.locator("body")).not_to_contain_text("promised financial projects")
            expect(board.locator("body")).not_to_contain_text("Covertly")
            expect(board.locator("#feed")).to_contain_text("Russia: Back Iran at the UN")
            before = white.request.get(f"{white_url}/export.json").json()
            escalation = board.inner_text("#escalation")

        # The server stops: every page says it lost the connection ...
        for page in pages.values():
            expect(page.locator("#connection")).to_be_visible()
        # ... and it starts again on the same game file (no --set: it is saved).
        with classroom_server(db, port, log) as links:
            assert links["White cell (facilitator)"] == white_url
            after = white.request.get(f"{white_url}/export.json").json()
            assert after["state"] == before["state"] and after["log"] == before["log"]
            for page in pages.values():  # the pages reconnect by themselves
                expect(page.locator("#connection")).to_be_hidden()
            expect(board.locator("#escalation")).to_have_text(escalation)
            expect(china.locator("#private")).to_contain_text(COVERT_TEXT)

            # Turn 2: Moscow is handed to the model; the white cell overrides the oil price.
            white.click("#start")
            expect(white.locator("#flash")).to_have_text("Turn 2 is open.")
            white.click("#seat-russia button")
            expect(white.locator("#seat-russia .status")).to_have_text("the model plays")
            expect(russia.locator("#move")).to_contain_text("handed your team to the model")
            send(iran, "russia", "Tehran to Moscow: send us arms")
            expect(iran.locator("#messages")).to_contain_text("war in Ukraine")
            white.select_option("#ruling-variable", "oil_price")
            white.fill("#ruling-value", "97")
            white.fill("#ruling-note", "Insurers stop covering Gulf tankers <b onclick=alert(3)>")
            white.click("#rule")
            expect(white.locator("#flash")).to_contain_text("Ruling logged")
            expect(board.locator("#oil")).to_have_text("$97")
            for team, move in ((iran, "negotiate"), (china, "rhetoric")):
                expect(team.locator("#submit")).to_have_text("Submit our move for turn 2")
                team.check(f"input[name=main][value={move}]")
            china.check("input[name=oil_purchases][value=cut_purchases]")
            china.fill("#rationale", "<script>alert(4)</script>Cut: the sanctions bite")
            iran.click("#submit")
            china.click("#submit")
            talks = "Move for turn 2 received: Open or pursue talks"
            expect(iran.locator("#flash")).to_contain_text(talks)
            expect(china.locator("#flash")).to_contain_text("received")
            for actor in ("iran", "china"):
                expect(white.locator(f"#seat-{actor} .status")).to_have_text("submitted")
            expect(white.locator("#seat-china .rationale")).to_have_text(
                "Why: <script>alert(4)</script>Cut: the sanctions bite"
            )
            expect(board.locator("#progress-bar")).to_contain_text("<b onclick=alert(3)>")
            white.click("#close")
            expect(white.locator("#flash")).to_have_text("Turn 2 has been played.")

            # Turn 3, the last: Beijing does not submit; closing asks first, then the model
            # moves for it.
            white.click("#start")
            expect(white.locator("#flash")).to_have_text("Turn 3 is open.")
            white.fill("#extend-minutes", "3")
            white.click("#extend")
            expect(white.locator("#flash")).to_have_text("The clock of turn 3 has been extended.")
            expect(iran.locator("#submit")).to_have_text("Submit our move for turn 3")
            iran.check("input[name=main][value=hold_firm]")
            iran.click("#submit")
            expect(iran.locator("#flash")).to_contain_text("Move for turn 3 received: Hold firm")
            expect(white.locator("#seat-iran .status")).to_have_text("submitted")
            white.click("#close")
            expect(white.locator("#confirm-close")).to_contain_text("Beijing has not submitted")
            white.click("#close-cancel")
            expect(white.locator("#confirm-close")).to_be_hidden()
            white.click("#close")
            white.click("#close-anyway")
            expect(white.locator("#flash")).to_have_text("Turn 3 has been played.")
            for page in (*teams, board):
                expect(page.locator("header")).to_contain_text("The crisis is over")
            expect(iran.locator("#move")).to_contain_text("The game is over")
            expect(board.locator("#region-map .frame")).to_have_count(4)
            # The map goes back turn by turn: turn 1 shows the tanker news' turn, not turn 3.
            expect(board.locator('#region-map .frame[data-turn="3"]')).to_be_visible()
            board.locator("#map-turn").fill("1")
            expect(board.locator('#region-map .frame[data-turn="1"]')).to_be_visible()
            expect(board.locator('#region-map .frame[data-turn="3"]')).to_be_hidden()
            expect(board.locator('#map .stances[data-turn="1"]')).to_contain_text(
                "Russia: Back Iran at the UN"
            )

            # The join sheet: a QR code and a short code per team.
            white.click("#join-link")
            expect(white.locator("#join-sheet .qr svg")).to_have_count(3)
            code = white.inner_text("#join-china .code")
            joiner = browser.new_context(**phone).new_page()
            joiner.goto(links["Board (projector)"].replace("/board", "/join"))
            joiner.fill("#code", code.lower())
            joiner.click("#join-submit")
            expect(joiner.locator("h1")).to_have_text("Team Beijing: China")
            white.go_back()

            # The debrief: placement in the simulated distribution, choices, timeline.
            white.click("#debrief-link")
            expect(white.locator("#placement")).to_contain_text(
                "Of 500 simulated games", timeout=SLOW
            )
            expect(white.locator("#end-sentence")).to_contain_text("simulated games")
            assert white.locator("#placement svg").count() >= 5
            expect(white.locator("#placement")).not_to_contain_text("tied with")
            choices = white.locator("#choices")
            expect(choices).to_contain_text("Team Tehran (Iran) chose what the advisor ranked")
            expect(choices).to_contain_text("covert economic lifeline")
            expect(choices).to_contain_text("model (handed to the model)")
            expect(choices).to_contain_text("model (did not submit)")
            expect(choices).to_contain_text("Beijing promised to keep buying")
            expect(white.locator("#timeline")).to_contain_text(COVERT_TEXT)
            expect(white.locator("#timeline")).to_contain_text("A tanker bound for Fujairah")
            expect(white.locator("#timeline")).to_contain_text("Tehran to Moscow: send us arms")

        # The after-action review, from the game file alone.
        review = tmp_path / "review"
        command = [sys.executable, "-m", "sim.cli", "aar", str(db), "--out", str(review)]
        done = subprocess.run([*command, "--games", "100"], cwd=REPO, capture_output=True)
        assert done.returncode == 0, done.stderr
        reader = browser.new_page()
        reader.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        reader.goto((review / "index.html").as_uri())
        expect(reader.locator("#timeline")).to_contain_text("Beijing promised to keep buying")
        expect(reader.locator("#timeline")).to_contain_text("Insurers stop covering Gulf tankers")
        expect(reader.locator("#messages")).to_contain_text("war in Ukraine")
        expect(reader.locator("#placement")).to_contain_text("Of 100 simulated games")
        reader.locator("#timeline details").first.click()
        expect(reader.locator("#timeline table").first).to_contain_text("Strongest factors")
        # No free text ever ran as a script.
        assert dialogs == []
        browser.close()
