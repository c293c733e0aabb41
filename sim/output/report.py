"""A shareable report of a finished batch: one self-contained HTML file, from Jinja2 templates.

Everything is inside the file (figures as base64 PNG, styles inline, no scripts, no links to
the network), so it can be mailed, archived or opened offline. It opens with the answer to the
question, then the scenario, the headline numbers, the summary table with intervals, every
figure, the convergence note and the manifest of the run.

The report is a list of sections (`SECTIONS`). Another part of the project adds its own with
`register_section`, e.g. validation scores::

    from sim.output.report import Section, register_section

    def validation(results):          # None when the run has nothing to show
        return Section("validation", "Validation against history", "<p>...</p>")

    register_section(validation, after="summary")

A section's HTML is usually rendered from a template of its own (`render("my.html", ...)`);
templates live in `sim/output/templates` and share the macros in `macros.html`.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sim import __version__
from sim.analysis import formatting as fmt
from sim.analysis import measures
from sim.analysis.labels import Labels, run_record, sentence
from sim.analysis.markdown import code_spans
from sim.analysis.results import Results
from sim.batch.runfolder import atomic_write_text
from sim.output import fingerprint, gallery
from sim.output.fingerprint import REPORT
from sim.scenario.errors import WargameError

QUESTION = (
    "If the Iran–US conflict escalates, what do Russia, China and the Gulf states do, "
    "and can Iran rely on them?"
)
TEMPLATES = Path(__file__).with_name("templates")

_FIGURE_GROUPS = {
    "overview": "Overview",
    "trajectories": "Over time",
    "factors": "Why the great powers chose as they did",
    "sweeps": "What the swept parameters do",
    "outcomes": "Every outcome",
}


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor, its heading and its (already safe) HTML."""

    id: str
    title: str
    html: str


#: builds a section from the run, or None when the run has nothing for it
SectionBuilder = Callable[[Results], Section | None]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """A template of `sim/output/templates` rendered with `context` (values escaped)."""
    return _environment().get_template(template).render(**context)


# ----------------------------------------------------------------------------- tables


def _outcome_cell(name: str, labels: Labels, heading: bool = False) -> Markup:
    words = labels.outcome(name)
    return Markup("{}<br><code>{}</code>").format(sentence(words) if heading else words, name)


def outcome_block(outcomes: Mapping[str, Mapping[str, Any]], labels: Labels) -> dict[str, Any]:
    """The rows of the probability, numeric and category tables of one summary block."""
    probabilities, numbers, categories = [], [], []
    for name, v in outcomes.items():
        if "categories" in v:
            rows = [
                (labels.category(c), fmt.percent(s.get("p")), _ci(s.get("ci")), fmt.count(s["n"]))
                for c, s in v["categories"].items()
            ]
            categories.append(
                (_outcome_cell(name, labels, heading=True), fmt.count(v.get("n")), rows)
            )
        elif "p" in v:
            probabilities.append(
                (
                    _outcome_cell(name, labels),
                    fmt.percent(v.get("p")),
                    _ci(v.get("ci")),
                    fmt.count(v.get("n")),
                )
            )
        elif "mean" in v:
            lo, hi = (v.get("ci") or [None, None])[:2]
            numbers.append(
                (
                    _outcome_cell(name, labels),
                    fmt.number(v.get("mean")),
                    fmt.interval(lo, hi),
                    fmt.number(v.get("median")),
                    fmt.interval(v.get("q05"), v.get("q95")),
                    fmt.count(v.get("n")),
                )
            )
    return {"probabilities": probabilities, "numbers": numbers, "categories": categories}


def _ci(ci: Any) -> str:
    return fmt.percent_interval(*(ci or [None, None])[:2])


def _point_title(labels: Mapping[int, str], block: Mapping[str, Any]) -> str:
    number = block.get("point")
    text = labels.get(int(number), str(block.get("scenario"))) if number is not None else ""
    return text.replace("\n", ", ")


# ----------------------------------------------------------------------------- sections


