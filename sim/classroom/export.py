"""The game log for analysis after class: JSON with everything, CSV with one row per event,
and tables of the messages and of every model decision with its factor contributions.

Join tokens are never exported: an export is meant to be shared with the class.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sim.classroom import channels
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
    "rationale",
    "details",
)
MESSAGE_COLUMNS = ("seq", "turn", "time", "from", "to", "visibility", "model", "text")
DECISION_COLUMNS = ("turn", "actor", "label", "menu", "action", "decided_by", "factor", "value")


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
        "messages": channels.visible(game, "facilitator"),
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
        if entry.kind == "message":
            actor = payload["from"]
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
                "note": _entry_note(entry.kind, payload),
                "rationale": payload.get("rationale", "") if entry.kind == "move" else "",
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
                    "rationale": record.rationales.get(act.actor, "") if act.by == "team" else "",
                    # a team's move that was not played (see `Act.refused`)
                    "details": json.dumps({"refused": act.refused}) if act.refused else "",
                }
            )
    return out.getvalue()


def _entry_note(kind: str, payload: dict[str, Any]) -> str:
    if kind == "inject":
        return payload.get("note", "")
    if kind == "message":
        return payload["text"]
    if kind == "ruling":
        return payload["note"]
    return ""


def messages_csv(game: Game) -> str:
    """Every message of every channel, in the order sent."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MESSAGE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for message in game.messages:
        writer.writerow(message.to_dict() | {"time": f"{message.at:.3f}"})
    return out.getvalue()


def decisions_csv(game: Game) -> str:
    """Every act of every played turn, one row per factor: what weighed on each decision."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DECISION_COLUMNS)
    writer.writeheader()
    for record in game.turns:
        for act in record.acts:
            for factor, value in act.contributions.items():
                writer.writerow(
                    {
                        "turn": act.turn,
                        "actor": act.actor,
                        "label": act.label,
                        "menu": act.menu,
                        "action": act.action,
                        "decided_by": act.by,
                        "factor": factor,
                        "value": f"{value:.6g}",
                    }
                )
    return out.getvalue()
