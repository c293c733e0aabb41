"""Adjudication: effects on the world, Hormuz and the oil price, covert acts, how runs end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from actors import Decision
from sim.engine.adjudication import _end_conditions, apply_effects, phase_effects
from sim.engine.decision import PHASES
from sim.engine.effects import EFFECT_INDEX, EFFECTS, LEVEL_EFFECTS
from sim.engine.model import CrisisModel
from sim.engine.talks import break_off_talks
from sim.engine.world import EndState, Hormuz
from sim.scenario.config import load_scenario

#: terms that meet for certain: Washington asks nothing and Tehran's offer decides sharply
DEAL_ON_THE_TABLE = (
    "context.us_demands=0",
    "context.us_regime_change_intent=0",
    "dynamics.talks.terms_softness=0.000001",
)


def effect_matrix(size: int, **amounts) -> np.ndarray:
    matrix = np.zeros((size, len(EFFECTS)))
    for name, amount in amounts.items():
        matrix[:, EFFECT_INDEX[name]] = amount
    return matrix


@pytest.fixture
def world(scenario):
    """The opening world of a real baseline batch of six replications."""
    return CrisisModel(scenario("baseline"), 6, rng=1).world


# ----------------------------------------------------------------------------- effects


def test_escalation_delta_and_floor_combine_and_clip(world):
    top = world.top_escalation
    world.escalation = np.array([0, 1, 3, 5, top - 1, top])
    before = world.escalation.copy()
    apply_effects(world, effect_matrix(6, escalation=2, escalation_floor=4))
    # Steps below war stop a rung short of it; the floor (a strike) takes the ladder to war.
    war = world.war_threshold
    stepped = np.where(before < war, np.minimum(before + 2, war - 1), before + 2)
    expected = np.clip(np.maximum(stepped, 4), 0, top)
    np.testing.assert_array_equal(world.escalation, expected)
    np.testing.assert_array_equal(world.escalated, expected > before)
    assert not world.escalated[-1]  # already at the top rung


def test_threats_and_incidents_alone_never_start_a_war(world):
    """The war rungs name strikes: steps up the ladder stop below war without a strike."""
    war = world.war_threshold
    world.escalation = np.array([0, war - 2, war - 1, war - 1, war, war + 1])
    apply_effects(world, effect_matrix(6, escalation=3))
    np.testing.assert_array_equal(
        world.escalation, [war - 1, war - 1, war - 1, war - 1, war + 3, war + 4]
    )
    # Counter-check: the same steps with a strike's floor do reach war.
    world.escalation = np.array([0, war - 2, war - 1, war - 1, war, war + 1])
    apply_effects(world, effect_matrix(6, escalation=1, escalation_floor=war))
    assert (world.escalation >= war).all()


def test_a_floor_never_lowers_the_ladder(world):
    world.escalation = np.array([0, 2, 4, 5, 7, 8])
    apply_effects(world, effect_matrix(6, escalation_floor=5))
    np.testing.assert_array_equal(world.escalation, [5, 5, 5, 5, 7, 8])
    np.testing.assert_array_equal(world.escalated, [True, True, True, False, False, False])


def test_de_escalation_stops_at_the_bottom_and_is_not_escalation(world):
    world.escalation = np.array([0, 1, 2, 3, 4, 8])
    apply_effects(world, effect_matrix(6, escalation=-1))
    np.testing.assert_array_equal(world.escalation, [0, 0, 1, 2, 3, 7])
    assert not world.escalated.any()


def test_fractional_escalation_rounds_to_whole_rungs(world):
    world.escalation = np.full(6, 2)
    apply_effects(world, effect_matrix(6, escalation=0.8))
    np.testing.assert_array_equal(world.escalation, 3)
    apply_effects(world, effect_matrix(6, escalation=0.3))
    np.testing.assert_array_equal(world.escalation, 3)


def test_bounded_variables_stay_in_range(world):
    apply_effects(
        world,
        effect_matrix(
            6,
            sanctions_intensity=2.0,
            us_force_posture=-3.0,
            iran_stability=-5.0,
            iran_military_capacity=4.0,
            regime_pressure=7.0,
            oil_discount=-100.0,
        ),
    )
    np.testing.assert_array_equal(world.context["sanctions_intensity"], 1.0)
    np.testing.assert_array_equal(world.us_force_posture, 0.0)
    np.testing.assert_array_equal(world.iran_stability, 0.0)
    np.testing.assert_array_equal(world.iran_military_capacity, 1.0)
    np.testing.assert_array_equal(world.regime_pressure, 1.0)
    np.testing.assert_array_equal(world.oil_discount, 0.0)


def test_sanctions_relief_eases_sanctions_and_imports_change_relatively(world):
    sanctions = world.context["sanctions_intensity"].copy()
    imports = world.china_imports_kbd.copy()
    apply_effects(world, effect_matrix(6, sanctions_relief=0.1, china_imports=-0.25))
    np.testing.assert_allclose(world.context["sanctions_intensity"], np.clip(sanctions - 0.1, 0, 1))
    np.testing.assert_allclose(world.china_imports_kbd, imports * 0.75)


def test_level_effects_set_at_least_a_level(world):
    apply_effects(world, effect_matrix(6, hormuz=2, nuclear_signal=1.0))
    apply_effects(world, effect_matrix(6, hormuz=1, nuclear_signal=0.0))
    np.testing.assert_array_equal(world.hormuz, Hormuz.CLOSED)
    np.testing.assert_array_equal(world.nuclear_signal, 1.0)


def test_events_record_requests_and_cap_attacks(world):
    matrix = effect_matrix(6, help_request_private=1.0, iran_attack=0.7, mediation=0.5)
    matrix[0, EFFECT_INDEX["help_request_public"]] = 1.0
    apply_effects(world, matrix)
    apply_effects(world, effect_matrix(6, iran_attack=0.7, mediation=0.5))
    np.testing.assert_array_equal(world.events["help_request_public"], [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(world.events["help_request_private"], 1.0)
    np.testing.assert_array_equal(world.events["iran_attack"], 1.0)
    np.testing.assert_allclose(world.events["mediation"], 1.0)


def _decision(model: CrisisModel, actor_id: str, actions: list[str]) -> Decision:
    actor = model.actors[actor_id]
    menu = actor.menus["main"]
    size = model.world.size
    return Decision(
        actor_id=actor_id,
        menu=menu,
        chosen=np.array([menu.index(a) for a in actions]),
        forced=np.zeros(size, dtype=bool),
        refused=np.zeros(size, dtype=bool),
        utility=np.zeros((size, len(menu.actions))),
        feasible=np.ones((size, len(menu.actions)), dtype=bool),
        contributions=np.zeros((size, len(actor.factors))),
        factors=actor.factors,
    )


def _expected_phase(specs: list[dict[str, float]]) -> np.ndarray:
    """One replication's effects of several moves: level effects take the highest, others add."""
    row = np.zeros(len(EFFECTS))
    for effects in specs:
        for name, amount in effects.items():
            i = EFFECT_INDEX[name]
            row[i] = max(row[i], amount) if name in LEVEL_EFFECTS else row[i] + amount
    return row


