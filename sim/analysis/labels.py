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

#: words that keep their capitals inside a name made of ids (`outreach_to_tehran` -> `outreach
#: to Tehran`): acronyms, and the places, peoples and bodies the model's ids mention
# fmt: off
PROPER_WORDS = {word.lower(): word for word in (
    "US", "UK", "UN", "EU", "UAE", "BRICS", "SCO", "IAEA", "OPEC", "NATO", "Brent",
    "Iran", "Iranian", "Tehran", "Israel", "Israeli", "Russia", "Russian", "Moscow",
    "China", "Chinese", "Beijing", "Taiwan", "Ukraine", "Gulf", "Hormuz", "Saudi", "Arabia",
    "Qatar", "Qatari", "Emirati", "Washington", "American", "Fordow", "Natanz", "Isfahan",
    "Kharg", "Houthi", "Houthis", "Hezbollah",
)}
# fmt: on
#: runs of words read as one name (`brics_sco_credibility` -> `BRICS/SCO credibility`)
_PHRASES = {("BRICS", "SCO"): "BRICS/SCO"}
#: first words of a country's name that take the article in a sentence (`the United States`)
_TAKES_ARTICLE = {"United", "Islamic", "Republic", "Kingdom", "Netherlands", "Philippines"}

#: the context a scenario sets, in words (the inputs that sweeps vary most often)
CONTEXT_TEXT = {
    "russia_ukraine_commitment": "Russia's Ukraine commitment",
    "china_taiwan_tension": "China's Taiwan tension",
    "sanctions_intensity": "sanctions intensity",
    "secondary_sanctions_on_china": "US secondary sanctions on China",
    "us_regime_change_intent": "US regime-change intent",
    "gulf_china_trade": "Gulf-China trade",
    "israel_domestic_hawkishness": "Israel's domestic hawkishness",
    "us_demands": "US demands in talks",
}


def readable(name: str) -> str:
    """An id in words, proper nouns kept: `direct_intervention` -> `direct intervention`,
    `alignment_against_us` -> `alignment against US`, `outreach_to_tehran` -> `outreach to
    Tehran`, `brics_sco_credibility` -> `BRICS/SCO credibility`."""
    words = [PROPER_WORDS.get(word.lower(), word) for word in str(name).split("_") if word]
    for phrase, joined in _PHRASES.items():
        for i in range(len(words) - len(phrase), -1, -1):
            if tuple(words[i : i + len(phrase)]) == phrase:
                words[i : i + len(phrase)] = [joined]
    return " ".join(words)


def in_sentence(name: str) -> str:
    """A country's name as a sentence uses it: `the United States`, `Russia`."""
    first = name.split(" ", 1)[0]
    return f"the {name}" if first in _TAKES_ARTICLE else name


def possessive(name: str) -> str:
    """`Russia's`, `the United Arab Emirates'` (a name ending in s takes the apostrophe only)."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def sentence(text: str) -> str:
    """Text with its first letter capitalised, for a heading or the start of a sentence."""
    return text[:1].upper() + text[1:] if text else text


def rung_label(ladder: Sequence[str], level: int) -> str:
    """`4 intelligence sharing`: the rung's number and its name."""
    name = ladder[level] if 0 <= level < len(ladder) else f"rung {level}"
    return f"{level} {readable(name)}"


#: how a crisis ended (the end-state categories), where the name alone does not say it
END_STATE_TEXT = {
    "horizon": "unresolved at the horizon",
    "ongoing": "still under way",
}

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

#: trajectory variable -> (the question its figure over time answers, its axis label); {top} is
#: the top rung of the escalation ladder, {support} that of the support ladder
TRAJECTORY_TEXT: dict[str, tuple[str, str]] = {
    "escalation": ("How does escalation unfold over time?", "escalation ladder rung (0-{top})"),
    "oil_price": ("How does the oil price move over time?", "Brent oil price ($/bbl)"),
    "hormuz": (
        "Is the Strait of Hormuz open over time?",
        "Strait of Hormuz (0 open, 1 harassed, 2 closed)",
    ),
    "iran_stability": (
        "How does the Iranian regime's stability evolve?",
        "Iran's regime stability (index 0-1)",
    ),
    "iran_military_capacity": (
        "How much military capacity does Iran keep?",
        "Iran's military capacity (index 0-1)",
    ),
    "us_force_posture": (
        "How large is the US force posture in the region?",
        "US force posture (index 0-1)",
    ),
    "china_imports_kbd": (
        "How much Iranian crude does China keep buying?",
        "China's imports of Iranian crude (thousand b/d)",
    ),
    "regime_pressure": (
        "How much regime-change pressure does Iran face?",
        "regime-change pressure (index 0-1)",
    ),
    "sanctions_intensity": ("How tight are the sanctions?", "sanctions intensity (index 0-1)"),
}

