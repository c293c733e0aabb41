"""Decisions: factor utilities, their explanation, the logit rule and preconditions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from actors import ACTOR_CLASSES
from sim.engine.decision import (
    PHASES,
    ActionMenu,
    Condition,
    choice_probabilities,
    contributions,
    logit_choice,
    utilities,
)
from sim.engine.model import CrisisModel
from sim.engine.world import CONDITION_VARIABLES

KNOWN = set(CONDITION_VARIABLES)


def random_problem(seed: int, size: int = 7, factors: int = 5, actions: int = 6):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.0, 2.0, (size, factors))
    modulators = rng.uniform(-1.0, 1.0, (size, factors))
    loadings = rng.normal(0.0, 2.0, (actions, factors))
    return weights, modulators, loadings


# ----------------------------------------------------------------------------- utilities


def test_utilities_equal_hand_computed_sum_over_factors():
    weights, modulators, loadings = random_problem(1)
    result = utilities(weights, modulators, loadings)
    assert result.shape == (weights.shape[0], loadings.shape[0])
    for r in range(weights.shape[0]):
        for a in range(loadings.shape[0]):
            expected = sum(
                weights[r, f] * loadings[a, f] * modulators[r, f] for f in range(weights.shape[1])
            )
            assert result[r, a] == pytest.approx(expected, abs=1e-12)


def test_contributions_sum_to_the_chosen_actions_utility():
    weights, modulators, loadings = random_problem(2)
    chosen = np.array([0, 5, 2, 2, 1, 3, 4])
    parts = contributions(weights, modulators, loadings, chosen)
    assert parts.shape == weights.shape
    total = utilities(weights, modulators, loadings)
    np.testing.assert_allclose(parts.sum(axis=1), total[np.arange(len(chosen)), chosen])
    # Each part is one factor's weight x loading x modulator.
    r, f = 3, 2
    assert parts[r, f] == pytest.approx(weights[r, f] * loadings[chosen[r], f] * modulators[r, f])


def test_actor_utilities_match_the_yaml_loadings(scenario):
    """A real actor's utility, recomputed by hand from the scenario's weights and loadings."""
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 5, rng=11)
    russia = model.actors["russia"]
    config = crisis.actors["russia"]
    modulators = russia.modulators(model.world)
    menu = russia.menus["main"]
    utility = utilities(russia.weights, modulators, menu.loadings)
    for action in ("diplomatic_backing", "arms_transfers", "covert_technical_aid"):
        covert = action.startswith("covert_")
        spec = config.actions[action.removeprefix("covert_")]
        for r in range(model.world.size):
            expected = 0.0
            for f, factor in enumerate(russia.factors):
                loading = spec.loadings.get(factor, 0.0)
                if covert:
                    loading *= config.covert.loading_scale.get(factor, 1.0)
                expected += russia.weights[r, f] * loading * modulators[r, f]
            assert utility[r, menu.index(action)] == pytest.approx(expected, abs=1e-12)


def test_decisions_in_a_run_explain_their_utility(scenario):
    """For every decision of every turn, the factor contributions add up to its utility."""
    model = CrisisModel(scenario("us_limited_strike"), 40, rng=5, record_decisions=True).run()
    assert model.decision_log
    checked = 0
    for _, decisions in model.decision_log:
        for decision in decisions:
            rows = np.arange(len(decision.chosen))
            np.testing.assert_allclose(
                decision.contributions.sum(axis=1),
                decision.utility[rows, decision.chosen],
                atol=1e-9,
            )
            free = ~decision.forced
            # The model never picks an infeasible move on its own.
            assert decision.feasible[rows[free], decision.chosen[free]].all()
            checked += 1
    assert checked > 0


# ----------------------------------------------------------------------------- logit rule


def test_choice_probabilities_sum_to_one_and_skip_infeasible_actions():
    rng = np.random.default_rng(3)
    utility = rng.normal(0.0, 3.0, (200, 8))
    feasible = rng.random((200, 8)) < 0.6
    feasible[np.arange(200), rng.integers(0, 8, 200)] = True
    rationality = rng.uniform(0.0, 10.0, 200)
    p = choice_probabilities(utility, feasible, rationality)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p[~feasible] == 0).all()
    assert (p[feasible] > 0).all()


def test_infeasible_actions_are_never_chosen_even_when_they_are_best():
    rng = np.random.default_rng(4)
    size, actions = 20_000, 6
    utility = rng.normal(0.0, 1.0, (size, actions))
    feasible = rng.random((size, actions)) < 0.5
    feasible[:, 2] = True  # at least one legal move everywhere
    utility[~feasible] += 100.0  # the forbidden moves are by far the most attractive
    for rationality in (0.0, 1.0, 50.0):
        chosen = logit_choice(utility, feasible, np.full(size, rationality), rng.random(size))
        assert feasible[np.arange(size), chosen].all()


def test_very_high_rationality_gives_the_best_response():
    rng = np.random.default_rng(5)
    size, actions = 5_000, 7
    utility = rng.normal(0.0, 1.0, (size, actions))
    feasible = rng.random((size, actions)) < 0.7
    feasible[:, 0] = True
    best = np.argmax(np.where(feasible, utility, -np.inf), axis=1)
    chosen = logit_choice(utility, feasible, np.full(size, 1e6), rng.random(size))
    np.testing.assert_array_equal(chosen, best)


def test_infinite_rationality_is_best_response_too():
    utility = np.array([[0.0, 1.0, 2.0, 0.5], [0.0, 0.0, -1.0, -3.0]])
    feasible = np.array([[True, True, False, True], [True, True, True, True]])
    p = choice_probabilities(utility, feasible, np.array([np.inf, np.inf]))
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p[0], [0.0, 1.0, 0.0, 0.0])  # best feasible, not the best
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0, 0.0])  # ties share


def test_a_best_responding_actor_from_yaml(scenario):
    """`rationality: .inf` in a scenario makes an actor play its best feasible move."""
    crisis = scenario("us_limited_strike", "actors.iran.rationality=.inf")
    model = CrisisModel(crisis, 100, rng=9, record_decisions=True)
    for _ in range(4):
        model.step()
    for _, decisions in model.decision_log:
        iran = next(d for d in decisions if d.actor_id == "iran")
        utility = np.where(iran.feasible, iran.utility, -np.inf)
        best = utility.max(axis=1)
        rows = np.arange(len(best))
        np.testing.assert_allclose(iran.utility[rows, iran.chosen], best)


def test_zero_rationality_is_uniform_over_feasible_actions():
    rng = np.random.default_rng(6)
    size, actions = 60_000, 6
    utility = rng.normal(0.0, 5.0, (size, actions))
    feasible = np.tile([True, False, True, True, False, True], (size, 1))
    p = choice_probabilities(utility, feasible, np.zeros(size))
    np.testing.assert_allclose(p[:, feasible[0]], 0.25)
    chosen = logit_choice(utility, feasible, np.zeros(size), rng.random(size))
    counts = np.bincount(chosen, minlength=actions)
    assert counts[~feasible[0]].sum() == 0
    observed = counts[feasible[0]]
    assert stats.chisquare(observed).pvalue > 1e-3
    np.testing.assert_allclose(observed / size, 0.25, atol=0.01)


def test_logit_draws_follow_the_logit_probabilities():
    size = 50_000
    utility = np.tile([0.0, 1.0, 0.5, -1.0], (size, 1))
    feasible = np.ones_like(utility, dtype=bool)
    rationality = np.full(size, 1.5)
    expected = np.exp(1.5 * utility[0]) / np.exp(1.5 * utility[0]).sum()
    np.testing.assert_allclose(choice_probabilities(utility, feasible, rationality)[0], expected)
    chosen = logit_choice(utility, feasible, rationality, np.random.default_rng(7).random(size))
    counts = np.bincount(chosen, minlength=4)
    assert stats.chisquare(counts, expected * size).pvalue > 1e-3


def test_higher_rationality_concentrates_on_the_best_action():
    utility = np.array([[0.0, 1.0, 0.3]])
    feasible = np.ones((1, 3), dtype=bool)
    best_share = [
        choice_probabilities(utility, feasible, np.array([r]))[0, 1] for r in (0.0, 1.0, 3.0, 10.0)
    ]
    assert best_share == sorted(best_share)
    assert best_share[0] == pytest.approx(1 / 3)
    assert best_share[-1] > 0.99


# ----------------------------------------------------------------------------- preconditions


@pytest.mark.parametrize(
    ("text", "variable", "op", "value"),
    [
        ("escalation >= 4", "escalation", ">=", 4.0),
        ("war==1", "war", "==", 1.0),
        ("  turn < 3 ", "turn", "<", 3.0),
        ("oil_price > 80.5", "oil_price", ">", 80.5),
        ("us_force_posture <= 0.95", "us_force_posture", "<=", 0.95),
        ("own_support != 0", "own_support", "!=", 0.0),
        ("escalation >= -1", "escalation", ">=", -1.0),
    ],
)
def test_condition_parse_accepts(text, variable, op, value):
    assert Condition.parse(text, KNOWN) == Condition(variable, op, value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("escalation => 4", "expected a condition"),
        ("escalation >= four", "expected a condition"),
        ("escalation", "expected a condition"),
        ("", "expected a condition"),
        ("escalation >= 4 and war == 1", "expected a condition"),
        ("Escalation >= 4", "expected a condition"),
        ("morale >= 1", "unknown variable 'morale'"),
    ],
)
def test_condition_parse_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        Condition.parse(text, KNOWN)


def test_condition_holds_per_replication(scenario):
    model = CrisisModel(scenario("baseline"), 5, rng=1)
    model.world.escalation = np.array([0, 3, 4, 5, 8])
    assert Condition.parse("escalation >= 4", KNOWN).holds(model.world, "iran").tolist() == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert Condition.parse("war == 1", KNOWN).holds(model.world, "iran").tolist() == [
        False,
        False,
        True,
        True,
        True,
    ]
    model.world.support["russia"] = np.array([0, 1, 2, 3, 4])
    own = Condition.parse("own_support >= 2", KNOWN)
    assert own.holds(model.world, "russia").tolist() == [False, False, True, True, True]
    # An actor without a support level reads zero.
    assert not own.holds(model.world, "iran").any()


def test_missile_strike_is_infeasible_below_war_and_feasible_at_war(scenario):
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 18, rng=2)
    iran = model.actors["iran"]
    menu = iran.menus["main"]
    column = menu.index("missile_strike")
    assert crisis.actors["iran"].actions["missile_strike"].requires == ["escalation >= 4"]
    # The scenario opens in a crisis, below war: no missile strike yet.
    assert not model.world.war.any()
    assert not iran.feasible(menu, model.world)[:, column].any()
    rungs = np.arange(18) % len(crisis.ladders.escalation)
    model.world.escalation = rungs
    feasible = iran.feasible(menu, model.world)[:, column]
    np.testing.assert_array_equal(feasible, rungs >= crisis.ladders.war_threshold)
    np.testing.assert_array_equal(feasible, model.world.war)


def test_no_replication_strikes_before_the_war_in_a_run(scenario):
    """In every turn of a run, Iran's missile strikes happen only at war rungs."""
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 300, rng=4, record_decisions=True).run()
    strikes_seen = 0
    for turn, decisions in model.decision_log:
        # Baseline has no injects: Iran decides on the state the previous turn left.
        rung = model.trajectory[turn - 1]["escalation"]
        for decision in decisions:
            if decision.actor_id != "iran":
                continue
            strike = decision.chosen == decision.menu.index("missile_strike")
            assert (rung[strike] >= crisis.ladders.war_threshold).all()
            strikes_seen += int(strike.sum())
    assert strikes_seen > 0, "the check needs some strikes to look at"