def test_phase_effects_add_up_but_take_the_highest_level(scenario):
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 3, rng=1)
    moves = {
        "united_states": ["limited_strikes", "limited_strikes", "tighten_sanctions"],
        "iran": ["missile_strike", "negotiate", "harass_shipping"],
        "saudi_arabia": ["align_with_us", "mediate", "raise_output"],
    }
    decisions = [_decision(model, actor, actions) for actor, actions in moves.items()]
    totals = phase_effects(decisions, 3)
    assert len(totals) == len(PHASES)
    for phase_index, phase in enumerate(PHASES):
        for row in range(3):
            specs = [crisis.actors[actor].actions[actions[row]] for actor, actions in moves.items()]
            expected = _expected_phase([s.effects for s in specs if s.phase == phase])
            np.testing.assert_allclose(totals[phase_index][row], expected, err_msg=phase)
    # The case that matters: two floors in one phase do not add up.
    military = totals[PHASES.index("military")]
    floors = [
        crisis.actors[a].actions[moves[a][0]].effects["escalation_floor"]
        for a in ("united_states", "iran")
    ]
    assert military[0, EFFECT_INDEX["escalation_floor"]] == max(floors)


# ----------------------------------------------------------------------------- Hormuz and oil


def _closure_scenario(write_yaml, closures: bool):
    move = "    actor: iran\n    action: close_hormuz\n"
    other = "    effects: {escalation_floor: 7}\n"
    injects = "".join(f"  - turn: {t}\n" + (move if closures else other) for t in range(1, 6))
    # A test of the mechanism, on the model files' priors: under other parameters Iran may
    # close the Strait of its own accord in the control.
    text = "extends: {baseline}\nname: hormuz\ncalibration: prior\ninjects:\n" + injects
    return load_scenario(write_yaml(text, f"hormuz_{closures}.yaml"))