def scenario_section(results: Results) -> Section:
    labels = results.labels
    table = results.points.sort_values("point")
    count = len(table)
    replications = results.outcomes.groupby("point").size()
    per = int(replications.iloc[0]) if replications.nunique() == 1 else None
    facts = [
        f"{count} {'point' if count == 1 else 'points'}",
        f"{fmt.count(per)} replications each" if per is not None else "replications vary by point",
        f"{fmt.count(len(results.outcomes))} replications in all",
        f"master seed {results.manifest.get('master_seed', 'n/a')}",
    ]
    points = None
    if count > 1:
        facts.insert(0, "scenario list" if table["scenario"].nunique() > 1 else "parameter sweep")
        head = ["Point", "Scenario", *(labels.parameter(p) for p in results.parameters)]
        rows = [
            [
                int(row["point"]),
                str(row["scenario"]),
                *(fmt.value(row[p]) for p in results.parameters),
                labels.descriptions.get(str(row["scenario"]), ""),
            ]
            for _, row in table.iterrows()
        ]
        points = {"head": [*head, "Description"], "rows": rows}
    html = render(
        "scenario.html",
        name=results.name,
        description=labels.description,
        facts=facts,
        points=points,
    )
    return Section("scenario", "Scenario", html)


def headline_section(results: Results) -> Section:
    headline = results.headline()
    per_point = None
    if results.outcomes["point"].nunique() > 1:
        table = measures.key_probabilities(results)
        events = list(dict.fromkeys(table["event"]))
        rows = []
        for _, part in table.groupby("point", sort=True):
            by_event = part.set_index("event")
            cells: list[Any] = [Markup("<br>").join(str(part["label"].iloc[0]).split("\n"))]
            for event in events:
                row = by_event.loc[event]
                cells.append(
                    Markup("{}<br><span class='muted'>{}</span>").format(
                        fmt.percent(row["p"]), fmt.percent_interval(row["ci_low"], row["ci_high"])
                    )
                )
            rows.append(cells)
        per_point = {
            "head": ["Point", *events],
            "rows": rows,
            "numeric": tuple(range(1, len(events) + 1)),
        }
    html = render(
        "headline.html",
        sentences=[code_spans(text) for text in headline.get("sentences", [])],
        moves=[code_spans(text) for text in headline.get("moves", [])],
        per_point=per_point,
    )
    return Section("headline", "Headline numbers", html)


def summary_section(results: Results) -> Section:
    labels = results.labels
    summary = results.summary()
    confidence = summary.get("confidence") or 0.95
    given = [
        (
            f"Only the replications with {condition} (n = {fmt.count(block.get('n'))})",
            outcome_block(block.get("outcomes", {}), labels),
        )
        for condition, block in (summary.get("given") or {}).items()
    ]
    point_labels = measures.point_labels(results)
    blocks = summary.get("per_point") or []
    many = len(blocks) if len(blocks) > gallery.MAX_PLOTTED_POINTS else 0
    per_point = [
        (
            f"Point {b.get('point')}: {_point_title(point_labels, b)} "
            f"(n = {fmt.count(b.get('n'))})",
            outcome_block(b.get("outcomes", {}), labels),
        )
        for b in ([] if many else blocks)
    ]
    comparisons = []
    for comparison in summary.get("comparisons") or []:
        a, b = (_point_title(point_labels, comparison[k]) for k in ("reference", "point"))
        rows = [
            (
                _outcome_cell(name, labels),
                fmt.number(d.get("mean_a")),
                fmt.number(d.get("mean_b")),
                fmt.number(d.get("difference"), sign=True),
                fmt.interval(*(d.get("ci") or [None, None]), sign=True),
                fmt.count(d.get("n_pairs")),
            )
            for name, d in comparison["differences"].items()
        ]
        comparisons.append((f"{b} minus {a}", rows))
    html = render(
        "summary.html",
        level=f"{confidence * 100:g} %",
        n=fmt.count(summary.get("n", len(results.outcomes))),
        pooled=bool(blocks),
        main=outcome_block(summary.get("outcomes", {}), labels),
        given=given,
        many_points=many,
        per_point=per_point,
        comparisons=comparisons,
    )
    return Section("summary", "Summary table with intervals", html)


