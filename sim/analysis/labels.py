"""Words for what the model computes: outcome questions, axis labels, rungs and actors.

Everything here is read from the validated scenario (`sim.scenario.config.Scenario`): the
ladders, the war threshold, the length of a turn, the actors' labels and action menus. The
texts of the outcome fields are written once, in `OUTCOME_TEXT`; a field without an entry
(one the engine gains later) still gets readable words from its name and the actors' labels,
so new outcomes appear everywhere without code copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.config import Scenario

_ACRONYMS = {"us": "US", "uk": "UK", "un": "UN", "brics": "BRICS", "sco": "SCO", "uae": "UAE"}

#: the context a scenario sets, in words (the inputs that sweeps vary most often)
CONTEXT_TEXT = {
    "russia_ukraine_commitment": "Russia's Ukraine commitment",
    "china_taiwan_tension": "China's Taiwan tension",
    "sanctions_intensity": "sanctions intensity",
    "secondary_sanctions_on_china": "US secondary sanctions on China",
    "us_regime_change_intent": "US regime-change intent",
    "gulf_china_trade": "Gulf-China trade",
    "israel_domestic_hawkishness": "Israel's domestic hawkishness",
}


def readable(name: str) -> str:
    """`direct_intervention` -> `direct intervention`; `alignment_against_us` -> `... US`."""
    return " ".join(_ACRONYMS.get(word, word) for word in str(name).split("_"))


def rung_label(ladder: Sequence[str], level: int) -> str:
    """`4 intelligence sharing`: the rung's number and its name."""
    name = ladder[level] if 0 <= level < len(ladder) else f"rung {level}"
    return f"{level} {readable(name)}"


#: outcome field -> (the question it answers, its axis label with units, a short name for
#: tables); {days} is the length of a turn, {top} the top rung of the ladder it counts on
OUTCOME_TEXT: dict[str, tuple[str, str, str]] = {
    "war": ("Does the crisis turn into a US-Iran war?", "war broke out", "US-Iran war"),
    "max_escalation": (
        "How far up the escalation ladder does the crisis climb?",
        "highest rung reached on the escalation ladder (0-{top})",
        "highest escalation rung",
    ),
    "turns_at_war": (
        "How long does the fighting last?",
        "turns at war (1 turn = {days} days)",
        "turns at war",
    ),
    "end_state": ("How does the crisis end?", "end state", "how the crisis ends"),
    "end_day": ("How many days does the crisis last?", "day the crisis ended", "days it lasts"),
    "regime_collapsed": (
        "Does the Iranian regime collapse?",
        "regime collapsed",
        "regime collapse",
    ),
    "leader_killed": (
        "Is Iran's Supreme Leader killed?",
        "Supreme Leader killed",
        "Supreme Leader killed",
    ),
    "hormuz_ever_closed": (
        "Is the Strait of Hormuz ever closed?",
        "Strait closed at least once",
        "Strait of Hormuz closed",
    ),
    "hormuz_closed_turns": (
        "How long is the Strait of Hormuz closed?",
        "turns with the Strait closed (1 turn = {days} days)",
        "turns with Hormuz closed",
    ),
    "peak_oil_price": (
        "How high does the oil price spike?",
        "peak Brent oil price ($/bbl)",
        "peak oil price ($/bbl)",
    ),
    "china_imports_start_kbd": (
        "How much Iranian crude does China buy at the outset?",
        "China's imports of Iranian crude at the start (thousand b/d)",
        "China's Iranian crude imports at the start (kb/d)",
    ),
    "china_imports_end_kbd": (
        "How much Iranian crude does China still buy at the end?",
        "China's imports of Iranian crude at the end (thousand b/d)",
        "China's Iranian crude imports at the end (kb/d)",
    ),
    "iran_exports_end_kbd": (
        "How much oil does Iran still export at the end?",
        "Iran's crude exports at the end (thousand b/d)",
        "Iran's crude exports at the end (kb/d)",
    ),
    "iran_requested_help": (
        "Does Iran ask Russia and China for help?",
        "Iran asked for help",
        "Iran asks Russia or China for help",
    ),
    "iran_min_stability": (
        "How close does the Iranian regime come to collapse?",
        "Iran's lowest regime stability (index, 0 = collapse, 1 = secure)",
        "Iran's lowest regime stability",
    ),
    "gulf_struck": (
        "Does Iran strike a Gulf state that hosts US forces?",
        "Iran struck a Gulf host",
        "Iran strikes a Gulf host",
    ),
    "us_basing_denied_turns": (
        "How long do Gulf hosts deny the US their bases?",
        "turns with a Gulf host denying its bases (1 turn = {days} days)",
        "turns of denied US basing",
    ),
    "iran_reliance_gap": (
        "Can Iran rely on its partners? Support expected minus support received",
        "reliance gap (support levels expected minus received, mean over turns)",
        "reliance gap (rungs expected minus received)",
    ),
}

#: per-actor outcome suffix -> (question, axis label, short name); {who} is the actor's label
ACTOR_OUTCOME_TEXT: dict[str, tuple[str, str, str]] = {
    "max_support": (
        "How far does {who} go to support Iran?",
        "{who}'s highest support level (0-{top} ladder)",
        "{who}'s highest support level",
    ),
    "intervened": (
        "Does {who} intervene militarily?",
        "{who} intervened",
        "{who} intervenes militarily",
    ),
    "covert_turns": (
        "How long does {who} help Iran covertly?",
        "turns of covert support by {who} (1 turn = {days} days)",
        "turns of covert support by {who}",
    ),
    "max_action": (
        "How far does {who} go?",
        "{who}'s highest move",
        "{who}'s highest move",
    ),
    "strike_turns": (
        "How long does {who} strike Iran?",
        "turns with strikes by {who} on Iran (1 turn = {days} days)",
        "turns of strikes by {who}",
    ),
    "stance": (
        "What does {who} do at the end of the crisis?",
        "{who}'s last move",
        "{who}'s last move",
    ),
}


