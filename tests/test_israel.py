"""Israel as an actor: its moves change the world, its factors drive them, Iran answers it, and a
class can play it."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from classroom.helpers import CONFIG

from sim.classroom.config import classroom_for, load_game_config
from sim.classroom.session import GameSession
from sim.engine.decision import choice_probabilities, utilities
from sim.engine.model import CrisisModel

MENU = [
    "restraint",
    "sabotage",
    "strike_military",
    "strike_nuclear",
    "strike_leadership",
    "sustained_campaign",
]


def test_israel_is_an_actor_of_every_shipped_scenario_with_its_menu_in_order(scenario):
    model = CrisisModel(scenario("baseline"), 4, rng=1)
    israel = model.actors["israel"]
    assert israel.kind == "israel"
    assert israel.menus["main"].actions == MENU
    assert set(israel.factors) == {
        "iran_threat",
        "us_coordination",
        "retaliation_exposure",
        "international_pressure",
        "domestic_politics",
    }


def strike_turn(scenario, action: str, size: int = 64):
    """One turn of `baseline` in which Israel plays `action` in every replication."""
    model = CrisisModel(scenario("baseline", "initial.escalation=4"), size, rng=7)
    before = {
        "nuclear": model.world.nuclear_programme.copy(),
        "capacity": model.world.iran_military_capacity.copy(),
    }
    model.actors["israel"].force("main", np.full(size, MENU.index(action)))
    model.step()
    return model, before


def test_israels_strikes_hit_the_programme_and_the_forces_they_aim_at(scenario):
    calm, calm_before = strike_turn(scenario, "restraint")
    nuclear, nuclear_before = strike_turn(scenario, "strike_nuclear")
    military, military_before = strike_turn(scenario, "strike_military")
    # Same seed, same replications: only Israel's move differs.
    programme_lost = nuclear_before["nuclear"] - nuclear.world.nuclear_programme
    assert (programme_lost > calm_before["nuclear"] - calm.world.nuclear_programme).all()
    assert (military.world.iran_military_capacity < calm.world.iran_military_capacity).all()
    frame = nuclear.outcome_frame()
    assert (frame.israel_strike_turns == 1).all()
    assert (frame.israel_max_action == "strike_nuclear").all()
    assert (calm.outcome_frame().israel_strike_turns == 0).all()


def israel_strike_probability(model) -> np.ndarray:
    israel = model.actors["israel"]
    menu = israel.menus["main"]
    utility = utilities(israel.weights, israel.modulators(model.world), menu.loadings)
    probabilities = choice_probabilities(
        utility, israel.feasible(menu, model.world), israel.rationality
    )
    return probabilities[:, MENU.index("strike_military") :].sum(axis=1)


@pytest.mark.parametrize(
    ("event", "direction"),
    [("attack_on_israel", +1), ("us_restraint", -1), ("us_green_light", +1)],
)
def test_israels_readiness_to_strike_follows_its_factors(scenario, event, direction):
    model = CrisisModel(scenario("baseline", "initial.escalation=4"), 200, rng=3)
    before = israel_strike_probability(model)
    model.world.events[event] = np.ones(model.world.size)
    after = israel_strike_probability(model)
    assert (np.sign(after - before) == direction).all()


def test_a_dash_to_the_threshold_raises_israels_readiness_to_strike(scenario):
    model = CrisisModel(scenario("baseline", "initial.escalation=2"), 200, rng=3)
    before = israel_strike_probability(model)
    model.world.nuclear_signal = np.ones(model.world.size)
    assert (israel_strike_probability(model) > before).all()


def test_iran_answers_an_israeli_strike_on_israel_and_a_us_strike_on_us_forces(scenario):
    size = 400

    def iran_moves(*events):
        model = CrisisModel(scenario("baseline", "initial.escalation=5"), size, rng=11)
        model.actors["israel"].force("main", np.zeros(size, dtype=int))  # no new strike
        for event in events:  # what happened last turn, as Iran sees it when it decides
            model.world.events[event] = np.ones(size)
            if event in model.world.memory:
                model.world.memory[event] = np.ones(size)
        model.step()
        decision = next(d for d in model.actors["iran"].decisions if d.menu.name == "main")
        return np.array(decision.action_names())

    by_israel = iran_moves("strike_on_iran", "israel_strike")
    by_us = iran_moves("strike_on_iran")
    assert (by_israel == "strike_israel").mean() > 0.5
    assert (by_israel == "strike_israel").mean() > 3 * (by_us == "strike_israel").mean()
    assert (by_us == "missile_strike").mean() > (by_israel == "missile_strike").mean()


def test_israel_plays_itself_in_the_twelve_day_war(outcomes, scenario):
    replay = scenario("twelve_day_war")
    forced = [i for i in replay.injects if i.actor == "israel"]
    assert [i.turn for i in forced] == [1], "only the opening move is known at the start"
    assert not any("israel_strike" in i.effects for i in replay.injects if i.actor != "israel"), (
        "no inject stands in for Israel after the opening"
    )
    frame = outcomes("twelve_day_war", size=300)
    assert (frame.israel_max_action == "sustained_campaign").all()
    # Israel decides whether to go on: some replays stop early, others strike on.
    assert frame.israel_strike_turns.min() == 1
    assert frame.israel_strike_turns.max() >= 3


def test_a_class_can_give_israel_to_a_team(tmp_path):
    scenario, _ = load_game_config(CONFIG)
    block = classroom_for(scenario, ["israel", "iran"])
    assert [t.actor for t in block.teams] == ["israel", "iran"]
    assert block.team_name("israel") == "Israel"
    session = GameSession.create(":memory:", CONFIG, actors=["israel", "iran"])
    session.start()
    session.submit("israel", {"main": "sabotage"}, session.game.current)
    session.submit("iran", {"main": "hold_firm"}, session.game.current)
    session.close()
    assert session.game.turns[0].moves["israel"] == {"main": "sabotage"}


def test_a_classroom_block_may_name_an_israel_team(tmp_path):
    path = tmp_path / "israel_class.yaml"
    path.write_text(
        f"extends: {CONFIG}\n"
        + textwrap.dedent(
            """
            classroom:
              teams:
                - {actor: israel, name: Jerusalem}
              events:
                - name: israeli_strike
                  note: Israel strikes enrichment sites
                  actor: israel
                  action: strike_nuclear
            """
        ),
        encoding="utf-8",
    )
    scenario, _ = load_game_config(path)
    assert scenario.classroom.team_name("israel") == "Jerusalem"