def _png_size(payload: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", payload[16:24])
    return int(width), int(height)


def figures_section(results: Results, dpi: int = 150, progress=None) -> Section:
    folder = Path(results.path) / "plots"
    specs, notes = gallery.figure_specs(results)
    gallery.save_all(results, folder, ("png",), dpi, progress, specs=(specs, notes))
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key in _FIGURE_GROUPS}
    for spec in specs:
        payload = (folder / f"{spec.name}.png").read_bytes()
        width, height = _png_size(payload)
        groups.setdefault(spec.section, []).append(
            {
                "name": spec.name,
                "title": spec.title,
                "data": base64.b64encode(payload).decode("ascii"),
                "width": round(width * 100 / dpi),  # CSS pixels at 100 px per inch of figure
                "height": round(height * 100 / dpi),
            }
        )
    shown = [
        {"key": k, "title": _FIGURE_GROUPS.get(k, k.title()), "grid": k == "outcomes", "figures": v}
        for k, v in groups.items()
        if v
    ]
    return Section("figures", "Figures", render("figures.html", notes=notes, groups=shown))


def convergence_section(results: Results) -> Section:
    from sim.analysis.markdown import in_words

    summary = results.summary()
    text = (summary.get("convergence") or {}).get("text") or "No convergence note."
    text = in_words(text, summary.get("outcomes", {}), results.labels)
    return Section("convergence", "Convergence", str(Markup("<p>{}</p>").format(text)))


#: manifest fields whose values are identifiers, shown as they are (no thousands separators)
_VERBATIM = {"master_seed", "config_hash", "git_commit", "package_version", "python"}


