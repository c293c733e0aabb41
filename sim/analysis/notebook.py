"""How a `Results` shows itself in a notebook: the verdict and the key numbers, as HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sim.analysis import formatting as fmt
from sim.analysis.markdown import code_spans

if TYPE_CHECKING:
    from sim.analysis.results import Results


def results_html(results: Results) -> str:
    """The run's name and size, its verdict, and each outcome's estimate with its interval."""
    summary = results.summary()
    labels = results.labels
    rows = []
    for name, block in summary.get("outcomes", {}).items():
        if "p" in block and "categories" not in block:
            shown, ci = fmt.percent(block["p"]), fmt.percent_interval(*block["ci"])
        elif "mean" in block:
            shown, ci = fmt.number(block["mean"]), fmt.interval(*block["ci"])
        else:
            continue
        rows.append(
            f"<tr><td>{html.escape(labels.outcome(name))}</td>"
            f"<td style='text-align:right'>{shown}</td><td>{ci}</td></tr>"
        )
    verdict = code_spans(results.headline().get("text", ""))
    return (
        f"<div><strong>{html.escape(results.name)}</strong> · "
        f"{fmt.count(len(results.outcomes))} replications"
        f"<p>{verdict}</p><table><thead><tr><th>Outcome</th><th>estimate</th>"
        f"<th>95 % interval</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
