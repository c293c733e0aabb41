"""The factors each kind of actor weighs: the article's arguments, by name and meaning.

A scenario gives every factor of an actor a weight and every action a loading on it, so this is
part of the language scenario files are written in, checked by `wargame check`. It is kept
apart from the actor classes (Mesa agents, which turn each factor into a state modulator) so
that checking a file needs neither Mesa nor the engine; each class takes its own list here.
"""

from __future__ import annotations

FACTORS: dict[str, dict[str, str]] = {
    "iran": {
        "regime_survival": "the regime's survival under pressure (fear of regime change)",
        "deterrence_credibility": "answering strikes to keep deterrence credible",
        "economic_need": "oil revenue and relative economic stability help the regime endure",
        "partner_support_belief": "what Tehran believes Moscow and Beijing will do for it",
        "escalation_risk": "the cost of a wider war with a superior US force",
        "partner_cost": "the harm a shipping war does to China and the Gulf, Iran's customers "
        "and neighbours",
        "answer_israel": "answering Israeli strikes on Israel itself, keeping the US out",
    },
    "united_states": {
        "nonproliferation": "priority on keeping Iran from the bomb",
        "cost_aversion": "aversion to casualties and the cost of a long war",
        "oil_price_sensitivity": "sensitivity to oil prices and Hormuz disruption",
        "ally_commitment": "commitments to Israel and the Gulf partners under Iranian fire",
        "great_power_risk": "risk of a clash with Russia or China",
        "regime_change_ambition": "appetite for regime change in Tehran",
        "casus_belli": "force needs a trigger (a nuclear move, an attack, a closed Strait): "
        "without one it costs at home and abroad",
        "basing_access": "use of Gulf bases and airspace for offensive operations",
    },
    "russia": {
        "ukraine_commitment": "military and political resources tied up in the war in Ukraine",
        "gulf_ties": "ties with Israel and Arab states that a war alongside Iran would risk",
        "brics_sco_credibility": "credibility of BRICS and the SCO, of which Iran is a member",
        "regime_change_fear": "fear that a new regime turns Iran into a platform against Russia",
        "alignment_against_us": "alignment of interests in the face of US pressure",
        "escalation_risk": "risk of direct confrontation with the United States",
        "oil_revenue": "gains from high oil prices while Iranian supply is disrupted",
    },
    "china": {
        "taiwan_focus": "strategic focus on competition with the US in East Asia and Taiwan",
        "gulf_ties": "economic partnership with Saudi Arabia, the UAE and Israel",
        "secondary_sanctions_fear": "fear of US secondary sanctions on Chinese firms and banks",
        "energy_security": "discounted Iranian crude and oil flowing through Hormuz",
        "brics_sco_credibility": "credibility of BRICS and the SCO, of which Iran is a member",
        "regime_change_fear": "fear of a pro-Western Iran closing a link to the Middle East",
        "alignment_against_us": "alignment of interests in the face of US pressure",
        "escalation_risk": "risk of direct confrontation with the United States",
    },
    "gulf_state": {
        "us_security_dependence": "dependence on US protection and basing agreements",
        "retaliation_fear": "fear of Iranian retaliation on oil sites and bases",
        "china_trade": "trade with China, the largest customer of Gulf oil",
        "iran_detente": "the détente with Iran (the 2023 Saudi-Iran deal brokered in Beijing)",
        "missile_exposure": "exposure of its cities and oil sites to Iranian missiles and drones",
    },
    "israel": {
        "iran_threat": "the threat of Iran's nuclear and missile programmes, and its attacks",
        "us_coordination": "Washington's backing for Israeli action, or its pressure to hold back",
        "retaliation_exposure": "exposure to Iranian missiles and drones and to proxy attacks",
        "international_pressure": "pressure to stop: a wider war, mediation, the UN",
        "domestic_politics": "a public and a coalition that demand action against Iran",
    },
}