def test_a_hormuz_closure_raises_the_oil_price_over_turns(write_yaml):
    closed = CrisisModel(_closure_scenario(write_yaml, True), 300, rng=9).run()
    control = CrisisModel(_closure_scenario(write_yaml, False), 300, rng=9).run()
    crisis = closed.crisis
    frame = closed.trajectory_frame()
    turns = frame[frame.turn.between(1, 5)]
    assert (turns.hormuz == Hormuz.CLOSED).all()
    mean_price = frame.groupby("turn").oil_price.mean()
    # Each turn of closure pushes the price further up towards the price that clears the
    # market short of the supply lost.
    assert all(mean_price[t + 1] > mean_price[t] for t in range(0, 5))
    control_price = control.trajectory_frame().groupby("turn").oil_price.mean()
    rules = crisis.dynamics.hormuz
    mildest = (
        rules.severity_low * rules.flow_mbd
        - rules.bypass_mbd
        - rules.stock_release_mbd
        - rules.spare_outside_mbd
    ) / rules.world_supply_mbd
    base = crisis.dynamics.oil.base_price
    mildest_rise = base * ((1 - mildest) ** (-1 / rules.price_elasticity) - 1)
    assert mildest_rise > 5
    assert mean_price[5] - control_price[5] > mildest_rise / 2
    outcomes = closed.outcome_frame()
    assert (outcomes.hormuz_closed_turns >= np.minimum(outcomes.end_turn, 5)).all()
    assert outcomes.hormuz_ever_closed.all()
    assert not control.outcome_frame().hormuz_ever_closed.any()
    assert (outcomes.peak_oil_price >= frame.groupby("replication").oil_price.max() - 1e-9).all()


def test_the_oil_shock_of_a_closure_shrinks_with_bypass_and_stocks(write_yaml):
    """Counter-check: with enough bypass capacity and stock releases a closure costs little."""
    text = "extends: {baseline}\nname: bypassed\ninjects:\n" + "".join(
        f"  - turn: {t}\n    effects: {{hormuz: 2}}\n" for t in range(1, 6)
    )
    path = write_yaml(text, "bypassed.yaml")
    shocked = CrisisModel(load_scenario(path), 200, rng=4).run().trajectory_frame()
    cushioned = CrisisModel(
        load_scenario(
            path, ["dynamics.hormuz.bypass_mbd=20", "dynamics.hormuz.stock_release_mbd=5"]
        ),
        200,
        rng=4,
    ).run()
    cushioned = cushioned.trajectory_frame()
    at5 = shocked[shocked.turn == 5].oil_price.mean()
    assert at5 > cushioned[cushioned.turn == 5].oil_price.mean() + 20


def _one_closure(write_yaml, *overrides):
    """Iran closes the Strait and then holds firm; Washington keeps its forces in place (it
    only warns Moscow and Beijing), so that the navies' reopening depends on the rules alone."""
    text = (
        "extends: {baseline}\nname: one_closure\n"
        "injects:\n  - turn: 1\n    actor: iran\n    action: close_hormuz\n"
        + "".join(f"  - turn: {t}\n    actor: iran\n    action: hold_firm\n" for t in range(2, 8))
        + "".join(
            f"  - turn: {t}\n    actor: united_states\n    action: warn_russia_china\n"
            for t in range(1, 8)
        )
    )
    return CrisisModel(load_scenario(write_yaml(text), list(overrides)), 100, rng=2)