def test_preconditions_of_every_action_are_parsed_into_menus(scenario):
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 2, rng=1)
    for actor_id, actor in model.actors.items():
        for menu in actor.menus.values():
            for name, conditions in zip(menu.actions, menu.conditions, strict=True):
                spec = crisis.actors[actor_id].actions[name.removeprefix("covert_")]
                assert [Condition.parse(t, KNOWN) for t in spec.requires] == conditions


# ----------------------------------------------------------------------------- menus


def test_covert_variants_scale_loadings_and_effects(scenario):
    crisis = scenario("baseline")
    config = crisis.actors["china"]
    factors = tuple(ACTOR_CLASSES["china"].FACTORS)
    main = {n: s for n, s in config.actions.items() if s.menu == "main"}
    menu = ActionMenu.build("main", main, factors, config.covert)
    covert_names = [n for n in menu.actions if n.startswith("covert_")]
    assert sorted(covert_names) == sorted(
        f"covert_{n}" for n, s in main.items() if s.level in config.covert.levels and not s.deniable
    )
    for name in covert_names:
        i, j = menu.index(name), menu.index(name.removeprefix("covert_"))
        assert menu.covert[i] and not menu.covert[j]
        assert menu.levels[i] == menu.levels[j]
        assert menu.phases[i] == menu.phases[j]
        scale = np.array([config.covert.loading_scale.get(f, 1.0) for f in factors])
        np.testing.assert_allclose(menu.loadings[i], menu.loadings[j] * scale)
        np.testing.assert_allclose(menu.effects[i], menu.effects[j] * config.covert.effect_scale)
        assert menu.descriptions[i].startswith("Covertly: ")
    assert set(PHASES[p] for p in menu.phases) <= set(PHASES)


