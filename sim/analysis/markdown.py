"""The summary of a run as Markdown (summary.md and `wargame summary`): words, not field names.

Outcome names come from `sim.analysis.labels` (the field name follows in small code type, so a
reader can find it in summary.json), numbers from `sim.analysis.formatting`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

from sim.analysis import formatting as fmt
from sim.analysis.labels import Labels, sentence


def code_spans(text: str) -> Markup:
    """A Markdown sentence for HTML (the report, a notebook): its `code` spans as <code>, the
    rest escaped, so names the sentences quote in code type read as they do in summary.md."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: show the text as it is
        return Markup("{}").format(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(piece) if i % 2 else Markup("{}").format(piece)
        for i, piece in enumerate(pieces)
    )


def cell(text: Any) -> str:
    """Escape pipes so category names cannot break a table."""
    return str(text).replace("|", "\\|")


def outcome_name(name: str, labels: Labels | None, heading: bool = False) -> str:
    """`Russia's highest support (`russia_max_support`)`; only the field name without labels.
    `heading` capitalises the first word (`How the crisis ends (`end_state`)`)."""
    if labels is None:
        return f"`{name}`"
    words = labels.outcome(name)
    return f"{cell(sentence(words) if heading else words)} (`{name}`)"


def in_words(text: str, fields: Iterable[str], labels: Labels | None) -> str:
    """Outcome field names in a sentence replaced by their words (longest names first)."""
    names = sorted(fields, key=len, reverse=True)
    if labels is None or not names:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")

    def words(match: re.Match) -> str:
        before = text[: match.start()].rstrip()
        shown = labels.outcome(match.group(1))
        return sentence(shown) if not before or before.endswith((".", "!", "?")) else shown

    return pattern.sub(words, text)


def outcome_tables(
    outcomes: Mapping[str, Mapping[str, Any]], level: str, labels: Labels | None = None
) -> list[str]:
    """One block of field summaries, grouped by kind (inferred from the summary keys)."""
    props = {k: v for k, v in outcomes.items() if "p" in v and "categories" not in v}
    nums = {k: v for k, v in outcomes.items() if "mean" in v}
    cats = {k: v for k, v in outcomes.items() if "categories" in v}
    lines: list[str] = []
    if props:
        lines += ["### Probabilities", "", f"| Outcome | p | {level} interval | n |"]
        lines.append("|---|---:|---:|---:|")
        for name, s in props.items():
            lines.append(
                f"| {outcome_name(name, labels)} | {fmt.percent(s['p'])} | "
                f"{fmt.percent_interval(*s['ci'])} | {fmt.count(s['n'])} |"
            )
        lines.append("")
    if nums:
        lines += [
            "### Numeric outcomes",
            "",
            f"| Outcome | mean | {level} interval | median | 5–95 % | n |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, s in nums.items():
            lines.append(
                f"| {outcome_name(name, labels)} | {fmt.number(s['mean'])} | "
                f"{fmt.interval(*s['ci'])} | {fmt.number(s['median'])} | "
                f"{fmt.interval(s['q05'], s['q95'])} | {fmt.count(s['n'])} |"
            )
        lines.append("")
    for name, s in cats.items():
        lines += [
            f"### {outcome_name(name, labels, heading=True)} (n = {fmt.count(s['n'])})",
            "",
            f"| Category | p | {level} interval | n |",
            "|---|---:|---:|---:|",
        ]
        for category, c in s["categories"].items():
            shown = labels.category(category) if labels else category
            lines.append(
                f"| {cell(shown)} | {fmt.percent(c['p'])} | "
                f"{fmt.percent_interval(*c['ci'])} | {fmt.count(c['n'])} |"
            )
        lines.append("")
    return lines


def block_markdown(summary: Mapping[str, Any], title: str, labels: Labels | None = None) -> str:
    """One summary block (a run, or one point of it) as Markdown."""
    confidence = summary.get("confidence")
    level = f"{confidence * 100:g} %" if confidence else "95 %"
    lines = [f"# {title}", "", f"Replications: {fmt.count(summary.get('n'))}", ""]
    lines += ["## All replications", ""]
    lines += outcome_tables(summary.get("outcomes", {}), level, labels)
    for condition, block in (summary.get("given") or {}).items():
        lines += [f"## Conditional on {cell(condition)} (n = {fmt.count(block['n'])})", ""]
        if block["n"] == 0:
            lines += [f"No replications with {cell(condition)}.", ""]
        else:
            lines += outcome_tables(block["outcomes"], level, labels)
    convergence = summary.get("convergence")
    if convergence:
        fields = summary.get("outcomes", {})
        lines += ["## Convergence", "", in_words(convergence["text"], fields, labels), ""]
    return "\n".join(lines).rstrip() + "\n"
