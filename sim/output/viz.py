"""`wargame viz CONFIG`: step one replication turn by turn in the browser, with Mesa's SolaraViz.

The page shows the escalation ladder with the current rung, each actor's move this turn with
the factor contributions behind it, the world state over time (Mesa's plot component reading
the model's `DataCollector`), and sliders for the context: move one and SolaraViz builds a new
model with it (keyword arguments of `CrisisModel`), to replay the crisis under it.

`solara run` imports this module; the scenario comes from the environment variable
`WARGAME_VIZ_CONFIG` (set by `wargame viz`).
"""

from __future__ import annotations

import os
from typing import Any

import solara
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.analysis import formatting as fmt
from sim.analysis.labels import Labels, readable, rung_label
from sim.engine.model import CrisisModel
from sim.scenario.config import Context, Scenario, load_scenario

CONFIG_VARIABLE = "WARGAME_VIZ_CONFIG"
SEED_VARIABLE = "WARGAME_VIZ_SEED"


def central(value: Any) -> float:
    """A context value to start a slider at: the number, or the middle of its distribution."""
    if isinstance(value, int | float):
        return float(value)
    data = value.model_dump() if hasattr(value, "model_dump") else dict(value)
    for key in ("mode", "mean"):
        if data.get(key) is not None:
            return float(data[key])
    if data.get("low") is not None and data.get("high") is not None:
        return (float(data["low"]) + float(data["high"])) / 2
    values = data.get("values")
    return float(values[0]) if values else 0.5


class VizModel(CrisisModel):
    """CrisisModel as SolaraViz rebuilds it on Reset: the scenario by path in `config`.

    Mesa's page passes its own experimental `scenario` object to the model it rebuilds; the
    crisis scenario therefore travels as `config`, and Mesa's `scenario` is set aside.
    """

    def __init__(self, config: str = "baseline", scenario: Any = None, **kwargs: Any) -> None:
        super().__init__(load_scenario(config), **kwargs)


def model_params(scenario: Scenario, seed: int, config: str) -> dict[str, Any]:
    """SolaraViz's controls: the replication, the seed and a slider per context value (the
    scenario passed by path: a model is rebuilt from it on Reset)."""
    params: dict[str, Any] = {
        "config": config,
        "record_decisions": True,
        "replication": {
            "type": "SliderInt",
            "value": 0,
            "min": 0,
            "max": 999,
            "step": 1,
            "label": "Replication",
        },
        "rng": {
            "type": "SliderInt",
            "value": seed,
            "min": 0,
            "max": 10_000,
            "step": 1,
            "label": "Seed",
        },
    }
    words = Labels.from_scenario(scenario)
    for name in Context.model_fields:
        params[name] = {
            "type": "SliderFloat",
            "value": round(central(getattr(scenario.context, name)), 2),
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": words.parameter(f"context.{name}"),
        }
    return params


def ladder_rows(model: CrisisModel, labels: Labels) -> list[dict[str, Any]]:
    """The escalation ladder, top rung first, marking where the crisis stands now."""
    world = model.world
    current = int(world.escalation[0])
    rows = []
    for level in reversed(range(len(labels.escalation_ladder))):
        rows.append(
            {
                "rung": rung_label(labels.escalation_ladder, level),
                "here": level == current,
                "war": level >= labels.war_threshold,
            }
        )
    return rows


def move_rows(model: CrisisModel, labels: Labels) -> list[dict[str, Any]]:
    """Each actor's move on the last turn played, with the factors behind it (largest first)."""
    if not model.decision_log:
        return []
    _, decisions = model.decision_log[-1]
    rows = []
    for decision in decisions:
        action = decision.menu.actions[int(decision.chosen[0])]
        pushes = sorted(
            zip(decision.factors, decision.contributions[0], strict=True),
            key=lambda item: -abs(item[1]),
        )
        reasons = ", ".join(
            f"{readable(f)} {fmt.number(v, sign=True)}" for f, v in pushes[:4] if abs(v) > 1e-9
        )
        menu = "" if decision.menu.name == "main" else f" ({readable(decision.menu.name)})"
        rows.append(
            {
                "actor": labels.label(decision.actor_id) + menu,
                "move": readable(action),
                "why": reasons or "no factor moved it",
            }
        )
    return rows


def state_line(model: CrisisModel, labels: Labels) -> str:
    world = model.world
    support = ", ".join(
        f"{labels.label(p)}: {rung_label(labels.support_ladder, int(world.support[p][0]))}"
        for p in world.great_power_ids()
    )
    status = (
        "running"
        if world.active[0]
        else f"ended ({readable(model.outcome_frame()['end_state'].iloc[0])})"
    )
    return (
        f"Turn {world.turn} ({status}) · oil ${fmt.number(float(world.oil_price[0]))}/bbl · "
        f"Iran's stability {fmt.number(float(world.iran_stability[0]))} · support: {support}"
    )


@solara.component
def Ladder(model: CrisisModel) -> None:
    update_counter.get()
    labels = Labels.from_scenario(model.crisis)
    context = ", ".join(
        f"{labels.parameter(f'context.{name}')} "
        f"{fmt.number(central(getattr(model.crisis.context, name)))}"
        for name in Context.model_fields
    )
    with solara.Card("Escalation ladder"), solara.Column(gap="2px"):
        solara.Markdown(state_line(model, labels))
        solara.Text(f"Context: {context}", style={"font-size": "0.85em"})
        for row in ladder_rows(model, labels):
            style = {"font-weight": "bold", "background": "#E69F00"} if row["here"] else {}
            if row["war"] and not row["here"]:
                style = {"color": "#D55E00"}
            solara.Text(("▶ " if row["here"] else "") + row["rung"], style=style)


@solara.component
def Moves(model: CrisisModel) -> None:
    update_counter.get()
    labels = Labels.from_scenario(model.crisis)
    rows = move_rows(model, labels)
    with solara.Card(f"Moves on turn {model.world.turn}" if rows else "Moves (press Step)"):
        lines = ["| actor | move | factor contributions (utility) |", "|---|---|---|"]
        lines += [f"| {r['actor']} | {r['move']} | {r['why']} |" for r in rows]
        solara.Markdown("\n".join(lines) if rows else "No turn played yet.")


def page_for(config: str, seed: int = 0):
    """The SolaraViz page of `config`, its model at replication 0."""
    scenario = load_scenario(config)
    model = VizModel(config, replication=0, rng=seed, record_decisions=True)
    over_time = make_plot_component(["escalation", "russia_support", "china_support"])
    prices = make_plot_component(["oil_price"])
    return SolaraViz(
        model,
        components=[Ladder, Moves, over_time, prices],
        model_params=model_params(scenario, seed, config),
        name=f"Iran crisis wargame: {scenario.name}",
    )


page = page_for(
    os.environ.get(CONFIG_VARIABLE, "baseline"), int(os.environ.get(SEED_VARIABLE, "0"))
)