def _run_value(key: str, value: Any, labels: Labels) -> Any:
    """A manifest value as a reader reads it: counts with separators, lists joined, seconds."""
    if value is None:
        return "none"
    if key in _VERBATIM:
        return Markup("<code>{}</code>").format(value)
    if key == "elapsed_seconds":
        return f"{fmt.number(value)} s"
    if key == "parameters":
        return ", ".join(labels.parameter(p) for p in value) or "none"
    if key == "failed_chunks":
        return "; ".join(
            f"point {c.get('point')}, replications {fmt.interval(*c.get('replications', [0, 0]))}"
            f": {c.get('error')}"
            for c in value
        )
    if key == "outputs":  # file -> checksum: the file and the checksum's first digits
        return Markup(", ").join(
            Markup("{} <code>{}</code>").format(name, str(digest)[:12])
            for name, digest in value.items()
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return fmt.value(value)


def manifest_section(results: Results) -> Section:
    """The run's record in words; manifest.json itself follows, folded, for machines."""
    manifest = results.manifest
    rows = [
        (run_record(key), _run_value(key, value, results.labels)) for key, value in manifest.items()
    ]
    raw = json.dumps(manifest, indent=2, default=str)
    return Section("manifest", "Manifest", render("manifest.html", rows=rows, raw=raw))


def _png_figure(path: Path, title: str) -> Markup:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Markup('<figure><img src="data:image/png;base64,{}" alt="{}"></figure>').format(
        data, title
    )


def discovery_section(results: Results) -> Section | None:
    """The boxes of `wargame discover`, when the folder has them."""
    file = Path(results.path) / "discover.json"
    if not file.is_file():
        return None
    found = json.loads(file.read_text(encoding="utf-8"))
    parts = [
        Markup("<p>Which swept inputs lead to: <strong>{}</strong> (<code>{}</code>), which "
               "happens in {} of {} runs.</p>").format(
            found["outcome_words"], found["outcome"], fmt.percent(found["base_rate"]),
            fmt.count(found["n"]),
        )
    ]  # fmt: skip
    for number, box in enumerate(found["boxes"], start=1):
        parts.append(
            Markup("<p>Box {}: {} (coverage {}, density {}).</p>").format(
                number, box["words"], fmt.percent(box["coverage"]), fmt.percent(box["density"])
            )
        )
    figure = Path(results.path) / "plots" / "discover.png"
    if figure.is_file():
        parts.append(_png_figure(figure, "Scenario discovery"))
    return Section("discovery", "Scenario discovery", str(Markup("").join(parts)))


def sensitivity_section(results: Results) -> Section | None:
    """The indices of `wargame sensitivity`, with their warnings, when the folder has them."""
    file = Path(results.path) / "sensitivity.json"
    if not file.is_file():
        return None
    analysis = json.loads(file.read_text(encoding="utf-8"))
    parts = [
        Markup("<p class='note'><strong>Warning:</strong> {}.</p>").format(code_spans(sentence(w)))
        for w in analysis.get("warnings", [])
    ]
    for field in analysis["outcomes"]:
        figure = Path(results.path) / "plots" / f"sensitivity_{field}.png"
        if figure.is_file():
            title = f"Sensitivity of {results.labels.outcome(field)}"
            parts.append(_png_figure(figure, title))
    return Section("sensitivity", "Sensitivity", str(Markup("").join(parts)))


#: the sections in order; `figures` is built by `build_report` (it needs the dpi and progress)
SECTIONS: list[tuple[str, SectionBuilder | None]] = [
    ("scenario", scenario_section),
    ("headline", headline_section),
    ("summary", summary_section),
    ("figures", None),
    ("discovery", discovery_section),
    ("sensitivity", sensitivity_section),
    ("convergence", convergence_section),
    ("manifest", manifest_section),
]


def register_section(builder: SectionBuilder, name: str | None = None, after: str = "summary"):
    """Add a section to every report, after the section called `after` (default: the summary)."""
    name = name or builder.__name__
    names = [n for n, _ in SECTIONS]
    if name in names:
        SECTIONS[names.index(name)] = (name, builder)
        return
    position = names.index(after) + 1 if after in names else len(SECTIONS)
    SECTIONS.insert(position, (name, builder))


# ----------------------------------------------------------------------------- the report


def _load_plugins() -> None:
    """Import the modules that add sections (`sim.REPORT_PLUGINS`), once."""
    import importlib

    import sim

    for module in getattr(sim, "REPORT_PLUGINS", ()):
        importlib.import_module(module)


def build_report(results: Results, dpi: int = 150, progress=None) -> str:
    """The whole report as one HTML string."""
    _load_plugins()
    if results.outcomes.empty:
        raise WargameError(f"{results.path}: the outcome table holds no replications")
    sections = []
    for name, builder in SECTIONS:
        if name == "figures":
            section = figures_section(results, dpi, progress)
        else:
            section = builder(results) if builder is not None else None
        if section is not None:
            sections.append({**section.__dict__, "html": Markup(section.html)})
    return render(
        "report.html",
        title=f"Iran crisis wargame: {results.name}",
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        runs=fmt.count(len(results.outcomes)),
        version=results.manifest.get("package_version", __version__),
        question=QUESTION,
        verdict=code_spans(results.headline().get("text") or "") or None,
        sections=sections,
    )


def write_report(
    results: Results, path: str | Path | None = None, dpi: int = 150, progress=None
) -> Path:
    """Write the report (default: `report.html` in the results folder) and return its path."""
    target = Path(path) if path is not None else Path(results.path) / REPORT
    if target.parent and not target.parent.is_dir():
        raise WargameError(f"{target.parent}: no such folder for the report")
    html = build_report(results, dpi, progress)
    if "config_hash" in results.manifest:  # a results folder: `wargame report` reads the mark
        mark = fingerprint.report_mark(fingerprint.report_inputs(Path(results.path), target))
        first, _, rest = html.partition("\n")
        html = f"{first}\n{mark}\n{rest}"
    atomic_write_text(target, html)
    return target