def test_a_closure_lasts_until_it_is_lifted(write_yaml):
    """Nobody clears the mines and Iran holds firm: the Strait stays closed turn after turn."""
    model = _one_closure(write_yaml, "dynamics.hormuz.reopen_probability=0")
    for _ in range(7):
        model.step()
        live = model.trajectory[-2]["active"]
        assert (model.world.hormuz[live] == Hormuz.CLOSED).all()
        # The ladder never says less than a war across the Gulf while the Strait is shut.
        assert (model.world.escalation[live] >= 7).all()


def test_navies_reopen_a_closure_then_harassment_dies_down(write_yaml):
    model = _one_closure(
        write_yaml,
        "dynamics.hormuz.reopen_probability=1",
        "dynamics.hormuz.harassment_ease_probability=1",
        "initial.us_force_posture=1",
    )
    for expected in (Hormuz.CLOSED, Hormuz.HARASSED, Hormuz.OPEN):
        model.step()
        live = model.trajectory[-2]["active"]
        assert (model.world.hormuz[live] == expected).all()


def test_an_inject_closing_hormuz_closes_it_that_turn(write_yaml):
    """An inject's closure is this turn's, not last turn's to be eased a step."""
    text = "extends: {baseline}\nname: inject_closure\ninjects:\n"
    text += "  - turn: 1\n    effects: {hormuz: 2, escalation_floor: 7}\n"
    model = CrisisModel(load_scenario(write_yaml(text)), 50, rng=3)
    model.step()
    np.testing.assert_array_equal(model.world.hormuz, Hormuz.CLOSED)
    assert (model.outcome_frame().hormuz_closed_turns == 1).all()


def test_inject_raised_escalation_is_not_undone_the_same_turn(write_yaml):
    """Nobody de-escalates (the moves are imposed), so the floor holds: no drift down."""
    text = (
        "extends: {baseline}\nname: inject_floor\ninjects:\n"
        "  - turn: 1\n    effects: {escalation_floor: 6}\n"
        "  - turn: 1\n    actor: iran\n    action: hold_firm\n"
        "  - turn: 1\n    actor: united_states\n    action: warn_russia_china\n"
    )
    crisis = load_scenario(write_yaml(text), ["dynamics.escalation.decay_probability=1"])
    model = CrisisModel(crisis, 50, rng=3)
    model.step()
    assert (model.world.escalation >= 6).all()


# ----------------------------------------------------------------------------- covert support


def _levels(crisis) -> tuple[int, int]:
    """The rungs of the covert acts the scenario below imposes on Russia and China."""
    return (
        crisis.actors["russia"].actions["intelligence_sharing"].level,
        crisis.actors["china"].actions["technical_aid"].level,
    )


def _covert_scenario(write_yaml, probability: float):
    text = (
        "extends: {baseline}\nname: covert\n"
        "injects:\n"
        "  - turn: 1\n    actor: russia\n    action: covert_intelligence_sharing\n"
        "  - turn: 1\n    actor: china\n    action: covert_technical_aid\n"
        "actors:\n"
        f"  russia:\n    covert: {{discovery_probability: {probability}}}\n"
        f"  china:\n    covert: {{discovery_probability: {probability}}}\n"
    )
    return load_scenario(write_yaml(text, f"covert_{probability}.yaml"))


def test_covert_support_is_hidden_until_discovered(write_yaml):
    model = CrisisModel(_covert_scenario(write_yaml, 0.0), 40, rng=4)
    model.step()
    world = model.world
    russia, china = _levels(model.crisis)
    assert world.support_covert["russia"].all() and world.support_covert["china"].all()
    np.testing.assert_array_equal(world.support["russia"], russia)
    np.testing.assert_array_equal(world.support["china"], china)
    # Iran receives the help, the world does not see it.
    np.testing.assert_array_equal(world.received_support("russia"), russia)
    np.testing.assert_array_equal(world.public_support("russia"), 0)
    model.run()
    assert not any(r.discovered[p].any() for r in model.reports for p in ("russia", "china"))
    outcomes = model.outcome_frame()
    assert (outcomes.russia_covert_turns >= 1).all() and (outcomes.china_covert_turns >= 1).all()


