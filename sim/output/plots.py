"""Every figure of a finished batch, in one place for notebooks.

Copy into a notebook::

    from sim.analysis.results import Results
    from sim.output import plots

    base = Results.load("runs/baseline")
    plots.key_probabilities_figure(base)        # can Iran rely on Russia and China?
    plots.support_ladder_figure(base)           # Russia's and China's highest support, 0-7 ladder
    plots.outcome_figure(base, "peak_oil_price")  # the distribution of any outcome field
    plots.rung_shares_figure(base, "escalation")  # share of runs on each rung, turn by turn
    plots.fan_figure(base, "oil_price")         # median with 50 % and 90 % bands over turns
    plots.first_events_figure(base)             # time to first war, covert help, Hormuz closure
    plots.factors_figure(base, "china")         # which factors pushed China towards or away
    plots.save_all(base)                        # every figure, PNG and SVG, into its plots/

Every function takes a `sim.analysis.results.Results` and returns a `matplotlib.figure.Figure`
drawn with the Agg canvas, without pyplot. The figures live by family in `sim.output.figures`,
the house style in `sim.output.style`, the numbers behind them in `sim.analysis.measures` and
the gallery that writes them (with its cache) in `sim.output.gallery`.
"""

from __future__ import annotations

from sim.analysis.labels import readable, rung_label
from sim.analysis.measures import (
    KeyEvent,
    factor_table,
    first_event_turns,
    key_probabilities,
    outcome_kind,
    point_labels,
)
from sim.output.figures.factors import factors_figure
from sim.output.figures.outcomes import (
    comparison_figure,
    end_states_figure,
    key_probabilities_figure,
    outcome_figure,
)
from sim.output.figures.over_time import fan_figure, first_events_figure, rung_shares_figure
from sim.output.figures.support import support_ladder_figure
from sim.output.gallery import FigureSpec, figure_specs, save_all, save_figure
from sim.output.style import OKABE_ITO, figure_bytes, figure_title

__all__ = [
    "OKABE_ITO",
    "FigureSpec",
    "KeyEvent",
    "comparison_figure",
    "end_states_figure",
    "factor_table",
    "factors_figure",
    "fan_figure",
    "figure_bytes",
    "figure_specs",
    "figure_title",
    "first_event_turns",
    "first_events_figure",
    "key_probabilities",
    "key_probabilities_figure",
    "outcome_figure",
    "outcome_kind",
    "point_labels",
    "readable",
    "rung_label",
    "rung_shares_figure",
    "save_all",
    "save_figure",
    "support_ladder_figure",
]
