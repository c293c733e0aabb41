"""A shareable report of a finished batch: one self-contained HTML file.

Everything is inside the file (figures as base64 PNG, styles inline, no scripts, no links to
the network), so it can be mailed, archived or opened offline. It holds the question the model
answers, the scenario, headline numbers, the summary table with intervals, every figure, the
convergence note and the manifest of the run.
"""

from __future__ import annotations

import base64
import html
import json
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.batch.runfolder import atomic_write_text
from sim.output import plots
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    from sim.analysis.results import Results

QUESTION = (
    "If the Iran–US conflict escalates, what do Russia, China and the Gulf states do, "
    "and can Iran rely on them?"
)
REPORT = "report.html"

_SECTIONS = {
    "overview": "Overview",
    "trajectories": "Over time",
    "factors": "Why the great powers chose as they did",
    "outcomes": "Every outcome",
}

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
       color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2.4rem 0 .6rem; padding-bottom: .25rem;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
.question { font-size: 1.1rem; background: var(--soft); border-left: 4px solid #0072B2;
            padding: .7rem 1rem; margin: 1rem 0; }
.muted, .note { color: var(--muted); }
nav ol { columns: 2; margin: .3rem 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: left;
         vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 1.2rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
.grid figure { margin: .4rem 0; }
details { margin: .6rem 0; }
summary { cursor: pointer; font-weight: 600; }
pre { background: var(--soft); padding: .8rem; overflow-x: auto; font-size: .8rem; }
code { font-size: .88em; }
ul.headline li { margin: .25rem 0; }
"""


# ----------------------------------------------------------------------------- formatting


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(p: float | None) -> str:
    if p is None or (isinstance(p, float) and not math.isfinite(p)):
        return "n/a"
    return f"{p * 100:.1f} %"


def _ci_pct(ci: Sequence[float | None] | None) -> str:
    if not ci:
        return "n/a"
    lo, hi = ci
    if lo is None or hi is None:
        return "n/a"
    return f"{lo * 100:.1f}–{hi * 100:.1f} %"


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """An HTML table; cells are already escaped HTML."""
    cells = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(head)
    )
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _label(labels: Mapping[int, str], point: Mapping[str, Any]) -> str:
    """A point's readable label on one line."""
    number = point.get("point")
    text = labels.get(int(number), str(point.get("scenario", number))) if number is not None else ""
    return text.replace("\n", ", ")


def _field_cell(field: str, info: plots.RunInfo) -> str:
    _, label = plots.field_text(field, info)
    return f"{_e(label)}<br><code>{_e(field)}</code>"


# ----------------------------------------------------------------------------- summary tables


def summary_tables(outcomes: Mapping[str, Mapping[str, Any]], info: plots.RunInfo) -> str:
    """Probabilities, numeric outcomes and categories of one summary block, with intervals."""
    props = {k: v for k, v in outcomes.items() if "p" in v and "categories" not in v}
    nums = {k: v for k, v in outcomes.items() if "mean" in v}
    cats = {k: v for k, v in outcomes.items() if "categories" in v}
    parts = []
    if props:
        rows = [
            (_field_cell(k, info), _pct(v.get("p")), _ci_pct(v.get("ci")), _e(v.get("n", "")))
            for k, v in props.items()
        ]
        parts.append("<h3>Probabilities</h3>")
        parts.append(_table(["Outcome", "p", "95 % interval", "n"], rows, {1, 2, 3}))
    if nums:
        rows = []
        for k, v in nums.items():
            lo, hi = (v.get("ci") or [None, None])[:2]
            rows.append(
                (
                    _field_cell(k, info),
                    _num(v.get("mean")),
                    f"{_num(lo)} to {_num(hi)}",
                    _num(v.get("median")),
                    f"{_num(v.get('q05'))} to {_num(v.get('q95'))}",
                    _e(v.get("n", "")),
                )
            )
        parts.append("<h3>Numeric outcomes</h3>")
        parts.append(
            _table(
                ["Outcome (units)", "mean", "95 % interval of the mean", "median", "5–95 %", "n"],
                rows,
                {1, 2, 3, 4, 5},
            )
        )
    if cats:
        parts.append("<h3>Categories</h3>")
        for k, v in cats.items():
            rows = [
                (
                    _e(plots.readable(c) if c else "(no move)"),
                    _pct(s.get("p")),
                    _ci_pct(s.get("ci")),
                    _e(s.get("n", "")),
                )
                for c, s in v.get("categories", {}).items()
            ]
            parts.append(f"<p><strong>{_field_cell(k, info)}</strong> (n = {_e(v.get('n'))})</p>")
            parts.append(_table(["Category", "p", "95 % interval", "n"], rows, {1, 2, 3}))
    return "\n".join(parts)


def _comparisons(
    comparisons: list[Mapping[str, Any]], info: plots.RunInfo, labels: Mapping[int, str]
) -> str:
    parts = []
    for comparison in comparisons:
        a, b = (_label(labels, comparison[k]) for k in ("reference", "point"))
        parts.append(f"<h3>{_e(b)} minus {_e(a)}</h3>")
        rows = []
        for name, diff in comparison["differences"].items():
            ci = diff.get("ci") or [None, None]
            rows.append(
                (
                    _field_cell(name, info),
                    _num(diff.get("mean_a")),
                    _num(diff.get("mean_b")),
                    _num(diff.get("difference")),
                    f"{_num(ci[0])} to {_num(ci[1])}",
                    _e(diff.get("n_pairs", "")),
                )
            )
        parts.append(
            _table(
                ["Outcome", "reference", "this point", "difference", "95 % interval", "pairs"],
                rows,
                {1, 2, 3, 4, 5},
            )
        )
    return "\n".join(parts)


# ----------------------------------------------------------------------------- headline


def _headline_single(results: Results, info: plots.RunInfo) -> str:
    """A few sentences with the numbers that answer the question, each with its interval."""
    from sim.analysis import stats

    frame = results.outcomes
    items: list[str] = []
    table = plots.key_probabilities(results).set_index("key")
    events = set(table.index)

    def prob(key: str) -> str:
        row = table.loc[key]
        return f"{_pct(row['p'])} (95 % interval {_ci_pct([row['ci_low'], row['ci_high']])})"

    if "war" in events:
        items.append(f"War between the US and Iran broke out in {prob('war')}.")
    ladder = info.support_ladder
    for power in plots.GREAT_POWERS:
        column = f"{power}_max_support"
        if column not in frame.columns:
            continue
        who = info.label(power)
        counts = frame[column].value_counts(normalize=True)
        mode = int(counts.idxmax())
        sentence = (
            f"{_e(who)}'s highest support was most often "
            f"<em>{_e(plots.rung_label(ladder, mode))}</em> ({_pct(float(counts.max()))})"
        )
        if f"{power}_4_or_more" in events:
            sentence += (
                f"; it reached {_e(plots.readable(ladder[4]))} or more in "
                f"{prob(f'{power}_4_or_more')}"
            )
        if f"{power}_direct" in events:
            sentence += f" and intervened militarily in {prob(f'{power}_direct')}"
        items.append(sentence + ".")
    if "iran_requested_help" in events:
        sentence = f"Iran asked Russia or China for help in {prob('iran_requested_help')}"
        if "iran_reliance_gap" in frame.columns:
            gap = stats.numeric_summary(frame["iran_reliance_gap"])
            lo, hi = gap["ci"]
            sentence += (
                f"; the support it expected exceeded what it got by {_num(gap['mean'])} ladder "
                f"rungs on average (95 % interval {_num(lo)} to {_num(hi)})"
            )
        items.append(sentence + ".")
    if "peak_oil_price" in frame.columns:
        price = frame["peak_oil_price"].quantile([0.05, 0.5, 0.95])
        items.append(
            f"The oil price peaked at a median ${_num(price[0.5])}/bbl "
            f"(90 % of replications between ${_num(price[0.05])} and ${_num(price[0.95])})."
        )
    if {"china_imports_start_kbd", "china_imports_end_kbd"} <= set(frame.columns):
        start = float(frame["china_imports_start_kbd"].median())
        end = float(frame["china_imports_end_kbd"].median())
        items.append(
            f"China's imports of Iranian crude went from a median {_num(start)} to "
            f"{_num(end)} thousand b/d by the end."
        )
    stances = []
    for column in frame.columns:
        if column.startswith("gulf_") and column.endswith("_stance"):
            actor = column.removeprefix("gulf_").removesuffix("_stance")
            counts = frame[column].astype(str).value_counts(normalize=True)
            stances.append(
                f"{_e(info.label(actor))}: {_e(plots.readable(counts.idxmax()))} "
                f"({_pct(float(counts.max()))})"
            )
    if stances:
        items.append("The Gulf states' most frequent last move: " + "; ".join(stances) + ".")
    if not items:
        return ""
    return '<ul class="headline">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _headline_points(results: Results) -> str:
    table = plots.key_probabilities(results)
    events = list(dict.fromkeys(table["event"]))
    rows = []
    for _, part in table.groupby("point", sort=True):
        by_event = part.set_index("event")
        label = _e(part["label"].iloc[0]).replace("\n", "<br>")
        cells = [label]
        for event in events:
            row = by_event.loc[event]
            cells.append(
                f"{_pct(row['p'])}<br><span class='muted'>"
                f"{_ci_pct([row['ci_low'], row['ci_high']])}</span>"
            )
        rows.append(cells)
    head = ["Point", *(_e(e) for e in events)]
    return (
        "<p>Probability of each event per point, with its 95 % Wilson interval below.</p>"
        + _table(head, rows, set(range(1, len(head))))
    )


# ----------------------------------------------------------------------------- figures


def _png_size(payload: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", payload[16:24])
    return int(width), int(height)


def _figure_html(name: str, title: str, payload: bytes, dpi: int) -> str:
    width, height = _png_size(payload)
    shown_width = round(width * 100 / dpi)  # CSS pixels at 100 px per inch of figure
    shown_height = round(height * 100 / dpi)
    data = base64.b64encode(payload).decode("ascii")
    return (
        f'<figure id="fig-{_e(name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{_e(title)}" width="{shown_width}" height="{shown_height}"></figure>'
    )


def _figures_html(results: Results, dpi: int) -> tuple[str, list[str]]:
    specs, notes = plots.figure_specs(results)
    by_section: dict[str, list[str]] = {key: [] for key in _SECTIONS}
    for spec in specs:
        payload = plots.figure_bytes(spec.draw(), "png", dpi)
        by_section.setdefault(spec.section, []).append(
            _figure_html(spec.name, spec.title, payload, dpi)
        )
    parts = []
    for key, figures in by_section.items():
        if not figures:
            continue
        title = _SECTIONS.get(key, key.title())
        parts.append(f'<h3 id="figures-{_e(key)}">{_e(title)}</h3>')
        if key == "outcomes":
            parts.append(f'<div class="grid">{"".join(figures)}</div>')
        else:
            parts.extend(figures)
    return "\n".join(parts), notes


# ----------------------------------------------------------------------------- scenario, manifest


def _scenario_html(results: Results, info: plots.RunInfo) -> str:
    manifest = results.manifest
    table = results.points.sort_values("point")
    points = len(table)
    replications = results.outcomes.groupby("point").size()
    per = int(replications.iloc[0]) if replications.nunique() == 1 else None
    parts = [f"<p><strong>{_e(results.name)}</strong>"]
    if info.description:
        parts.append(f" – {_e(info.description)}")
    parts.append("</p>")
    facts = [
        f"{points} {'point' if points == 1 else 'points'}",
        f"{per:,} replications each" if per is not None else "replications vary by point",
        f"{len(results.outcomes):,} replications in all",
        f"master seed {_e(manifest.get('master_seed', 'n/a'))}",
    ]
    if points > 1:
        kind = "scenario list" if table["scenario"].nunique() > 1 else "parameter sweep"
        facts.insert(0, kind)
    parts.append(f"<p class='muted'>{_e(' · '.join(facts))}</p>")
    if points > 1:
        head = ["Point", "Scenario", *(f"<code>{_e(p)}</code>" for p in results.parameters)]
        head.append("Description")
        rows = []
        for _, row in table.iterrows():
            scenario = str(row["scenario"])
            rows.append(
                [
                    _e(int(row["point"])),
                    _e(scenario),
                    *(_e(plots.format_value(row[p])) for p in results.parameters),
                    _e(info.descriptions.get(scenario, "")),
                ]
            )
        parts.append(_table(head, rows, {0}))
    parts.append(
        "<p class='muted'>Every replication draws the uncertain parameters afresh from the "
        "distributions in the scenario file; the percentages below are shares of replications, "
        "not forecasts. Replication <em>i</em> meets the same random numbers at every point "
        "(common random numbers), so differences between points are paired.</p>"
    )
    return "\n".join(parts)


def _manifest_html(manifest: Mapping[str, Any]) -> str:
    rows = []
    for key, value in manifest.items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        rows.append((f"<code>{_e(key)}</code>", _e(shown)))
    raw = json.dumps(manifest, indent=2, default=str)
    return (
        _table(["Field", "Value"], rows, set())
        + f"<details><summary>manifest.json</summary><pre>{_e(raw)}</pre></details>"
    )


# ----------------------------------------------------------------------------- the report


def build_report(results: Results, dpi: int = 120) -> str:
    """The whole report as one HTML string."""
    if results.outcomes.empty:
        raise WargameError(f"{results.path}: the outcome table holds no replications")
    info = plots.run_info(results)
    summary = results.summary()
    multi = results.outcomes["point"].nunique() > 1
    figures, notes = _figures_html(results, dpi)
    title = f"Iran crisis wargame: {results.name}"

    body = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>Report of a batch of {len(results.outcomes):,} simulated crises "
        f"(iran-crisis-wargame {_e(results.manifest.get('package_version', __version__))}).</p>",
        f'<p class="question"><strong>The question.</strong> {_e(QUESTION)}</p>',
        "<nav><strong>Contents</strong><ol>"
        '<li><a href="#scenario">Scenario</a></li>'
        '<li><a href="#headline">Headline numbers</a></li>'
        '<li><a href="#summary">Summary table with intervals</a></li>'
        '<li><a href="#figures">Figures</a></li>'
        '<li><a href="#convergence">Convergence</a></li>'
        '<li><a href="#manifest">Manifest</a></li>'
        "</ol></nav>",
        '<h2 id="scenario">Scenario</h2>',
        _scenario_html(results, info),
        '<h2 id="headline">Headline numbers</h2>',
        _headline_points(results) if multi else _headline_single(results, info),
        '<h2 id="summary">Summary table with intervals</h2>',
    ]
    confidence = summary.get("confidence") or 0.95
    body.append(
        f"<p class='muted'>Probabilities carry {confidence * 100:g} % Wilson intervals, means "
        f"{confidence * 100:g} % t-intervals; n = {_e(summary.get('n', len(results.outcomes)))}"
        + (" (all points pooled; per point below)" if multi else "")
        + ".</p>"
    )
    body.append(summary_tables(summary.get("outcomes", {}), info))
    for condition, block in (summary.get("given") or {}).items():
        body.append(
            f"<details><summary>Only the replications with {_e(condition)} "
            f"(n = {_e(block.get('n'))})</summary>"
            + summary_tables(block.get("outcomes", {}), info)
            + "</details>"
        )
    labels = plots.point_labels(results)
    per_point = summary.get("per_point") or []
    if len(per_point) > plots.MAX_PLOTTED_POINTS:
        body.append(
            f"<p class='muted'>{len(per_point)} sweep points: each point's numbers are in "
            "summary.json and summary.md.</p>"
        )
        per_point = []
    for block in per_point:
        body.append(
            f"<details><summary>Point {_e(block.get('point'))}: {_e(_label(labels, block))} "
            f"(n = {_e(block.get('n'))})</summary>"
            + summary_tables(block.get("outcomes", {}), info)
            + "</details>"
        )
    if summary.get("comparisons"):
        body.append(
            "<details><summary>Paired comparisons with the first point</summary>"
            + _comparisons(summary["comparisons"], info, labels)
            + "</details>"
        )
    body.append('<h2 id="figures">Figures</h2>')
    body.append(
        "<p class='muted'>Each figure names the question it answers, the scenario and the "
        "number of replications; the note under it says how to read it.</p>"
    )
    body.extend(f"<p class='note'>Not drawn: {_e(note)}.</p>" for note in notes)
    body.append(figures)
    convergence = (summary.get("convergence") or {}).get("text")
    body.append('<h2 id="convergence">Convergence</h2>')
    body.append(f"<p>{_e(convergence)}</p>" if convergence else "<p>No convergence note.</p>")
    body.append('<h2 id="manifest">Manifest</h2>')
    body.append(_manifest_html(results.manifest))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_report(results: Results, path: str | Path | None = None, dpi: int = 120) -> Path:
    """Write the report (default: `report.html` in the results folder) and return its path."""
    target = Path(path) if path is not None else Path(results.path) / REPORT
    if target.parent and not target.parent.is_dir():
        raise WargameError(f"{target.parent}: no such folder for the report")
    atomic_write_text(target, build_report(results, dpi))
    return target
