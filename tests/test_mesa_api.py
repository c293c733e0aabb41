"""CrisisModel as Mesa users drive it: context as keyword arguments, outcome records from
`mesa.batch_run`."""

from __future__ import annotations

import mesa
import pandas as pd
import pytest

from sim.engine.model import CrisisModel
from sim.scenario.errors import ConfigError


def test_context_as_keyword_arguments_sets_the_scenario_context() -> None:
    model = CrisisModel("baseline", replication=0, rng=3, russia_ukraine_commitment=0.15)
    assert model.crisis.context.russia_ukraine_commitment == 0.15
    assert (
        model.crisis.context.china_taiwan_tension
        == CrisisModel("baseline").crisis.context.china_taiwan_tension
    )
    with pytest.raises(ConfigError, match="unknown context"):
        CrisisModel("baseline", no_such_context=0.5)
    with pytest.raises(ConfigError, match="context.sanctions_intensity"):
        CrisisModel("baseline", sanctions_intensity=1.5)


def test_batch_run_returns_the_outcome_record_of_every_replication() -> None:
    rows = mesa.batch_run(
        CrisisModel,
        parameters={
            "scenario": "baseline",
            "replication": range(6),
            "russia_ukraine_commitment": [0.1, 0.9],
        },
        rng=11,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    table = pd.DataFrame(rows)
    assert len(table) == 12
    for commitment, part in table.groupby("russia_ukraine_commitment"):
        batch = CrisisModel("baseline", 6, rng=11, russia_ukraine_commitment=commitment).run()
        expected = batch.outcome_frame().set_index("replication")
        got = part.set_index("replication").sort_index()
        for field in ("war", "russia_max_support", "china_max_support", "end_state"):
            assert got[field].tolist() == expected[field].tolist(), (commitment, field)
        assert got["peak_oil_price"].to_numpy() == pytest.approx(expected["peak_oil_price"])


def test_results_from_a_model_in_memory_draw_and_show_themselves() -> None:
    from sim.analysis.results import Results
    from sim.output import plots

    model = CrisisModel("baseline", 60, rng=5, pool_decisions=True).run()
    results = Results.from_model(model)
    assert len(results.outcomes) == 60 and results.labels.label("russia") == "Russia"
    page = results._repr_html_()
    page = page.replace("&#x27;", "'")
    assert results.headline()["text"] in page and "Russia's highest support level" in page
    assert results.headline()["text"].startswith("No: Iran cannot count on Russia or China")
    figure = plots.support_ladder_figure(results)
    assert "n = 60" in plots.figure_title(figure)
    assert "n = 60" in plots.figure_title(plots.rung_shares_figure(results, "escalation"))
