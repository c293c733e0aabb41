"""The Mesa model: injects, Mesa's batch runner and data collector, and outcome bookkeeping."""

from __future__ import annotations

import multiprocessing

import mesa
import numpy as np
import pandas as pd
import pytest
from outcome_fields import REQUIRED_OUTCOME_FIELDS

import sim.engine.model
from actors import CrisisActor
from sim.engine.model import CrisisModel
from sim.scenario.config import CONFIG_ROOT, load_scenario

BASELINE = CONFIG_ROOT / "baseline.yaml"

OUTCOME_FIELDS = REQUIRED_OUTCOME_FIELDS


def decisions_at(model: CrisisModel, turn: int) -> dict[tuple[str, str], object]:
    for logged_turn, decisions in model.decision_log:
        if logged_turn == turn:
            return {(d.actor_id, d.menu.name): d for d in decisions}
    raise AssertionError(f"no decisions logged for turn {turn}")


# ----------------------------------------------------------------------------- injects


def test_forced_inject_moves_appear_in_the_decision_log_at_their_turn(scenario):
    crisis = scenario("twelve_day_war")
    forced_moves = {(i.turn, i.actor): i.action for i in crisis.injects if i.actor is not None}
    assert forced_moves, "the scenario forces moves"
    model = CrisisModel(crisis, 64, rng=3, record_decisions=True).run()
    assert [turn for turn, _ in model.decision_log] == list(range(1, model.world.turn + 1))
    for turn, decisions in model.decision_log:
        for decision in decisions:
            action = forced_moves.get((turn, decision.actor_id))
            if action is not None and action in decision.menu.actions:
                assert decision.forced.all()
                assert decision.action_names() == [action] * 64
            else:
                assert not decision.forced.any()


def test_a_forced_move_overrides_preconditions_and_takes_effect(scenario):
    crisis = scenario("regime_change")
    inject = next(i for i in crisis.injects if i.actor == "united_states")
    spec = crisis.actors["united_states"].actions[inject.action]
    model = CrisisModel(crisis, 64, rng=4, record_decisions=True)
    model.step()
    decision = decisions_at(model, inject.turn)[("united_states", "main")]
    column = decision.menu.index(inject.action)
    # Regime-change pressure needs a war, which has not begun: only the inject can impose it.
    assert spec.requires and not decision.feasible[:, column].any()
    assert (decision.chosen == column).all() and decision.forced.all()
    assert (model.world.escalation >= spec.effects["escalation_floor"]).all()


def test_an_inject_can_force_a_move_on_a_second_menu(write_yaml):
    text = (
        "extends: {baseline}\nname: embargo\n"
        "injects:\n  - turn: 2\n    actor: china\n    action: halt_purchases\n"
    )
    model = CrisisModel(load_scenario(write_yaml(text)), 32, rng=5, record_decisions=True)
    model.step()
    model.step()
    purchases = decisions_at(model, 2)[("china", "oil_purchases")]
    assert purchases.forced.all()
    assert purchases.action_names() == ["halt_purchases"] * 32
    assert not decisions_at(model, 2)[("china", "main")].forced.any()
    assert not decisions_at(model, 1)[("china", "oil_purchases")].forced.any()
    cut = model.crisis.actors["china"].actions["halt_purchases"].effects["china_imports"]
    before = model.trajectory[1]["china_imports_kbd"]
    live = model.trajectory[1]["active"]
    # Iran's discount may win a few percent back; nothing else moves China's purchases.
    assert (model.world.china_imports_kbd[live] < before[live] * (1 + cut) * 1.1).all()


def test_inject_effects_and_context_land_at_their_turn(write_yaml, monkeypatch):
    text = (
        "extends: {baseline}\nname: shock\n"
        "injects:\n  - turn: 2\n    note: a shock\n"
        "    effects: {escalation_floor: 4, iran_military_capacity: -0.3}\n"
        "    context: {us_regime_change_intent: 0.93, sanctions_intensity: 0.97}\n"
    )
    seen: list[dict] = []
    adjudicate = sim.engine.model.adjudicate

    def spy(world, *args, **kwargs):
        seen.append(
            {
                "turn": world.turn,
                "escalation": world.escalation.copy(),
                "capacity": world.iran_military_capacity.copy(),
                "intent": world.context["us_regime_change_intent"].copy(),
                "sanctions": world.context["sanctions_intensity"].copy(),
            }
        )
        return adjudicate(world, *args, **kwargs)

    monkeypatch.setattr(sim.engine.model, "adjudicate", spy)
    model = CrisisModel(load_scenario(write_yaml(text)), 40, rng=6)
    model.step()
    model.step()
    first, second = seen
    assert first["turn"] == 1 and second["turn"] == 2
    # Turn 1 is untouched: the drawn intent is below the inject's value, no floor applied.
    assert (first["intent"] < 0.93).all()
    assert not (first["escalation"] >= 4).all()
    # Turn 2: everything the inject says holds when the actors' moves are adjudicated.
    after_turn_1 = model.trajectory[1]
    np.testing.assert_array_equal(second["intent"], 0.93)
    np.testing.assert_array_equal(second["sanctions"], 0.97)
    np.testing.assert_array_equal(second["escalation"], np.maximum(after_turn_1["escalation"], 4))
    np.testing.assert_allclose(
        second["capacity"], np.clip(after_turn_1["iran_military_capacity"] - 0.3, 0, 1)
    )


