"""The report's "Parameters and validation" section: which parameters the batch used (prior or
which posterior, its date and episodes) and the model's out-of-sample score, in one line each.

Listed in `sim.REPORT_PLUGINS`, so the report imports it by name and the output stage never
imports the evidence stage.
"""

from __future__ import annotations

import json

from markupsafe import Markup, escape

from sim.evidence.provenance import PARAMETERS_JSON
from sim.output.report import Section, register_section


def parameters_section(results) -> Section | None:
    path = results.path / PARAMETERS_JSON
    if not path.is_file():
        return None
    try:
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    parts = [Markup("<p>{}</p>").format(provenance.get("line", ""))]
    episodes = provenance.get("episodes") or []
    if episodes:
        parts.append(
            Markup("<p>Episodes fitted: {}.</p>").format(", ".join(escape(e) for e in episodes))
        )
    parts.append(
        Markup(
            "<p>See <code>docs/calibration.md</code> for the method, the scores per episode and "
            "where the model fails.</p>"
        )
    )
    return Section("parameters", "Parameters and validation", Markup("").join(parts))


register_section(parameters_section, name="parameters", after="headline")
