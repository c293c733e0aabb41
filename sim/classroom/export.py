"""The game log for analysis after class: JSON with everything, CSV with one row per event.

Join tokens are never exported: an export is meant to be shared with the class.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sim.classroom.game import Game
from sim.classroom.record import digest

CSV_COLUMNS = (
    "seq",
    "turn",
    "time",
    "kind",
    "actor",
    "team",
    "menu",
    "action",
    "covert",
    "exposed",
    "decided_by",
    "advisor_top",
    "note",
    "details",
)


def game_json(game: Game) -> dict[str, Any]:
    """The whole game: setup, every accepted command, every played turn, the outcome so far."""
    setup = game.setup
    return {
        "scenario": setup.scenario.name,
        "config": setup.config_path,
        "overrides": list(setup.overrides),
        "seed": setup.seed,
        "teams": [
            {"actor": s.actor, "label": s.label, "name": s.name, "model_plays": s.model_plays}
            for s in game.seats.values()
        ],
        "classroom": game.classroom.model_dump(mode="json"),
        "log": [
            {"seq": i + 1, "turn": e.turn, "kind": e.kind, "at": e.at, "payload": e.payload}
            for i, e in enumerate(game.entries)
        ],
        "turns": [record.to_dict() for record in game.turns],
        "state": digest(game.model.world),
        "outcome": {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in game.model.outcome_frame().iloc[0].items()
        },
    }


def to_json(game: Game) -> str:
    return json.dumps(game_json(game), indent=2)


def to_csv(game: Game) -> str:
    """Commands in the order they were accepted; after each played turn, every actor's act."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    records = iter(game.turns)
    names = {a: s.name for a, s in game.seats.items()}
    for seq, entry in enumerate(game.entries, start=1):
        payload = entry.payload
        actor = payload.get("actor") if entry.kind in ("move", "handover") else None
        writer.writerow(
            {
                "seq": seq,
                "turn": entry.turn,
                "time": f"{entry.at:.3f}",
                "kind": entry.kind,
                "actor": actor or "",
                "team": names.get(actor or "", ""),
                "action": " ".join(payload.get("moves", {}).values())
                if entry.kind == "move"
                else "",
                "note": payload.get("note", "") if entry.kind == "inject" else "",
                "details": json.dumps(payload),
            }
        )
        if entry.kind != "close":
            continue
        record = next(records)
        for act in record.acts:
            writer.writerow(
                {
                    "seq": seq,
                    "turn": record.turn,
                    "time": f"{entry.at:.3f}",
                    "kind": "act",
                    "actor": act.actor,
                    "team": names.get(act.actor, ""),
                    "menu": act.menu,
                    "action": act.action,
                    "covert": act.covert,
                    "exposed": act.exposed,
                    "decided_by": act.by,
                    "advisor_top": record.advice.get(act.actor, {}).get(act.menu, ""),
                    "note": act.description,
                    # a team's move that was not played (see `Act.refused`)
                    "details": json.dumps({"refused": act.refused}) if act.refused else "",
                }
            )
    return out.getvalue()
