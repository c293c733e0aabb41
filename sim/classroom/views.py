"""Who sees what: the public board, a team's private view, and the facilitator's full view.

All visibility rules live here, in one place that the tests read against: the board and other
teams see public state only (the support the world can see, overt acts, covert acts the
discovery roll exposed); a team also sees its own covert acts, covert help it received and
intelligence shared with it; the facilitator sees everything.
"""

from __future__ import annotations

from typing import Any

from sim.analysis.labels import readable
from sim.classroom import channels
from sim.classroom.advisor import advise
from sim.classroom.game import WHITE_CELL, Game, condition_text, menu_title
from sim.classroom.record import Act, TurnRecord, hormuz_label
from sim.classroom.rulings import RULINGS
from sim.engine.decision import PHASES
from sim.engine.effects import EFFECTS

#: the rung of the support ladder that shares intelligence with its target
INTELLIGENCE_RUNG = "intelligence_sharing"


def intelligence_level(game: Game) -> int:
    """The support rung named `intelligence_sharing` in the scenario's ladder (-1 if none)."""
    ladder = game.setup.scenario.ladders.support
    return ladder.index(INTELLIGENCE_RUNG) if INTELLIGENCE_RUNG in ladder else -1


def _ladder(game: Game) -> list[dict[str, Any]]:
    scenario = game.setup.scenario
    rung = int(game.model.world.escalation[0])
    return [
        {
            "rung": i,
            "name": readable(name),
            "current": i == rung,
            "war": i >= scenario.ladders.war_threshold,
        }
        for i, name in enumerate(scenario.ladders.escalation)
    ]


def _rung(game: Game, level: int) -> str:
    return readable(game.labels.support_ladder[int(level)])


def clock(game: Game, now: float) -> dict[str, Any]:
    """Turn, phase and deadline, as every page shows them."""
    left = game.seconds_left(now)
    return {
        "played": game.played,
        "current": game.current,
        "horizon": game.horizon,
        "phase": game.phase.value,
        "paused": game.paused,
        "ended": game.ended,
        "end_state": game.end_state(),
        "seconds_left": None if left is None else round(left),
        "past_deadline": game.past_deadline(now),
        "late_policy": game.classroom.late_policy,
    }


def public_state(game: Game) -> dict[str, Any]:
    """The state anyone can see: no covert support unless it has been exposed."""
    world = game.model.world
    rung = int(world.escalation[0])
    return {
        "escalation": rung,
        "escalation_label": readable(game.labels.escalation_ladder[rung]),
        "ladder": _ladder(game),
        "oil_price": float(world.oil_price[0]),
        "hormuz": hormuz_label(world.hormuz[0]),
        "iran_stability": float(world.iran_stability[0]),
        "sanctions": float(world.context["sanctions_intensity"][0]),
        "china_imports_kbd": float(world.china_imports_kbd[0]),
        "support": [
            {
                "actor": power,
                "label": game.model.actors[power].label,
                "level": int(world.public_support(power)[0]),
                "rung": _rung(game, world.public_support(power)[0]),
            }
            for power in world.great_power_ids()
        ],
    }


def act_line(act: Act, game: Game, viewer: str | None = None) -> dict[str, Any]:
    """An act as a page shows it. A team's refused move is its own secret: only the team and the
    facilitator learn what it had submitted."""
    rung = f"support {act.level}: {_rung(game, act.level)}" if act.level >= 0 else ""
    return {
        "actor": act.actor,
        "label": act.label,
        "menu": menu_title(act.menu),
        "action": act.action,
        "name": game.labels.action(act.action),
        "description": act.description,
        "rung": rung,
        "covert": act.covert,
        "private": act.private,
        "exposed": act.exposed,
        "by": act.by,
        "refused": act.refused if viewer in ("facilitator", act.actor) else "",
        "refused_name": (
            game.labels.action(act.refused)
            if act.refused and viewer in ("facilitator", act.actor)
            else ""
        ),
        "team": game.seats[act.actor].name if act.actor in game.seats else None,
    }