def test_covert_support_can_be_discovered_with_consequences(write_yaml):
    hidden = CrisisModel(_covert_scenario(write_yaml, 0.0), 40, rng=4)
    exposed = CrisisModel(_covert_scenario(write_yaml, 1.0), 40, rng=4)
    hidden.step()
    exposed.step()
    report = exposed.reports[-1]
    assert report.discovered["russia"].all() and report.discovered["china"].all()
    assert exposed.world.support_exposed["russia"].all()
    russia, china = _levels(exposed.crisis)
    np.testing.assert_array_equal(exposed.world.public_support("russia"), russia)
    np.testing.assert_array_equal(exposed.world.public_support("china"), china)
    # Exposed Chinese help invites secondary sanctions on Chinese buyers; nothing else differed
    # before discovery, so the difference is exactly that penalty.
    penalty = exposed.crisis.dynamics.support.discovered_sanctions
    key = "secondary_sanctions_on_china"
    np.testing.assert_allclose(
        exposed.world.context[key], np.minimum(1.0, hidden.world.context[key] + penalty)
    )


def test_covert_discovery_happens_at_the_configured_rate(write_yaml, scenario):
    probability = scenario("baseline").actors["russia"].covert.discovery_probability
    model = CrisisModel(_covert_scenario(write_yaml, probability), 4000, rng=5)
    model.step()
    found = int(model.reports[-1].discovered["russia"].sum())
    assert stats.binomtest(found, 4000, probability).pvalue > 1e-3


# ----------------------------------------------------------------------------- ending


def test_certain_collapse_ends_every_replication_on_turn_one(scenario):
    crisis = scenario(
        "baseline", "dynamics.iran.collapse_threshold=0.99", "dynamics.regime.collapse_days=0"
    )
    model = CrisisModel(crisis, 200, rng=6)
    model.step()
    assert not model.world.active.any()
    assert not model.running
    outcomes = model.outcome_frame()
    assert (outcomes.end_state == "regime_collapse").all()
    assert (outcomes.end_turn == 1).all()


def test_without_other_exits_every_run_reaches_the_horizon(scenario):
    crisis = scenario(
        "baseline",
        "horizon=3",
        "dynamics.iran.collapse_threshold=0",
        "dynamics.escalation.ceasefire_base=0",
        "dynamics.escalation.ceasefire_per_signal=0",
        "dynamics.talks.closing_probability=0",
    )
    model = CrisisModel(crisis, 200, rng=6).run()
    assert model.world.turn == 3
    outcomes = model.outcome_frame()
    assert (outcomes.end_state == "horizon").all()
    assert (outcomes.end_turn == 3).all()


def test_end_conditions_on_a_crafted_world(scenario):
    crisis = scenario(
        "baseline",
        "dynamics.escalation.ceasefire_base=1.0",
        *DEAL_ON_THE_TABLE,
        "dynamics.talks.closing_probability=1.0",
        "dynamics.regime.collapse_days=0",
        "horizon=5",
    )
    model = CrisisModel(crisis, 6, rng=7)
    world = model.world
    war = crisis.ladders.war_threshold
    threshold = crisis.dynamics.iran.collapse_threshold
    settle = crisis.dynamics.talks.progress_full
    world.turn = 2
    # 0 collapse (even at war), 1 quiet war: ceasefire, 2 war still escalating: goes on,
    # 3 talks done below war: settlement, 4 talks done at war: ceasefire, 5 nothing: goes on.
    world.escalation = np.array([war, war, war + 1, war - 1, war, 1])
    world.escalated = np.array([False, False, True, False, False, False])
    world.iran_stability = np.array([threshold / 2, 0.6, 0.6, 0.6, 0.6, 0.6])
    world.negotiation_progress = np.array([0.0, 0.0, 0.0, settle, settle, 0.0])
    ended = _end_conditions(world, crisis, model.streams)
    np.testing.assert_array_equal(ended, [True, True, False, True, True, False])
    np.testing.assert_array_equal(
        world.end_state,
        [
            EndState.REGIME_COLLAPSE,
            EndState.CEASEFIRE,
            EndState.ONGOING,
            EndState.SETTLEMENT,
            EndState.CEASEFIRE,
            EndState.ONGOING,
        ],
    )
    np.testing.assert_array_equal(world.end_turn[ended], 2)
    np.testing.assert_array_equal(world.active, ~ended)
    # At the horizon whatever is still going ends there.
    world.turn = crisis.horizon
    ended = _end_conditions(world, crisis, model.streams)
    np.testing.assert_array_equal(ended, [False, False, True, False, False, True])
    assert (world.end_state[ended] == EndState.HORIZON).all()
    assert not world.active.any()


