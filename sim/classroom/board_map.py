"""The board's map of the region and its trend lines, as inline SVG drawn on the server.

The map is schematic (outlines simplified to a few dozen points, an equirectangular
projection): it is there to show where things happen, not to measure. Each played turn is one
layer (turn 0 is the start): strikes on Iran and Iranian attacks as bursts where they land, the
Strait of Hormuz in the colour of its status, the shipping lanes cut where Hormuz is closed, and
each great power's visible support as a line to Tehran. Only public acts are drawn: the board
never shows a covert act the world has not discovered. Places are in `geography`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sim.analysis.labels import rung_label
from sim.classroom import charts
from sim.classroom.game import Game
from sim.classroom.geography import (
    CASPIAN,
    COUNTRIES,
    GULF_LANE,
    HORMUZ,
    LABELS_AT,
    NUCLEAR_SITES,
    PLACES,
    RED_SEA_LANE,
    US_BASES,
)
from sim.classroom.record import Act, hormuz_label
from sim.engine.effects import EFFECT_INDEX

WEST, EAST, SOUTH, NORTH = 32.0, 63.0, 12.0, 40.0
SCALE = 16.0

SEA, LAND, FOCUS, GULF, INK = "#cfe3f3", "#ece9e2", "#f4dcc4", "#e6eed8", "#1d2430"
#: where each great power's line of support comes from (off the map: Moscow to the north,
#: Beijing to the east): (lon, lat), text anchor, and the label's offset in pixels
SUPPORT_ANCHORS = {
    "russia": ((47.0, NORTH - 0.3), "start", 6, 14),
    "china": ((EAST - 0.3, 31.5), "end", -4, -6),
}
HORMUZ_COLOURS = {"open": "#2e7d4f", "harassed": "#d9822b", "closed": "#b5412b"}


def xy(lon: float, lat: float) -> tuple[float, float]:
    return (lon - WEST) * SCALE, (NORTH - lat) * SCALE


def _points(outline: list[tuple[float, float]]) -> str:
    return " ".join("{:.1f},{:.1f}".format(*xy(lon, lat)) for lon, lat in outline)


@dataclass(frozen=True)
class Frame:
    """What the map shows after one turn (turn 0: the start)."""

    turn: int
    hormuz: str
    escalation: str
    support: dict[str, tuple[str, int]]  # power -> (label, visible rung)
    strikes_on_iran: list[str]  # public acts that strike Iran
    iranian_attacks: list[str]  # public Iranian attacks on US bases, Israel or the Gulf
    stances: list[tuple[str, str]]  # (actor label, its public act this turn)


def _effect(game: Game, act: Act, effect: str) -> float:
    menu = game.model.actors[act.actor].menus[act.menu]
    return float(menu.effects[menu.index(act.action), EFFECT_INDEX[effect]])


def frames(game: Game) -> list[Frame]:
    """One frame per turn from the start, from public information only."""
    ladder = game.setup.scenario.ladders.escalation
    labels = {p: game.model.actors[p].label for p in game.model.world.great_power_ids()}
    states = [(0, game.initial_state, game.initial_support, [])]
    states += [(r.turn, r.state, r.visible_support, r.acts) for r in game.turns]
    result = []
    for turn, state, support, acts in states:
        public = [a for a in acts if a.public]
        rung = int(state["escalation"])
        result.append(
            Frame(
                turn=turn,
                hormuz=hormuz_label(state["hormuz"]),
                escalation=rung_label(ladder, rung),
                support={p: (labels[p], int(level)) for p, level in support.items()},
                strikes_on_iran=[
                    f"{a.label}: {a.description}"
                    for a in public
                    if _effect(game, a, "strike_on_iran") > 0
                ],
                iranian_attacks=[
                    f"{a.label}: {a.description}"
                    for a in public
                    if _effect(game, a, "iran_attack") > 0
                ],
                stances=[(a.label, a.description) for a in public if a.menu == "main"],
            )
        )
    return result


def _burst(lon: float, lat: float, colour: str, title: str) -> str:
    x, y = xy(lon, lat)
    spikes = " ".join(
        f"{x + r * c:.1f},{y + r * s:.1f}"
        for r, c, s in (
            (9, 1, 0),
            (4, 0.7, 0.7),
            (9, 0, 1),
            (4, -0.7, 0.7),
            (9, -1, 0),
            (4, -0.7, -0.7),
            (9, 0, -1),
            (4, 0.7, -0.7),
        )
    )
    return (
        f'<polygon class="strike" points="{spikes}" fill="{colour}" stroke="#fff" '
        f'stroke-width="1"><title>{escape(title)}</title></polygon>'
    )


def _frame_layer(frame: Frame, last: bool) -> str:
    colour = HORMUZ_COLOURS.get(frame.hormuz, INK)
    hx, hy = xy(*HORMUZ)
    parts = [
        f'<g class="frame" data-turn="{frame.turn}"{"" if last else " hidden"}>',
        f'<circle cx="{hx:.1f}" cy="{hy:.1f}" r="8" fill="{colour}" opacity=".9">'
        f"<title>Strait of Hormuz: {escape(frame.hormuz)}</title></circle>",
        f'<text x="{hx + 10:.1f}" y="{hy + 16:.1f}" font-size="11" fill="{colour}" '
        f'font-weight="bold" class="hormuz-status">Hormuz {escape(frame.hormuz)}</text>',
    ]
    if frame.hormuz == "closed":
        parts.append(
            f'<line x1="{hx - 9:.1f}" y1="{hy - 9:.1f}" x2="{hx + 9:.1f}" y2="{hy + 9:.1f}" '
            f'stroke="#fff" stroke-width="3"/>'
        )
    tehran = xy(*PLACES["Tehran"])
    others = 0
    for power, (label, level) in sorted(frame.support.items()):
        if power in SUPPORT_ANCHORS:
            (lon, lat), anchor, dx, dy = SUPPORT_ANCHORS[power]
        else:
            (lon, lat), anchor, dx, dy = (EAST - 0.4, 29.0 - 1.5 * others), "end", -4, -5
            others += 1
        ax, ay = xy(lon, lat)
        parts.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{tehran[0]:.1f}" y2="{tehran[1]:.1f}" '
            f'stroke="#6b3fa0" stroke-width="{1 + level:.0f}" opacity=".55" '
            f'stroke-dasharray="{"4 4" if level == 0 else "none"}"/>'
            f'<text x="{ax + dx:.1f}" y="{ay + dy:.1f}" font-size="11" text-anchor="{anchor}" '
            f'fill="#6b3fa0" font-weight="bold" class="support" data-actor="{escape(power)}">'
            f"{escape(label)}: support {level}</text>"
        )
    for i, title in enumerate(frame.strikes_on_iran):
        site = list(NUCLEAR_SITES.values())[i % len(NUCLEAR_SITES)]
        parts.append(_burst(*site, "#b5412b", title))
    for i, title in enumerate(frame.iranian_attacks):
        target = list(US_BASES.values())[i % len(US_BASES)]
        parts.append(_burst(*target, "#d9822b", title))
        parts.append(_burst(*PLACES["Tel Aviv"], "#d9822b", title))
    parts.append(
        f'<text x="6" y="{(NORTH - SOUTH) * SCALE - 8:.0f}" font-size="12" font-weight="bold">'
        f"Turn {frame.turn}: escalation {escape(frame.escalation)}</text></g>"
    )
    return "".join(parts)


def region_svg(frame_list: list[Frame]) -> str:
    """The map with one layer per turn, the last one shown."""
    width, height = (EAST - WEST) * SCALE, (NORTH - SOUTH) * SCALE
    fills = {"iran": FOCUS, "israel": FOCUS, "gulf": GULF, "": LAND}
    parts = [
        f'<svg class="map" id="region-map" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-label="Map of the region: strikes, the Strait of Hormuz and support to Iran" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="{SEA}"/>',
        f'<polygon points="{_points(CASPIAN)}" fill="{SEA}"/>',
    ]
    for name, kind, outline in COUNTRIES:
        parts.append(
            f'<polygon points="{_points(outline)}" fill="{fills[kind]}" stroke="#9aa5b1" '
            f'stroke-width=".8"><title>{escape(name)}</title></polygon>'
        )
    for name, (lon, lat) in LABELS_AT.items():
        x, y = xy(lon, lat)
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#5f6b7a" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    for lane in (GULF_LANE, RED_SEA_LANE):
        parts.append(
            f'<polyline points="{_points(lane)}" fill="none" stroke="#2f5d8a" '
            'stroke-width="1.5" stroke-dasharray="6 4" opacity=".8"><title>Shipping lane'
            "</title></polyline>"
        )
    for name, (lon, lat) in US_BASES.items():
        x, y = xy(lon, lat)
        parts.append(
            f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="#2f5d8a">'
            f"<title>US base: {escape(name)}</title></rect>"
        )
    for name, (lon, lat) in {**PLACES, **NUCLEAR_SITES}.items():
        x, y = xy(lon, lat)
        nuclear = name in NUCLEAR_SITES
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{INK}"/>'
            f'<text x="{x + 4:.1f}" y="{y - 3:.1f}" font-size="{9 if nuclear else 10}">'
            f"{escape(name)}</text>"
        )
    parts += [_frame_layer(f, i == len(frame_list) - 1) for i, f in enumerate(frame_list)]
    parts.append(
        f'<g font-size="10" transform="translate({width - 150:.0f},{height - 62:.0f})">'
        '<rect width="146" height="58" fill="#fff" opacity=".85"/>'
        '<rect x="6" y="7" width="6" height="6" fill="#2f5d8a"/>'
        '<text x="18" y="13">US base</text>'
        '<line x1="4" y1="25" x2="14" y2="25" stroke="#2f5d8a" stroke-dasharray="4 3"/>'
        '<text x="18" y="28">shipping lane</text>'
        '<text x="4" y="43" fill="#b5412b">&#10040; strike</text>'
        '<text x="60" y="43" fill="#6b3fa0">&#9472; visible support</text>'
        '<text x="4" y="55" fill="#5f6b7a">schematic, not to scale</text></g></svg>'
    )
    return "".join(parts)


def trends(game: Game) -> list[str]:
    """Line charts over the turns played: escalation, oil price, visible support."""
    frame_list = frames(game)
    turns = [f.turn for f in frame_list]
    states = [game.initial_state] + [r.state for r in game.turns]
    ladder = game.setup.scenario.ladders
    escalation = charts.lines(
        "Escalation rung",
        turns,
        {"escalation": [float(s["escalation"]) for s in states]},
        y_range=(0, len(ladder.escalation) - 1),
        threshold=(float(ladder.war_threshold), "war"),
    )
    oil = charts.lines(
        "Oil price ($/bbl)", turns, {"Brent": [float(s["oil_price"]) for s in states]}
    )
    support = charts.lines(
        "Visible support to Iran (rung 0-7)",
        turns,
        {
            label: [float(f.support[p][1]) for f in frame_list]
            for p, (label, _) in frame_list[0].support.items()
        },
        y_range=(0, len(ladder.support) - 1),
    )
    return [escalation, oil, support]


def board_graphics(game: Game) -> dict[str, Any]:
    """What the board draws: the map (a layer per turn), the trend lines, the turns."""
    frame_list = frames(game)
    return {
        "map_svg": region_svg(frame_list),
        "map_turns": [f.turn for f in frame_list],
        "map_frames": frame_list,
        "trend_svgs": trends(game),
    }