@dataclass(frozen=True)
class Labels:
    """The words of one run, read from its validated scenario."""

    name: str
    escalation_ladder: list[str]
    support_ladder: list[str]
    war_threshold: int
    turn_days: float
    collapse_threshold: float | None = None
    actor_labels: dict[str, str] = field(default_factory=dict)
    gulf_moves: dict[str, list[str]] = field(default_factory=dict)
    action_levels: dict[str, dict[str, int]] = field(default_factory=dict)
    action_order: dict[str, list[str]] = field(default_factory=dict)
    #: scenario name -> its description (for scenario lists)
    descriptions: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_scenario(
        cls, scenario: Scenario, name: str | None = None, others: Mapping[str, Scenario] = {}
    ) -> Labels:
        """Labels of `scenario`; `others` adds the descriptions of a scenario list's members."""
        return cls._build(
            name or scenario.name,
            scenario.ladders,
            scenario.actors,
            scenario.turn_days,
            scenario.dynamics.iran.collapse_threshold,
            scenario.description,
            {label: s.description for label, s in others.items()},
        )

    @classmethod
    def from_tree(cls, tree: Mapping, name: str, descriptions: Mapping[str, str] = {}) -> Labels:
        """Labels from a resolved scenario tree, validating only the parts words come from
        (ladders, actors): a results folder written by an older version still reads."""
        from sim.scenario.config import ActorConfig, Ladders

        iran = ((tree.get("dynamics") or {}).get("iran")) or {}
        collapse = iran.get("collapse_threshold")
        return cls._build(
            name,
            Ladders.model_validate(tree.get("ladders")),
            {a: ActorConfig.model_validate(c) for a, c in (tree.get("actors") or {}).items()},
            float(tree.get("turn_days", 1.0)),
            None if collapse is None else float(collapse),
            str(tree.get("description") or ""),
            descriptions,
        )

    @classmethod
    def _build(
        cls, name, ladders, actors, turn_days, collapse, description, descriptions
    ) -> Labels:
        levels = {
            a: {act: spec.level for act, spec in c.actions.items() if spec.level is not None}
            for a, c in actors.items()
        }
        return cls(
            name=name,
            escalation_ladder=list(ladders.escalation),
            support_ladder=list(ladders.support),
            war_threshold=ladders.war_threshold,
            turn_days=turn_days,
            collapse_threshold=collapse,
            actor_labels={a: c.label for a, c in actors.items()},
            gulf_moves={a: list(c.actions) for a, c in actors.items() if c.kind == "gulf_state"},
            action_levels=levels,
            action_order={a: list(c.actions) for a, c in actors.items()},
            descriptions={k: " ".join(v.split()) for k, v in descriptions.items()},
            description=" ".join(description.split()),
        )

    def label(self, actor: str) -> str:
        """The actor's name as the scenario writes it (`Russia`, `Saudi Arabia`)."""
        return self.actor_labels.get(actor, readable(actor).title())

    def _actor_field(self, name: str) -> tuple[str, str] | None:
        """(actor, suffix) for a per-actor field: `russia_max_support`, `gulf_uae_stance`."""
        if name.startswith("gulf_") and name.endswith("_stance"):
            return name.removeprefix("gulf_").removesuffix("_stance"), "stance"
        for actor in sorted(self.actor_labels, key=len, reverse=True):
            if name.startswith(actor + "_"):
                return actor, name[len(actor) + 1 :]
        return None

    def _text(self, name: str) -> tuple[str, str, str]:
        days = f"{self.turn_days:g}"
        if name in OUTCOME_TEXT:
            top = len(self.escalation_ladder) - 1
            return tuple(t.format(days=days, top=top) for t in OUTCOME_TEXT[name])  # type: ignore[return-value]
        split = self._actor_field(name)
        if split is not None:
            actor, suffix = split
            who = self.label(actor)
            if suffix in ACTOR_OUTCOME_TEXT:
                top = len(self.support_ladder) - 1
                texts = ACTOR_OUTCOME_TEXT[suffix]
                return tuple(t.format(who=who, days=days, top=top) for t in texts)  # type: ignore[return-value]
            words = f"{who}: {readable(suffix)}"
            return f"How is {words} distributed?", words, words
        words = readable(name)
        return f"How is {words} distributed?", words, words

    def question(self, name: str) -> str:
        """The question a figure of outcome `name` answers."""
        return self._text(name)[0]

    def axis(self, name: str) -> str:
        """The axis label of outcome `name`, with its units."""
        return self._text(name)[1]

    def outcome(self, name: str) -> str:
        """A short name for outcome `name` in tables and sentences (words, not field names)."""
        return self._text(name)[2]

    def parameter(self, path: str) -> str:
        """A swept parameter in words: `context.russia_ukraine_commitment` -> `Russia's Ukraine
        commitment`, `actors.russia.weights.gulf_ties` -> `Russia's weight on gulf ties`."""
        parts = path.split(".")
        leaf = parts[-1]
        if parts[0] == "actors" and len(parts) >= 3:
            who = self.label(parts[1])
            if len(parts) == 4 and parts[2] == "weights":
                return f"{who}'s weight on {readable(leaf)}"
            return f"{who}'s {readable(leaf)}"
        return CONTEXT_TEXT.get(leaf, readable(leaf))

    def category(self, value: str) -> str:
        """A category of a categorical outcome in words."""
        return readable(value) if value else "(no move)"