def refusal(game: Game, act: Act, record: TurnRecord, reader: str = "team") -> str:
    """Why a team's submitted move was not played, for the team ("your move ...") or for the
    facilitator and the debrief (reader "white cell")."""
    seat = game.seats[act.actor]
    own = "your" if reader == "team" else f"team {seat.name}'s"
    played, refused = game.labels.action(act.action), game.labels.action(act.refused)
    if act.by == "white cell":
        return (
            f"Turn {record.turn}: an event forced {played} ({seat.label}, "
            f"{menu_title(act.menu)}) in place of {own} move {refused}."
        )
    why = game.needs(act.actor, act.menu, act.refused)
    return (
        f"Turn {record.turn}: {own} move {refused} was no longer possible once the turn's "
        f"events had landed ({why}), so the model moved for {seat.label}: {played}."
    )


def refusals(game: Game, actor: str | None = None, reader: str = "team") -> list[str]:
    """Sentences for every team move of the last played turn that was not played."""
    if not game.turns:
        return []
    record = game.turns[-1]
    return [
        refusal(game, act, record, reader)
        for act in record.acts
        if act.refused and (actor is None or act.actor == actor)
    ]


def feed(game: Game, viewer: str | None = None) -> list[dict[str, Any]]:
    """Turn by turn, newest first: events, acts and incidents the viewer may see.

    `viewer` is None for the public, a team's actor, or "facilitator" for everything.
    """
    everything = viewer == "facilitator"
    turns = []
    for record in reversed(game.turns):
        if everything:
            acts = record.acts
        elif viewer is None:
            acts = [a for a in record.acts if a.public]
        else:
            acts = [a for a in record.acts if a.visible_to(viewer)]
        turns.append(
            {
                "turn": record.turn,
                "notes": [
                    {"text": p["note"], "public": p["public"]}
                    for p in record.injects
                    if p["public"] or everything
                ],
                "acts": [act_line(a, game, viewer) for a in acts],
                "incidents": record.incidents,
                "exposed": [game.model.actors[p].label for p in record.discovered],
                "ended": record.ended,
            }
        )
    return turns


def board(game: Game, now: float) -> dict[str, Any]:
    """The projector's page: public state only."""
    return {
        "title": game.classroom.title or game.setup.scenario.name,
        "clock": clock(game, now),
        "state": public_state(game),
        "feed": feed(game),
        "announced": [p["note"] for p in game.scheduled if p["public"]],
        "progress": progress(game),
        "messages": channels.visible(game, None),
    }


def _private_acts(game: Game, actor: str) -> dict[str, list[dict[str, Any]]]:
    own, received, intelligence = [], [], []
    intelligence_rung = intelligence_level(game)
    for record in game.turns:
        for act in record.acts:
            line = act_line(act, game, actor) | {"turn": act.turn}
            if act.actor == actor:
                if act.private:
                    own.append(line)
            elif actor in act.targets:
                if intelligence_rung >= 0 and act.level == intelligence_rung:
                    intelligence.append(line)
                elif act.private:
                    received.append(line)
    return {"own": own, "received": received, "intelligence": intelligence}


def _private_status(game: Game, actor: str) -> list[str]:
    """What the actor knows of its own position that the public does not."""
    world = game.model.world
    kind = game.setup.scenario.actors[actor].kind
    lines = []
    if actor in world.support:
        level = int(world.support[actor][0])
        if world.support_covert[actor][0] and level > 0:
            exposed = world.support_exposed[actor][0]
            lines.append(
                f"Your support to Iran: {level} ({_rung(game, level)}), given covertly; "
                + ("it has been exposed." if exposed else "the world does not know.")
            )
        else:
            lines.append(f"Your support to Iran: {level} ({_rung(game, level)}), in the open.")
    if kind == "iran":
        for power in world.great_power_ids():
            label = game.model.actors[power].label
            got = int(world.received_support(power)[0])
            seen = int(world.public_support(power)[0])
            hidden = " (part of it covert)" if got != seen else ""
            belief = float(world.iran_belief[power][0])
            lines.append(
                f"{label}: you receive support {got} ({_rung(game, got)}){hidden}; "
                f"you expect {belief:.1f} on the 0-7 ladder."
            )
    return lines


