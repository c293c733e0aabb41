"""The model's rules in a scenario file: the ladders and the dynamics (`dynamics:`).

Kept apart from the rest of the scenario schema (`sim.scenario.config`) so that each stays a
module of one job: these are the numbers of the world's mechanisms, every one of them set in
`configs/model/world.yaml` with its source.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    # NaN fails no comparison, so a range check would let it through: refuse it (and the
    # infinities) wherever a finite number is meant.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------- model rules


class Ladders(Strict):
    escalation: list[str] = Field(min_length=2)
    war_threshold: int = Field(ge=1)
    support: list[str] = Field(min_length=8, max_length=8)

    @model_validator(mode="after")
    def _threshold_on_ladder(self) -> Ladders:
        if self.war_threshold >= len(self.escalation):
            raise ValueError(f"war_threshold must be below the top rung {len(self.escalation) - 1}")
        return self


class OilDynamics(Strict):
    base_price: float = Field(gt=0)
    escalation_premium: float = Field(ge=0)
    harassment_premium: float = Field(ge=0)
    adjustment_rate: Probability
    volatility: float = Field(ge=0)
    floor_price: float = Field(gt=0)
    normal_discount: float = Field(ge=0)
    discount_recovery: Probability


class IranDynamics(Strict):
    war_stability_cost: float = Field(ge=0)
    sanctions_stability_cost: float = Field(ge=0)
    revenue_stability_gain: float = Field(ge=0)
    regime_pressure_cost: float = Field(ge=0)
    recovery_rate: Probability
    collapse_threshold: Probability
    belief_learning_rate: Probability
    normal_exports_kbd: float = Field(gt=0)
    closure_export_factor: Probability
    military_recovery_rate: Probability
    #: oil revenue above this multiple of normal adds no more stability
    revenue_cap: float = Field(gt=0)


class EscalationDynamics(Strict):
    decay_probability: Probability
    ceasefire_base: Probability
    ceasefire_per_signal: Probability
    negotiation_decay: Probability
    regime_pressure_decay: Probability
    posture_decay: Probability
    nuclear_signal_decay: Probability


class SupportDynamics(Strict):
    max_step_up: int = Field(ge=1, le=7)
    #: how much a private plea for help puts a partner's credibility on the line, against 1
    #: for a public one
    private_request_weight: Probability
    discovered_sanctions: float = Field(ge=0)
    #: how much of Washington's declared regime-change intent Moscow and Beijing read as the
    #: prospect of regime change (0: only the damage done counts)
    declared_intent_weight: float = Field(ge=0)
    #: share of the arms contracted for Iran and not yet delivered that arrive per reference
    #: period (`arms_deliveries` effects)
    delivery_rate: Probability


class ImportDynamics(Strict):
    min_kbd: float = Field(ge=0)
    max_kbd: float = Field(gt=0)


class TimeRules(Strict):
    """How turn length scales every per-turn rate (see `sim/engine/timescale.py`)."""

    #: the turn length, in days, for which the per-turn rates in these files are written
    reference_days: float = Field(gt=0)
    #: how often an actor reconsiders its move; with shorter turns it keeps its last move
    decision_interval_days: float = Field(gt=0)


class HormuzDynamics(Strict):
    """A closure of the Strait and what it does to the oil market (rates per reference period)."""

    #: chance per reference period that US and partner navies reopen the Strait, at full
    #: US force posture against an intact Iranian navy
    reopen_probability: Probability
    #: how much a degraded Iranian military speeds the reopening (x (1 - capacity))
    reopen_capacity_weight: float = Field(ge=0)
    #: chance per reference period that harassment not renewed dies down
    harassment_ease_probability: Probability
    #: the escalation rung a closed Strait keeps the crisis at (at least)
    closed_escalation_floor: int = Field(ge=0)
    flow_mbd: float = Field(gt=0)
    bypass_mbd: float = Field(ge=0)
    stock_release_mbd: float = Field(ge=0)
    spare_outside_mbd: float = Field(ge=0)
    world_supply_mbd: float = Field(gt=0)
    #: short-run price elasticity of oil supply and demand together (positive)
    price_elasticity: float = Field(gt=0)
    #: the share of the Strait's flow a closure actually stops, drawn uniformly per closure
    severity_low: Probability
    severity_high: Probability
    #: the price at which demand destruction caps the rise
    max_price: float = Field(gt=0)


class RegimeDynamics(Strict):
    """Regime resilience: rallying under attack, leadership losses, succession, collapse."""

    #: days stability must stay below the collapse threshold before the regime falls
    collapse_days: float = Field(ge=0)
    #: how much of the distance to full rally a turn of foreign strikes adds
    rally_gain: Probability
    #: share of the rally lost per reference period
    rally_decay: Probability
    #: stability regained per reference period at full rally, in share of what was lost
    rally_strength: float = Field(ge=0)
    #: chance per leadership strike that the Supreme Leader is killed
    leader_kill_probability: Probability
    #: stability lost at once when the leader is killed
    succession_shock: Probability
    #: share of succession turmoil that settles per reference period
    succession_decay: Probability


class SanctionsDynamics(Strict):
    """Sanctions that move both ways: enforcement fatigue, evasion, other buyers."""

    #: share of enforcement above the floor lost per reference period without fresh US effort
    enforcement_decay: Probability
    #: the enforcement level, as a share of the initial one, that fatigue cannot go below
    enforcement_floor: Probability
    initial_evasion: Probability
    #: evasion capacity (shadow fleet, ship-to-ship transfers, floating storage) learnt per
    #: reference period under full sanctions
    evasion_learning: Probability
    evasion_max: Probability
    #: evasion capacity a fresh round of designations takes away
    designation_setback: Probability
    #: what buyers other than China would take with no sanctions at all
    other_buyers_potential_kbd: float = Field(ge=0)
    #: exponent of the response of other buyers to the sanctions' bite
    other_buyers_elasticity: float = Field(ge=0)
    #: extra demand from other buyers per unit of discount beyond the normal one, relative
    discount_pull: float = Field(ge=0)
    #: share of the gap to their target other buyers' purchases close per reference period
    other_buyers_adjustment: Probability


class IsraelDynamics(Strict):
    #: domestic demand to answer an Iranian attack on Israel, added to the standing hawkishness
    retaliation_demand: Probability
    #: share of the gap to a full programme Iran rebuilds per reference period after sabotage
    #: and strikes
    nuclear_rebuild_rate: Probability
    #: share of Israel's exposure to retaliation that no longer weighs against striking once
    #: Iran is already firing at Israel
    drawn_fire_discount: Probability
    #: share of the memory of a strike or a salvo in the Israel-Iran exchange (and of US
    #: restraint or backing) kept per reference period
    event_memory: Probability


class BasingDynamics(Strict):
    """US use of Gulf bases and airspace, as the hosts' stances allow (`sim/engine/basing.py`)."""

    #: access with every host neutral (other bases: Kuwait, Bahrain, carriers, Diego Garcia)
    base_access: Probability
    #: access each host adds by opening its bases (and takes away by denying them)
    hosts: dict[str, Probability]
    #: the Gulf move that opens a host's bases to US offensive operations, and the one that
    #: denies them
    open_action: str
    deny_action: str
    #: share of the memory of an Iranian strike a Gulf state keeps per reference period
    strike_memory: Probability


