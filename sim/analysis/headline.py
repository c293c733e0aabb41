"""The verdict: a plain-language answer to "can Iran rely on Russia and China?", with intervals.

Computed from the outcome table alone: how often each great power went beyond words and
diplomacy (material support: the first rung above diplomatic backing), how often it intervened
militarily, the rung it most often stopped at, and the reliance gap (support Iran expected
minus support it received). For a sweep or a scenario list it also says what changes the
answer: the points with the most and the least material support, and the swept parameter
whose values move it most. Words come from `sim.analysis.labels`, numbers from
`sim.analysis.formatting`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.analysis import formatting as fmt
from sim.analysis import stats
from sim.analysis.labels import Labels, readable

GREAT_POWERS = ("russia", "china")
#: the first rung of the support ladder above words and diplomacy (material help begins here)
BEYOND_WORDS = 3


def _share(hits: pd.Series) -> dict[str, Any]:
    n = int(hits.notna().sum())
    k = int(hits.fillna(False).astype(bool).sum())
    lo, hi = stats.wilson_interval(k, n) if n else (None, None)
    return {"p": k / n if n else None, "ci": [lo, hi], "k": k, "n": n}


def _with_interval(share: dict[str, Any]) -> str:
    return f"{fmt.percent(share['p'])} (95 % interval {fmt.percent_interval(*share['ci'])})"


def power_block(outcomes: pd.DataFrame, power: str, labels: Labels) -> dict[str, Any] | None:
    """How far one great power went: material support, intervention, the usual highest rung."""
    column = f"{power}_max_support"
    if column not in outcomes.columns:
        return None
    levels = outcomes[column].dropna().astype(int)
    ladder = labels.support_ladder
    top = len(ladder) - 1
    counts = levels.value_counts(normalize=True)
    usual = int(counts.idxmax()) if len(counts) else 0
    return {
        "label": labels.label(power),
        "beyond_words": {
            **_share(levels >= BEYOND_WORDS),
            "from_rung": readable(ladder[BEYOND_WORDS]),
        },
        "intervened": {**_share(levels >= top), "rung": readable(ladder[top])},
        "usual_highest": {
            "rung": usual,
            "name": readable(ladder[usual]) if usual < len(ladder) else str(usual),
            "p": float(counts.max()) if len(counts) else None,
        },
    }


def _sentence(block: dict[str, Any]) -> str:
    who = block["label"]
    usual = block["usual_highest"]
    return (
        f"{who} went beyond diplomacy (to {block['beyond_words']['from_rung']} or more) in "
        f"{_with_interval(block['beyond_words'])} of the runs and intervened militarily in "
        f"{_with_interval(block['intervened'])}; its support most often stopped at "
        f"{usual['name']} ({fmt.percent(usual['p'])})."
    )


def _answer(blocks: dict[str, dict[str, Any]]) -> str:
    """The one-line answer, chosen by the numbers (point estimates; intervals follow)."""
    if not blocks:
        return "The run has no great-power support levels, so the question cannot be answered."
    fights = {p: b["intervened"]["p"] or 0.0 for p, b in blocks.items()}
    material = {p: b["beyond_words"]["p"] or 0.0 for p, b in blocks.items()}
    names = " or ".join(b["label"] for b in blocks.values())
    usually = " and ".join(blocks[p]["label"] for p, m in material.items() if m >= 0.5)
    if max(fights.values()) < 0.05:
        if not usually:
            return (
                f"No: Iran cannot count on {names} to fight for it, and material support is "
                "the exception rather than the rule."
            )
        return f"Only partly: {usually} usually sends material support, but does not fight."
    who = " and ".join(blocks[p]["label"] for p, f in fights.items() if f >= 0.05)
    return f"Partly: {who} intervenes militarily in a noticeable share of the runs."


def _moves(
    outcomes: pd.DataFrame, labels: Labels, parameters: list[str], point_names: dict[int, str]
) -> list[str]:
    """What changes the answer across the points of a sweep or a scenario list."""
    sentences = []
    for power in GREAT_POWERS:
        column = f"{power}_max_support"
        if column not in outcomes.columns:
            continue
        material = (outcomes[column] >= BEYOND_WORDS).groupby(outcomes["point"]).mean()
        if material.max() - material.min() < 1e-12:
            continue
        who = labels.label(power)
        low, high = int(material.idxmin()), int(material.idxmax())
        sentence = (
            f"{who} goes beyond diplomacy in {fmt.percent(material[low])} of the runs at "
            f"{point_names.get(low, low)} and {fmt.percent(material[high])} at "
            f"{point_names.get(high, high)}"
        )
        spans = {}
        for parameter in parameters:
            by_value = (outcomes[column] >= BEYOND_WORDS).groupby(outcomes[parameter]).mean()
            if len(by_value) > 1:
                spans[parameter] = float(by_value.max() - by_value.min())
        if spans:
            strongest = max(spans, key=spans.get)
            sentence += (
                f"; {labels.parameter(strongest)} moves it most (by "
                f"{fmt.points(spans[strongest])[1:]} across its values)"
            )
        sentences.append(sentence + ".")
    return sentences


def headline(
    outcomes: pd.DataFrame,
    labels: Labels,
    parameters: list[str] | None = None,
    point_names: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The verdict as data and words: {"text", "russia", "china", "sentences", "moves", ...}."""
    parameters = parameters or []
    blocks = {p: b for p in GREAT_POWERS if (b := power_block(outcomes, p, labels)) is not None}
    n = len(outcomes)
    points = outcomes["point"].nunique() if "point" in outcomes.columns else 1
    scope = f"Over {fmt.count(n)} runs" + (f" of {points} points, pooled" if points > 1 else "")
    sentences = [_sentence(b) for b in blocks.values()]
    result: dict[str, Any] = {**blocks, "n": n}
    if "iran_reliance_gap" in outcomes.columns:
        gap = stats.numeric_summary(outcomes["iran_reliance_gap"])
        result["reliance_gap"] = {"mean": gap["mean"], "ci": gap["ci"]}
        sentences.append(
            f"Iran expected more than it got: its expectation exceeded the support received by "
            f"{fmt.number(gap['mean'])} rungs on average (95 % interval "
            f"{fmt.interval(*gap['ci'])})."
        )
    moves = _moves(outcomes, labels, parameters, point_names or {}) if points > 1 else []
    result["sentences"] = sentences
    result["moves"] = moves
    result["text"] = " ".join([_answer(blocks), f"{scope}:", *sentences, *moves])
    return result