# ----------------------------------------------------------------------------- Mesa


def test_the_model_is_a_mesa_model_with_one_agent_per_actor(scenario):
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 4, rng=1)
    assert isinstance(model, mesa.Model)
    assert len(model.agents) == len(crisis.actors)
    assert all(isinstance(agent, CrisisActor) for agent in model.agents)
    assert {agent.actor_id for agent in model.agents} == set(crisis.actors)
    model.run()
    assert model.steps == model.world.turn
    assert not model.running


def test_the_datacollector_collects_a_row_per_turn(scenario):
    model = CrisisModel(scenario("baseline"), 50, rng=2).run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == model.world.turn + 1  # the opening state and every turn
    trajectory = model.trajectory_frame()
    np.testing.assert_allclose(frame.escalation, trajectory.groupby("turn").escalation.mean())
    np.testing.assert_allclose(
        frame.russia_support, trajectory.groupby("turn").russia_support.mean()
    )
    np.testing.assert_array_equal(frame.active, trajectory.groupby("turn").active.sum())
    assert frame.active.iloc[0] == 50 and frame.active.iloc[-1] == 0
    assert frame.active.is_monotonic_decreasing


@pytest.fixture
def keep_start_method():
    """mesa.batch_run forces the 'spawn' start method; put back what the session had."""
    method = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(method, force=True)


def test_mesa_batch_run_agrees_with_a_batch_model(keep_start_method):
    seed = 20250613
    rows = mesa.batch_run(
        CrisisModel,
        {"scenario": [str(BASELINE)], "replication": range(10)},
        rng=seed,
        display_progress=False,
        max_steps=100,
    )
    results = pd.DataFrame(rows).sort_values("replication").reset_index(drop=True)
    assert results.replication.tolist() == list(range(10))
    assert (results.active == 0).all()
    batch = CrisisModel(BASELINE, 10, rng=seed).run()
    outcomes = batch.outcome_frame()
    world = batch.world
    np.testing.assert_array_equal(results.Step, outcomes.end_turn)
    np.testing.assert_array_equal(results.escalation, world.escalation)
    np.testing.assert_array_equal(results.russia_support, world.support["russia"])
    np.testing.assert_array_equal(results.china_support, world.support["china"])
    np.testing.assert_allclose(results.oil_price, world.oil_price)
    np.testing.assert_allclose(results.iran_stability, world.iran_stability)
    np.testing.assert_allclose(results.china_imports_kbd, world.china_imports_kbd)


# ----------------------------------------------------------------------------- bookkeeping


@pytest.fixture(scope="module")
def played(scenario):
    """A finished batch with every decision kept, and its outcomes and trajectories."""
    crisis = scenario("us_limited_strike")
    model = CrisisModel(crisis, 300, rng=17, record_decisions=True).run()
    return model, model.outcome_frame(), model.trajectory_frame()


def test_outcomes_have_every_field_of_the_issue(played):
    _, outcomes, _ = played
    assert set(OUTCOME_FIELDS) <= set(outcomes.columns)
    assert outcomes.replication.tolist() == list(range(300))
    assert outcomes.notna().all().all()


def _live_turns(outcomes: pd.DataFrame, trajectory: pd.DataFrame) -> pd.DataFrame:
    ends = outcomes.set_index("replication").end_turn
    return trajectory[trajectory.turn <= trajectory.replication.map(ends)]