def expected_effects(menu, index: int) -> str:
    """What an action does to the world, as its effects in the scenario say."""
    parts = [
        f"{readable(name)} {value:+g}"
        for name, value in zip(EFFECTS, menu.effects[index].tolist(), strict=True)
        if value
    ]
    return ", ".join(parts)


def menus(game: Game, actor: str) -> list[dict[str, Any]]:
    """The actor's menus: actions in the menu's order, and grouped by phase (diplomatic,
    economic, covert, military), each with its description, what it needs, what it does,
    whether it is possible now and where the advisor ranks it."""
    actor_obj = game.model.actors[actor]
    pending = game.pending.get(actor, {})
    ranked = advise(actor_obj, game.model.world) if game.classroom.advisor else {}
    result = []
    for name, menu in actor_obj.menus.items():
        feasible = game.feasible(actor, name)
        order = [row.action for row in ranked.get(name, [])]
        phases: dict[str, list[dict[str, Any]]] = {}
        actions = []
        for i, action in enumerate(menu.actions):
            level = int(menu.levels[i])
            needs = [condition_text(c, game.labels) for c in menu.conditions[i]]
            rank = order.index(action) + 1 if action in order else None
            actions.append(
                {
                    "action": action,
                    "name": game.labels.action(action),
                    "description": menu.descriptions[i],
                    "feasible": feasible[i],
                    "why_not": "" if feasible[i] else game.why_not(actor, name, action),
                    "needs": " and ".join(needs),
                    "effects": expected_effects(menu, i),
                    "advisor_rank": rank,
                    "advisor_of": len(order),
                    "rung": f"support {level}" if level >= 0 else "",
                    "covert": bool(menu.covert[i]),
                    "chosen": pending.get(name) == action,
                }
            )
            phases.setdefault(PHASES[int(menu.phases[i])], []).append(actions[-1])
        groups = [{"phase": p, "actions": phases[p]} for p in PHASES if p in phases]
        result.append(
            {"menu": name, "title": menu_title(name), "phases": groups, "actions": actions}
        )
    return result


def describe(game: Game, actor: str, menu: str, action: str) -> str:
    """An action as the pages name it: its description (its name in words if it has none)."""
    menus = game.model.actors[actor].menus
    if menu in menus and action in menus[menu].actions:
        return menus[menu].descriptions[menus[menu].index(action)]
    return game.labels.action(action)


def progress(game: Game) -> dict[str, Any]:
    """How many teams have submitted this turn ("2 of 3 teams in"); never what they chose."""
    playing = [a for a, s in game.seats.items() if not s.model_plays]
    done = [a for a in playing if a in game.pending]
    return {
        "in": len(done),
        "of": len(playing),
        "teams": [game.seats[a].name for a in done],
        "open": game.phase.value == "open",
    }


def advice(game: Game, actor: str, rows: int = 3) -> list[dict[str, Any]]:
    """The advisor: the model's best actions on each menu and the factors behind them."""
    actor_obj = game.model.actors[actor]
    arguments = type(actor_obj).FACTORS
    result = []
    for name, options in advise(actor_obj, game.model.world).items():
        result.append(
            {
                "menu": name,
                "title": menu_title(name),
                "options": [
                    {
                        "action": option.action,
                        "name": game.labels.action(option.action),
                        "description": option.description,
                        "utility": option.utility,
                        "factors": [
                            {
                                "factor": game.labels.factor(factor),
                                "argument": arguments[factor],
                                "value": value,
                            }
                            for factor, value in option.top()
                        ],
                    }
                    for option in options[:rows]
                ],
            }
        )
    return result