# ----------------------------------------------------------------------------- support ladder


def test_ladder_feasibility_allows_at_most_max_step_up_rungs(scenario):
    crisis = scenario("baseline")
    step = crisis.dynamics.support.max_step_up
    model = CrisisModel(crisis, 8, rng=3)
    model.world.escalation[:] = crisis.ladders.war_threshold  # intervention's precondition holds
    for power in ("russia", "china"):
        actor = model.actors[power]
        menu = actor.menus["main"]
        model.world.support[power] = np.arange(8)
        mask = actor.feasible(menu, model.world)
        for r in range(8):
            np.testing.assert_array_equal(mask[r], menu.levels <= r + step)


def _largest_climb(model: CrisisModel, power: str) -> int:
    frame = model.trajectory_frame().sort_values(["replication", "turn"])
    climbs = frame.groupby("replication")[f"{power}_support"].diff()
    return int(climbs.max())


@pytest.mark.parametrize("name", ["baseline", "regime_change", "ukraine_ceasefire"])
def test_support_never_climbs_more_than_max_step_up_in_a_turn(scenario, name):
    crisis = scenario(name)
    model = CrisisModel(crisis, 400, rng=8).run()
    for power in ("russia", "china"):
        assert _largest_climb(model, power) <= crisis.dynamics.support.max_step_up


def test_a_tighter_step_limit_is_respected(scenario):
    crisis = scenario("regime_change", "dynamics.support.max_step_up=1")
    model = CrisisModel(crisis, 400, rng=8).run()
    for power in ("russia", "china"):
        assert _largest_climb(model, power) <= 1
