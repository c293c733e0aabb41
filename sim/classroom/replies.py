"""How an actor the model plays answers a team's private message: a short reply by rule.

The reply reads the message for the action it asks for (the words of the request against the
names and descriptions of the actor's actions: "arms" finds `arms_transfers`, "intelligence"
finds `intelligence_sharing`), then weighs that action as the model would, with the actor's own
factor utilities. If the model would not choose it, the reply says no and gives the factors that
count most against it, in the actor's own terms (Moscow refusing arms names the war in Ukraine,
its Gulf ties and the risk of a clash with the United States); if it would, it says so and why.
The reply commits the model to nothing: the actor still decides when the turn is played.
"""

from __future__ import annotations

import re

from sim.classroom.advisor import Advice, advise
from sim.classroom.game import Game

#: words too common to tell one request from another
STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "our",
        "with",
        "that",
        "this",
        "from",
        "have",
        "will",
        "can",
        "could",
        "would",
        "please",
        "need",
        "help",
        "want",
        "give",
        "send",
        "some",
        "more",
        "any",
        "now",
        "are",
        "was",
        "were",
        "not",
        "but",
        "into",
        "about",
        "what",
        "when",
        "how",
        "who",
        "why",
        "all",
        "just",
        "like",
        "also",
        "them",
        "they",
        "their",
        "there",
        "here",
        "then",
        "than",
        "its",
        "it's",
        "we",
        "us",
    ]
)
#: how many factors a reply names
REASONS = 3


def _words(text: str) -> set[str]:
    """Lower-case words of three letters or more, a plural 's' dropped, common words left out."""
    words = set()
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        if word in STOP_WORDS:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return words


def requested(game: Game, actor_id: str, text: str) -> tuple[str, str] | None:
    """The (menu, action) of `actor_id` the message asks for, if its words name one."""
    actor = game.model.actors[actor_id]
    asked = _words(text)
    best, best_score = None, 0
    for name, menu in actor.menus.items():
        for index, action in enumerate(menu.actions):
            vocabulary = _words(game.labels.action(action) + " " + menu.descriptions[index])
            score = len(asked & vocabulary)
            if score > best_score:
                best, best_score = (name, action), score
    return best


def _sentence_case(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _reasons(game: Game, actor_id: str, factors: list[str]) -> str:
    arguments = type(game.model.actors[actor_id]).FACTORS
    return "; ".join(arguments[f] for f in factors[:REASONS])


def reply(game: Game, actor_id: str, sender: str, text: str) -> str:
    """The answer of `actor_id` (played by the model) to `sender`'s message."""
    actor = game.model.actors[actor_id]
    label = actor.label
    options = advise(actor, game.model.world)
    wanted = requested(game, actor_id, text)
    if wanted is None:
        menu, rows = next(iter(options.items()))
        best = rows[0]
        top = [f for f, c in best.top() if c > 0]
        return (
            f"{label} has read your message. For now we mean to "
            f"{_sentence_case(best.description)}."
            + (f" What weighs most with us: {_reasons(game, actor_id, top)}." if top else "")
        )
    menu, action = wanted
    best = options[menu][0]
    weighed = advise(actor, game.model.world, feasible_only=False)[menu]
    ask = next(row for row in weighed if row.action == action)
    description = _sentence_case(ask.description)
    possible = any(row.action == action for row in options[menu])
    if not possible:
        why = game.why_not(actor_id, menu, action)
        if ask.utility >= best.utility:
            return (
                f"{label}: not yet: we cannot {description} now ({why}). What we can do: "
                f"{_sentence_case(best.description)}."
            )
        return (
            f"{label}: no, we will not {description}. What counts against it: "
            f"{_against(game, actor_id, ask, best)}. Nor could we now ({why}). What we can do: "
            f"{_sentence_case(best.description)}."
        )
    if ask.action == best.action:
        top = [f for f, c in ask.top() if c > 0]
        reasons = f": {_reasons(game, actor_id, top)}" if top else ""
        return f"{label}: yes, we are ready to {description}. It serves our interests{reasons}."
    return (
        f"{label}: no, we will not {description} now. What counts against it: "
        f"{_against(game, actor_id, ask, best)}. What we can do: "
        f"{_sentence_case(best.description)}."
    )


def _against(game: Game, actor_id: str, ask: Advice, best: Advice) -> str:
    """The factors that make the asked action worse than the one the model prefers."""
    gaps = {f: ask.contributions[f] - best.contributions.get(f, 0.0) for f in ask.contributions}
    factors = [f for f, gap in sorted(gaps.items(), key=lambda kv: kv[1]) if gap < 0]
    return _reasons(game, actor_id, factors) or "it does not serve our interests now"