def team(game: Game, actor: str, now: float) -> dict[str, Any]:
    """A team's page: the public board plus its own private information and its menu."""
    seat = game.seats[actor]
    return {
        "title": game.classroom.title or game.setup.scenario.name,
        "team": seat.name,
        "actor": actor,
        "label": seat.label,
        "model_plays": seat.model_plays,
        "clock": clock(game, now),
        "state": public_state(game),
        "feed": feed(game, actor),
        "announced": [p["note"] for p in game.scheduled if p["public"]],
        "private": _private_acts(game, actor),
        "status": _private_status(game, actor),
        "menus": menus(game, actor),
        "submitted": dict(game.pending.get(actor, {})),
        "refused": refusals(game, actor),
        "advisor": advice(game, actor) if game.classroom.advisor and not game.ended else [],
        "rationale": game.rationales.get(actor, ""),
        "progress": progress(game),
        "threads": channels.threads(game, actor),
        "recipients": channels.recipients(game, actor),
    }


def facilitator(game: Game, now: float) -> dict[str, Any]:
    """The white cell's page: everything, covert moves and submissions included."""
    world = game.model.world
    seats = []
    for actor, seat in game.seats.items():
        submitted = game.pending.get(actor)
        if seat.model_plays:
            status = "the model plays"
        elif submitted:
            status = "submitted"
        elif game.past_deadline(now):
            status = "late"
        else:
            status = "waiting"
        seats.append(
            {
                "actor": actor,
                "label": seat.label,
                "team": seat.name,
                "status": status,
                "model_plays": seat.model_plays,
                "moves": submitted or {},
                "described": [describe(game, actor, m, a) for m, a in (submitted or {}).items()],
                "rationale": game.rationales.get(actor, ""),
            }
        )
    true_support = [
        {
            "label": game.model.actors[p].label,
            "level": int(world.support[p][0]),
            "rung": _rung(game, world.support[p][0]),
            "covert": bool(world.support_covert[p][0]) and int(world.support[p][0]) > 0,
            "exposed": bool(world.support_exposed[p][0]),
            "belief": float(world.iran_belief[p][0]),
        }
        for p in world.great_power_ids()
    ]
    return {
        "title": game.classroom.title or game.setup.scenario.name,
        "clock": clock(game, now),
        "state": public_state(game),
        "true_support": true_support,
        "context": {k: float(v[0]) for k, v in world.context.items()},
        "context_labels": {k: game.labels.parameter(f"context.{k}") for k in world.context},
        "us_force_posture": float(world.us_force_posture[0]),
        "regime_pressure": float(world.regime_pressure[0]),
        "seats": seats,
        "scheduled": list(game.scheduled),
        "events": [e.model_dump() for e in game.classroom.events],
        "feed": feed(game, "facilitator"),
        "refused": refusals(game, reader="white cell"),
        "deadline_minutes": game.classroom.deadline_minutes,
        "advisor": game.classroom.advisor,
        "progress": progress(game),
        "messages": channels.visible(game, "facilitator"),
        "recipients": channels.recipients(game, WHITE_CELL),
        "rulings": rulings(game),
    }


def rulings(game: Game) -> list[dict[str, str]]:
    """The state values the white cell may override, with their current values."""
    world = game.model.world
    current = {
        "escalation": str(int(world.escalation[0])),
        "hormuz": hormuz_label(world.hormuz[0]),
        "oil_price": f"{float(world.oil_price[0]):.1f}",
        "iran_stability": f"{float(world.iran_stability[0]):.2f}",
    }
    return [
        {"name": name, "label": readable(name), "expects": expects, "now": current[name]}
        for name, expects in RULINGS.items()
    ]