#: per-actor outcome suffix -> (question, axis label, short name); {who} is the actor's name as
#: a sentence uses it (`the United States`), {whose} its possessive (`the United States'`)
ACTOR_OUTCOME_TEXT: dict[str, tuple[str, str, str]] = {
    "max_support": (
        "How far does {who} go to support Iran?",
        "{whose} highest support level (0-{top} ladder)",
        "{whose} highest support level",
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
        "{whose} highest move",
        "{whose} highest move",
    ),
    "strike_turns": (
        "How long does {who} strike Iran?",
        "turns with strikes by {who} on Iran (1 turn = {days} days)",
        "turns of strikes by {who}",
    ),
    "stance": (
        "What does {who} do at the end of the crisis?",
        "{whose} last move",
        "{whose} last move",
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
        return self.actor_labels.get(actor, sentence(readable(actor)))

    def who(self, actor: str) -> str:
        """The actor's name inside a sentence: `Russia`, `the United Arab Emirates`."""
        return in_sentence(self.label(actor))

    def whose(self, actor: str) -> str:
        """The actor's possessive: `Russia's`, `the United Arab Emirates'`."""
        return possessive(self.who(actor))

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
            who, whose = self.who(actor), self.whose(actor)
            if suffix in ACTOR_OUTCOME_TEXT:
                top = len(self.support_ladder) - 1
                texts = ACTOR_OUTCOME_TEXT[suffix]
                return tuple(t.format(who=who, whose=whose, days=days, top=top) for t in texts)  # type: ignore[return-value]
            words = f"{self.label(actor)}: {readable(suffix)}"
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
            whose = self.whose(parts[1])
            if len(parts) == 4 and parts[2] == "weights":
                return f"{whose} weight on {readable(leaf)}"
            return f"{whose} {readable(leaf)}"
        if parts[0] == "context" or leaf in CONTEXT_TEXT:
            return CONTEXT_TEXT.get(leaf, readable(leaf))
        if len(parts) >= 3:  # dynamics.iran.collapse_threshold -> Iran collapse threshold
            return f"{readable(parts[-2])} {readable(leaf)}"
        return readable(leaf)

    def trajectory(self, name: str) -> tuple[str, str]:
        """(question, axis label) of a variable over time: `oil_price`, `russia_support`."""
        top, support = len(self.escalation_ladder) - 1, len(self.support_ladder) - 1
        if name in TRAJECTORY_TEXT:
            return tuple(t.format(top=top, support=support) for t in TRAJECTORY_TEXT[name])  # type: ignore[return-value]
        actor, _, kind = name.rpartition("_")
        if actor in self.actor_labels and kind in ("support", "covert"):
            how = "support" if kind == "support" else "covert support"
            return (
                f"How far does {self.whose(actor)} {how} go, turn by turn?",
                f"{how} level (0-{support})",
            )
        words = readable(name)
        return f"How does {words} evolve?", words

    def category(self, value: str) -> str:
        """A category of a categorical outcome in words (a move, or how the crisis ended)."""
        if not value:
            return "(no move)"
        return END_STATE_TEXT.get(value, readable(value))

    def factor(self, name: str) -> str:
        """A decision factor in words: `brics_sco_credibility` -> `BRICS/SCO credibility`."""
        return readable(name)

    def action(self, name: str) -> str:
        """A move in words: `outreach_to_tehran` -> `outreach to Tehran`."""
        return readable(name)


#: the fields of a results folder's manifest.json in words (the report's run table)
RUN_RECORD_TEXT = {
    "name": "experiment",
    "config": "configuration file",
    "config_hash": "configuration hash",
    "package_version": "model version",
    "git_commit": "source revision",
    "master_seed": "master seed",
    "replications": "replications per point",
    "points": "sweep points",
    "design": "design",
    "parameters": "swept parameters",
    "scenarios": "scenarios",
    "chunk_size": "replications per chunk",
    "engine": "engine",
    "workers": "workers",
    "scheduler": "Dask scheduler",
    "python": "Python version",
    "status": "status",
    "started": "started (UTC)",
    "finished": "finished (UTC)",
    "elapsed_seconds": "time taken",
    "computed_runs": "replications computed",
    "runs_per_second": "replications per second",
    "error": "error",
    "failed_chunks": "failed chunks",
    "outputs": "output checksums (SHA-256)",
}


def run_record(key: str) -> str:
    """A manifest field in words: `chunk_size` -> `replications per chunk`."""
    return RUN_RECORD_TEXT.get(key, readable(key))