def _talks(scenario, progress: float, *overrides: str, size: int = 4000):
    """Settlements among `size` crises short of war whose talks stand at `progress`."""
    crisis = scenario("baseline", *overrides)
    model = CrisisModel(crisis, size, rng=8)
    world = model.world
    world.turn = 2
    world.escalation = np.full(size, 1)
    world.negotiation_progress = np.full(size, progress)
    ended = _end_conditions(world, crisis, model.streams)
    return int((world.end_state[ended] == EndState.SETTLEMENT).sum()), crisis.dynamics.talks


def test_talks_under_way_on_terms_that_meet_close_a_deal_at_the_closing_rate(scenario):
    """A settlement is a chance per period once talks are under way, not a certainty."""
    for rate in (0.3, 1.0):
        full = scenario("baseline").dynamics.talks.progress_full
        settled, _ = _talks(
            scenario, full, *DEAL_ON_THE_TABLE, f"dynamics.talks.closing_probability={rate}"
        )
        if rate == 1.0:
            assert settled == 4000
        else:
            assert stats.binomtest(settled, 4000, rate).pvalue > 1e-3


def test_no_deal_without_talks_by_both_or_terms_that_meet(scenario):
    closing = "dynamics.talks.closing_probability=1.0"
    rules = scenario("baseline").dynamics.talks
    # one side talking alone levels off below the start of real talks
    settled, _ = _talks(scenario, rules.progress_start, *DEAL_ON_THE_TABLE, closing)
    assert settled == 0
    # Washington asks for more than Tehran will give
    settled, _ = _talks(
        scenario, rules.progress_full, *DEAL_ON_THE_TABLE, closing, "context.us_demands=1"
    )
    assert settled == 0
    # halfway between the start and full progress, about half the chance
    half = (rules.progress_start + rules.progress_full) / 2
    settled, _ = _talks(
        scenario, half, *DEAL_ON_THE_TABLE, "dynamics.talks.closing_probability=0.6"
    )
    assert stats.binomtest(settled, 4000, 0.3).pvalue > 1e-3


def test_a_strike_on_iran_breaks_off_the_talks(scenario):
    model = CrisisModel(scenario("baseline"), 4, rng=9)
    world = model.world
    world.negotiation_progress = np.full(4, 5.0)
    world.events["strike_on_iran"] = np.array([0.0, 1.0, 0.0, 1.0])
    break_off_talks(world, model.crisis)
    np.testing.assert_array_equal(world.negotiation_progress, [5.0, 0.0, 5.0, 0.0])
    # Counter-check: with no setback a strike leaves the talks where they were.
    world.negotiation_progress = np.full(4, 5.0)
    break_off_talks(world, scenario("baseline", "dynamics.talks.strike_setback=0"))
    np.testing.assert_array_equal(world.negotiation_progress, np.full(4, 5.0))


def test_how_runs_end_matches_the_state_they_end_in(scenario):
    """Ceasefires end wars, settlements end crises short of war; nothing stays open."""
    crisis = scenario("baseline")
    model = CrisisModel(crisis, 1000, rng=13).run()
    frame = model.outcome_frame()
    assert not model.world.active.any()
    assert set(frame.end_state) <= {"settlement", "ceasefire", "regime_collapse", "horizon"}
    assert frame.end_turn.between(1, crisis.horizon).all()
    at_end = model.world
    war = at_end.escalation >= crisis.ladders.war_threshold
    ceasefire = (frame.end_state == "ceasefire").to_numpy()
    settlement = (frame.end_state == "settlement").to_numpy()
    collapse = (frame.end_state == "regime_collapse").to_numpy()
    horizon = (frame.end_state == "horizon").to_numpy()
    assert war[ceasefire].all()
    assert not war[settlement].any()
    assert (at_end.iran_stability[collapse] < crisis.dynamics.iran.collapse_threshold).all()
    assert (frame.end_turn[horizon] == crisis.horizon).all()
