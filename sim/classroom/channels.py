"""Messages as each reader may see them: a team's threads, the board's public statements, the
white cell's everything. Visibility is decided here, on the server, from `Message.visible_to`;
a page only ever receives what its token may read.
"""

from __future__ import annotations

from typing import Any

from sim.classroom.game import PUBLIC, WHITE_CELL, Game, Message


def party(game: Game, who: str) -> str:
    """A sender or recipient as the pages name it."""
    if who == WHITE_CELL:
        return "White cell"
    if who == PUBLIC:
        return "Everyone (public)"
    seat = game.seats.get(who)
    if seat is not None:
        return f"Team {seat.name} ({seat.label})"
    return f"{game.model.actors[who].label} (played by the model)"


def line(game: Game, message: Message) -> dict[str, Any]:
    return message.to_dict() | {
        "from_label": party(game, message.sender),
        "to_label": party(game, message.to),
    }


def visible(game: Game, viewer: str | None) -> list[dict[str, Any]]:
    """Every message `viewer` may read, oldest first: None is the board, "facilitator" the
    white cell, otherwise a team's actor."""
    return [line(game, m) for m in game.messages if m.visible_to(viewer)]


def threads(game: Game, actor: str) -> list[dict[str, Any]]:
    """A team's messages by counterpart: public statements, the white cell, each actor."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for message in game.messages:
        if not message.visible_to(actor):
            continue
        if message.to == PUBLIC:
            key = PUBLIC
        else:
            key = message.to if message.sender == actor else message.sender
        grouped.setdefault(key, []).append(line(game, message))
    return [
        {"with": key, "label": party(game, key), "messages": rows}
        for key, rows in sorted(grouped.items(), key=lambda kv: -kv[1][-1]["seq"])
    ]


def recipients(game: Game, sender: str) -> list[dict[str, str]]:
    """Whom `sender` may write to, as the message form lists them."""
    return [{"id": who, "label": party(game, who)} for who in game.recipients(sender)]