class TalksDynamics(Strict):
    """How a crisis short of war ends in a deal (`sim/engine/talks.py`)."""

    #: talks' progress below which no deal is in reach (one side talking alone stays below)
    progress_start: float = Field(ge=0)
    #: progress at which talks are as far along as they get
    progress_full: float = Field(gt=0)
    #: what Tehran would concede with no pressure at all (0-1, the scale of `us_demands`)
    offer_base: Probability
    #: concessions added at full sanctions bite (enforcement net of evasion)
    offer_per_bite: float = Field(ge=0)
    #: concessions added at full US force posture (coercion)
    offer_per_posture: float = Field(ge=0)
    #: concessions withdrawn at full US regime-change intent
    offer_per_intent: float = Field(ge=0)
    #: terms added to Washington's demands at full regime-change intent
    demand_per_intent: float = Field(ge=0)
    #: how sharply a gap between offer and demands blocks a deal (scale of a logistic)
    terms_softness: float = Field(gt=0)
    #: chance per reference period that talks at full progress on terms that meet close a
    #: deal both capitals ratify
    closing_probability: Probability
    #: share of the talks' progress a strike on Iran wipes out
    strike_setback: Probability

    @model_validator(mode="after")
    def _ordered(self) -> TalksDynamics:
        if self.progress_full <= self.progress_start:
            raise ValueError("progress_full must be above progress_start")
        return self


class Dynamics(Strict):
    oil: OilDynamics
    iran: IranDynamics
    escalation: EscalationDynamics
    support: SupportDynamics
    china_imports: ImportDynamics
    time: TimeRules
    hormuz: HormuzDynamics
    regime: RegimeDynamics
    sanctions: SanctionsDynamics
    israel: IsraelDynamics
    basing: BasingDynamics
    talks: TalksDynamics