def test_outcome_records_agree_with_the_trajectories(played):
    model, outcomes, trajectory = played
    war = model.crisis.ladders.war_threshold
    live = _live_turns(outcomes, trajectory)
    turns = live[live.turn >= 1]
    by_rep = live.groupby("replication")
    by_turn = turns.groupby("replication")
    o = outcomes.set_index("replication")
    pd.testing.assert_series_equal(
        o.max_escalation, by_rep.escalation.max(), check_names=False, check_dtype=False
    )
    at_war = (turns.escalation >= war).groupby(turns.replication).sum()
    pd.testing.assert_series_equal(o.turns_at_war, at_war, check_names=False, check_dtype=False)
    pd.testing.assert_series_equal(o.war, at_war > 0, check_names=False)
    for power in ("russia", "china"):
        support = by_rep[f"{power}_support"].max()
        pd.testing.assert_series_equal(
            o[f"{power}_max_support"], support, check_names=False, check_dtype=False
        )
        pd.testing.assert_series_equal(o[f"{power}_intervened"], support >= 7, check_names=False)
        covert = (turns[f"{power}_covert"] & (turns[f"{power}_support"] > 0)).groupby(
            turns.replication
        )
        pd.testing.assert_series_equal(
            o[f"{power}_covert_turns"], covert.sum(), check_names=False, check_dtype=False
        )
    closed = (turns.hormuz == 2).groupby(turns.replication).sum()
    pd.testing.assert_series_equal(
        o.hormuz_closed_turns, closed, check_names=False, check_dtype=False
    )
    pd.testing.assert_series_equal(o.peak_oil_price, by_rep.oil_price.max(), check_names=False)
    pd.testing.assert_series_equal(
        o.iran_min_stability, by_rep.iran_stability.min(), check_names=False
    )
    start = trajectory[trajectory.turn == 0].set_index("replication").china_imports_kbd
    pd.testing.assert_series_equal(o.china_imports_start_kbd, start, check_names=False)
    assert by_turn.turn.max().tolist() == o.end_turn.tolist()


def test_ended_replications_keep_their_final_state(played):
    _, outcomes, trajectory = played
    ends = trajectory.replication.map(outcomes.set_index("replication").end_turn)
    after = trajectory[trajectory.turn >= ends].drop(columns="turn")
    first = after.groupby("replication").transform("first")
    pd.testing.assert_frame_equal(after.drop(columns="replication"), first)
    active = trajectory.active.to_numpy()
    np.testing.assert_array_equal(active, (trajectory.turn < ends).to_numpy())


def test_help_requests_and_gulf_stances_come_from_the_decisions(played):
    model, outcomes, _ = played
    size = model.world.size
    requested = np.zeros(size, dtype=bool)
    stance = {g: np.full(size, "", dtype=object) for g in ("saudi_arabia", "uae", "qatar")}
    for turn, decisions in model.decision_log:
        live = model.trajectory[turn - 1]["active"]
        for d in decisions:
            names = np.array(d.action_names(), dtype=object)
            if d.actor_id == "iran":
                asked = np.isin(names, ["request_help_public", "request_help_private"])
                requested |= live & asked
            if d.actor_id in stance and d.menu.name == "main":
                stance[d.actor_id] = np.where(live, names, stance[d.actor_id])
    np.testing.assert_array_equal(outcomes.iran_requested_help, requested)
    assert requested.any()
    for gulf, final in stance.items():
        np.testing.assert_array_equal(outcomes[f"gulf_{gulf}_stance"], final)


def test_a_players_move_made_illegal_by_the_turns_events_is_refused(scenario):
    """A submitted move is checked when the turn is played, after the turn's injects."""
    from sim.scenario.config import Inject

    crisis = scenario("baseline", "initial.escalation=3")
    model = CrisisModel(crisis, rng=5, record_decisions=True)
    model.submit("iran", "proxy_pressure")  # legal now: it needs escalation <= 3
    model.add_inject(Inject(turn=1, note="a strike", effects={"escalation_floor": 4}))
    model.step()
    _, decisions = model.decision_log[-1]
    iran = next(d for d in decisions if d.actor_id == "iran" and d.menu.name == "main")
    assert iran.refused[0] and not iran.forced[0]
    assert iran.menu.actions[iran.chosen[0]] != "proxy_pressure"
    assert iran.feasible[0, iran.chosen[0]]
    # the same move without the event is played as submitted
    model = CrisisModel(crisis, rng=5, record_decisions=True)
    model.submit("iran", "proxy_pressure")
    model.step()
    iran = next(d for d in model.decision_log[-1][1] if d.actor_id == "iran")
    assert iran.forced[0] and not iran.refused[0]
    assert iran.menu.actions[iran.chosen[0]] == "proxy_pressure"
