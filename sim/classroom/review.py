"""The after-action review: a game file turned into a folder a class can read and analyse.

`wargame aar GAME.sqlite --out DIR` replays the game from its file (no join token needed) and
writes `index.html` (the timeline of moves with the teams' reasons, every message, the model's
decisions with the factors that weighed on them, and the game beside the simulated
distribution), and the exports: `game.json` (everything), `log.csv` (one row per command and
act), `messages.csv` and `decisions.csv` (one row per act and factor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from sim.classroom import debrief, export
from sim.classroom.game import Game
from sim.classroom.session import GameSession
from sim.scenario.errors import WargameError

TEMPLATES = Path(__file__).parent / "templates"
#: how many factors the review shows for each model decision
TOP_FACTORS = 3


def decisions(game: Game) -> dict[int, list[dict[str, Any]]]:
    """Per turn, each act the model decided, with the factors that weighed most on it."""
    result: dict[int, list[dict[str, Any]]] = {}
    for record in game.turns:
        rows = []
        for act in record.acts:
            if act.by != "model":
                continue
            arguments = type(game.model.actors[act.actor]).FACTORS
            ranked = sorted(act.contributions.items(), key=lambda kv: -abs(kv[1]))
            rows.append(
                {
                    "label": act.label,
                    "description": act.description,
                    "covert": act.private,
                    "factors": [
                        {"factor": game.labels.factor(f), "value": v, "argument": arguments[f]}
                        for f, v in ranked[:TOP_FACTORS]
                        if abs(v) >= 0.005
                    ],
                }
            )
        result[record.turn] = rows
    return result


def review_context(game: Game, games: int | None = None) -> dict[str, Any]:
    context = debrief.draw(debrief.debrief(game, games), end_axis="How the game ended")
    context["decisions"] = decisions(game)
    context["scenario"] = game.setup.scenario.name
    context["config"] = game.setup.config_path
    return context


def write_review(game_file: str | Path, out: str | Path, games: int | None = None) -> Path:
    """Write the review of `game_file` into the folder `out` (made if missing)."""
    session = GameSession.open(game_file)
    try:
        game = session.game
        context = review_context(game, games)
    finally:
        session.store.close()
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True)
    )
    html = environment.get_template("aar.html").render(context)
    files = {
        "index.html": html,
        "game.json": export.to_json(game),
        "log.csv": export.to_csv(game),
        "messages.csv": export.messages_csv(game),
        "decisions.csv": export.decisions_csv(game),
    }
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        where = exc.filename or folder
        raise WargameError(f"cannot write {where}: {exc.strerror or exc}") from None
    return folder / "index.html"
