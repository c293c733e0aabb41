"""Team briefs: the situation, the actor's interests in the article's terms, its menu, the rules.

Everything comes from the scenario and the actor's class (its FACTORS name the article's
arguments), so a brief never disagrees with the model the team then plays against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from actors import ACTOR_CLASSES
from sim.analysis.labels import Labels, readable, sentence
from sim.classroom.config import ClassroomConfig
from sim.classroom.game import menu_title
from sim.classroom.record import hormuz_label
from sim.engine.decision import PHASES
from sim.scenario.config import Context, Scenario
from sim.scenario.consistency import available_actions
from sim.scenario.distributions import Param, param_mean, param_support
from sim.scenario.errors import WargameError

TEMPLATES = Path(__file__).parent / "templates"


def describe(param: Param, digits: int = 2) -> str:
    """A parameter as a reader sees it: a value, or its mean and range when it is uncertain."""
    low, high = param_support(param)
    mean = param_mean(param)
    if low == high:
        return f"{mean:.{digits}f}"
    return f"about {mean:.{digits}f} (between {low:.{digits}f} and {high:.{digits}f})"


def brief_data(
    scenario: Scenario, actor_id: str, classroom: ClassroomConfig | None = None
) -> dict[str, Any]:
    """The content of a team brief, independent of its format."""
    if actor_id not in scenario.actors:
        raise WargameError(
            f"unknown actor '{actor_id}' (expected one of: {', '.join(scenario.actors)})"
        )
    config = scenario.actors[actor_id]
    factors = ACTOR_CLASSES[config.kind].FACTORS
    init = scenario.initial
    ladder = scenario.ladders
    classroom = classroom or scenario.classroom
    team = classroom.team_name(actor_id) if classroom else None
    teams = {t.actor: t.name for t in classroom.teams} if classroom else {actor_id: team}
    words = Labels.from_scenario(scenario)

    interests = []
    for factor, argument in factors.items():
        weight = config.weights[factor]
        loadings = [(n, s.loadings.get(factor, 0.0)) for n, s in config.actions.items()]
        favours = [n for n, v in sorted(loadings, key=lambda x: -x[1]) if v > 0][:3]
        opposes = [n for n, v in sorted(loadings, key=lambda x: x[1]) if v < 0][:3]
        interests.append(
            {
                "factor": words.factor(factor),
                "argument": argument,
                "weight": param_mean(weight),
                "weight_text": describe(weight),
                "favours": [words.action(a) for a in favours],
                "opposes": [words.action(a) for a in opposes],
            }
        )
    interests.sort(key=lambda row: -row["weight"])

    covert_levels = set(config.covert.levels) if config.covert else set()
    menus: dict[str, list[dict[str, Any]]] = {}
    for name, spec in config.actions.items():
        menus.setdefault(spec.menu, []).append(
            {
                "action": name,
                "description": spec.description,
                "rung": (
                    f"{spec.level} ({readable(ladder.support[spec.level])})"
                    if spec.level is not None
                    else ""
                ),
                "requires": " and ".join(spec.requires),
                "phase": spec.phase,
                "covert": spec.level in covert_levels,
            }
        )

    situation = [
        (
            "Escalation",
            f"rung {init.escalation} of {len(ladder.escalation) - 1}: "
            f"{readable(ladder.escalation[init.escalation])} "
            f"(armed conflict from rung {ladder.war_threshold}, "
            f"{readable(ladder.escalation[ladder.war_threshold])})",
        ),
        ("Oil price", f"${describe(init.oil_price, 0)} a barrel"),
        ("Strait of Hormuz", hormuz_label(init.hormuz)),
        ("Iran's regime stability", f"{describe(init.iran_stability)} on a 0-1 scale"),
        ("China's imports of Iranian crude", f"{describe(init.china_imports_kbd, 0)} thousand b/d"),
    ]
    for name in Context.model_fields:
        title = sentence(words.parameter(f"context.{name}"))
        situation.append((title, f"{describe(getattr(scenario.context, name))} on a 0-1 scale"))
    for power, level in init.support.items():
        situation.append(
            (
                f"{sentence(words.whose(power))} support to Iran",
                f"{level} ({readable(ladder.support[level])})",
            )
        )

    return {
        "scenario": scenario.name,
        "title": (classroom.title if classroom and classroom.title else scenario.name),
        "description": scenario.description.strip(),
        "actor": actor_id,
        "label": config.label,
        "team": team,
        "situation": situation,
        "players": [
            {
                "label": c.label,
                "played_by": f"team {teams[a]}" if a in teams and teams[a] else "the model",
            }
            for a, c in scenario.actors.items()
        ],
        "interests": interests,
        "menus": [{"title": menu_title(m), "actions": rows} for m, rows in menus.items()],
        "covert": (
            {
                "levels": sorted(covert_levels),
                "discovery": config.covert.discovery_probability,
                "effect_scale": config.covert.effect_scale,
            }
            if config.covert
            else None
        ),
        "support_ladder": [readable(r) for r in ladder.support],
        "rules": _rules(scenario, classroom),
        "all_actions": available_actions(scenario, actor_id),
    }


def _rules(scenario: Scenario, classroom: ClassroomConfig | None) -> list[str]:
    rules = [
        f"A turn is {scenario.turn_days:g} days; the game lasts at most {scenario.horizon} turns.",
        "Every actor moves at the same time: teams submit their moves, the model decides for "
        "every actor no team plays.",
        "Moves take effect in a fixed order of phases: " + ", ".join(PHASES) + ".",
        f"Support to Iran climbs at most {scenario.dynamics.support.max_step_up} rungs of the "
        "0-7 ladder a turn.",
        "Covert acts are seen only by the actor, its target and the facilitator, until the "
        "discovery roll exposes them.",
        "The crisis ends in a settlement, a ceasefire, the collapse of the regime, or at the "
        "horizon.",
        "The facilitator (the white cell) may fire events and change the context between turns.",
    ]
    if classroom:
        if classroom.deadline_minutes:
            late = (
                "the model moves for a team that misses it"
                if classroom.late_policy == "model_moves"
                else "the turn waits for a team that misses it"
            )
            rules.append(
                f"Each turn has a deadline of {classroom.deadline_minutes:g} minutes; {late}."
            )
        rules.append(
            "Your team sees the model's advice: the action it would pick and the factors behind it."
            if classroom.advisor
            else "There is no advisor: your team decides alone."
        )
    return rules


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def to_html(data: dict[str, Any]) -> str:
    return _environment().get_template("brief.html").render(**data)


def to_markdown(data: dict[str, Any]) -> str:
    lines = [f"# Team brief: {data['label']}" + (f" (team {data['team']})" if data["team"] else "")]
    lines += ["", f"*{data['title']}* - scenario `{data['scenario']}`", ""]
    lines += ["## The situation", "", data["description"], ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in data["situation"]]
    lines += [
        "",
        "Who plays whom: "
        + "; ".join(f"{p['label']}: {p['played_by']}" for p in data["players"])
        + ".",
        "",
    ]
    lines += ["## Your interests", ""]
    lines += [
        "The model weighs these interests, named after the arguments of the analysis the game "
        "is built on. The weight says how much each counts for you (1 is average).",
        "",
        "| interest | what it stands for | weight | pushes towards | pushes away from |",
        "|---|---|---|---|---|",
    ]
    for row in data["interests"]:
        lines.append(
            f"| {row['factor']} | {row['argument']} | {row['weight_text']} | "
            f"{', '.join(row['favours']) or '-'} | {', '.join(row['opposes']) or '-'} |"
        )
    lines += ["", "## Your moves", ""]
    for menu in data["menus"]:
        lines += [f"### {menu['title'].capitalize()}", ""]
        lines += ["| action | what it means | support rung | only when |", "|---|---|---|---|"]
        for row in menu["actions"]:
            covert = " (may be done covertly)" if row["covert"] else ""
            lines.append(
                f"| `{row['action']}` | {row['description']}{covert} | {row['rung'] or '-'} | "
                f"{row['requires'] or '-'} |"
            )
        lines.append("")
    if data["covert"]:
        covert = data["covert"]
        lines += [
            "### Covert support",
            "",
            f"Rungs {', '.join(map(str, covert['levels']))} can be given covertly "
            "(`covert_` before the action's name): it costs less in sanctions and escalation "
            f"risk, earns less credibility, does {100 * covert['effect_scale']:.0f} % of the good, "
            f"and each turn it runs the discovery roll exposes it with a chance of "
            f"{100 * covert['discovery']:.0f} %.",
            "",
        ]
    lines += ["## How turns work", ""]
    lines += [f"- {rule}" for rule in data["rules"]]
    lines += [
        "",
        "Support ladder: "
        + ", ".join(f"{i} {name}" for i, name in enumerate(data["support_ladder"]))
        + ".",
    ]
    return "\n".join(lines) + "\n"
