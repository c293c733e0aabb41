"""The vocabulary of action effects a scenario may use, and what each one does.

Effects are the only way YAML actions touch the world, so this list is also what the
adjudication implements; a scenario naming anything else is refused at load time.
"""

from __future__ import annotations

EFFECTS: dict[str, str] = {
    "escalation": "move the US-Iran escalation ladder by this many rungs",
    "escalation_floor": "raise the escalation ladder to at least this rung",
    "us_force_posture": "change US force posture in the region (0-1)",
    "sanctions_intensity": "change the intensity of US sanctions on Iran (0-1)",
    "secondary_sanctions_on_china": "change US secondary sanctions on buyers of Iranian crude",
    "sanctions_relief": "help evading sanctions (payment channels, trade) that eases their bite",
    "oil_price": "immediate shock to the oil price, $/bbl",
    "oil_discount": "change the discount on Iranian crude, $/bbl",
    "gulf_output": "extra Gulf output that lowers the oil price (in units of the price effect)",
    "iran_stability": "change Iran's regime stability (0-1)",
    "iran_military_capacity": "change Iran's military capacity (0-1)",
    "hormuz": "set the Strait of Hormuz to at least 1 (harassed) or 2 (closed)",
    "china_imports": "relative change of China's purchases of Iranian crude",
    "regime_pressure": "change the pressure for regime change in Iran (0-1)",
    "negotiation": "progress towards a negotiated settlement",
    "mediation": "third-party mediation, which makes ceasefire and settlement likelier",
    "ceasefire_signal": "readiness for a ceasefire signalled this turn",
    "nuclear_signal": "signal that Iran is moving towards the nuclear threshold",
    "help_request_public": "Iran asks its partners for help in public",
    "help_request_private": "Iran asks its partners for help in private",
    "great_power_warning": "US warning to Russia and China against helping Iran",
    "iran_attack": "Iranian attack on US or Gulf assets",
    "strike_on_iran": "a US (or Israeli) strike on Iran",
    "hormuz_reopen": "Iran lifts its closure or harassment of the Strait of Hormuz",
    "leadership_strike": "a strike aimed at Iran's leadership (may kill the Supreme Leader)",
    "israel_strike": "an Israeli strike on Iran (Iran answers Israel rather than the US)",
    "attack_on_israel": "Iranian missile and drone attack on Israel",
    "us_restraint": "Washington presses Israel to hold back",
    "us_green_light": "Washington's own campaign against Iran, which backs Israeli action",
    "nuclear_programme": "change Iran's nuclear programme (0-1: how close to a weapon capability)",
    "gulf_strike": "Iranian strike on the Gulf states that host US forces and do not deny them",
    "arms_deliveries": "arms contracted for Iran, delivered to its military capacity over time",
}

# Effects that set a level rather than add to it.
LEVEL_EFFECTS = frozenset(
    {"escalation_floor", "hormuz", "nuclear_signal", "hormuz_reopen", "leadership_strike"}
)

EFFECT_INDEX = {name: i for i, name in enumerate(EFFECTS)}

# Effects that are a flow over the turn (a rate): a longer turn does proportionally more.
RATE_EFFECTS = frozenset(
    {
        "us_force_posture",
        "sanctions_intensity",
        "secondary_sanctions_on_china",
        "sanctions_relief",
        "oil_discount",
        "iran_stability",
        "iran_military_capacity",
        "nuclear_programme",
        "china_imports",
        "regime_pressure",
        "negotiation",
    }
)

# Effects that happen once when a move is made, not again while an actor keeps to it.
ONE_OFF_EFFECTS = frozenset({"escalation", "oil_price", "arms_deliveries"})
