"""A finished batch as a Python object, for notebooks: outcomes, summaries, comparisons.

>>> from sim.analysis.results import Results
>>> base = Results.load("runs/baseline")
>>> base.outcomes.groupby("war").russia_max_support.mean()
>>> base.summary()["outcomes"]["war"]          # {"p": ..., "ci": [...], "n": ...}
>>> base.compare(Results.load("runs/ukraine_ceasefire"))
>>> base.plot_support_ladder()                 # figures: see sim.output.plots for every method
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis import stats
from sim.analysis.summary import (
    comparison_markdown,
    outcome_fields,
    point_table,
    summarize_run,
    summary_markdown,
)
from sim.batch.runfolder import (
    DECISIONS,
    OUTCOMES,
    SUMMARY_JSON,
    TRAJECTORIES,
    ResultsFolderError,
    read_manifest,
    read_table,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Results:
    """The tables and metadata of one results folder."""

    def __init__(self, path: Path, manifest: dict[str, Any], outcomes: pd.DataFrame) -> None:
        self.path = path
        self.manifest = manifest
        self.outcomes = outcomes

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """Open a results folder; a missing or corrupt one raises a one-line error."""
        folder = Path(path)
        if not folder.is_dir():
            raise ResultsFolderError(f"{folder}: no such results folder")
        manifest = read_manifest(folder)
        status = manifest.get("status", "complete")
        if status != "complete":
            raise ResultsFolderError(
                f"{folder}: the batch has not finished (status: {status}); run the same "
                "batch command again to complete it"
            )
        outcomes = read_table(folder, OUTCOMES)
        missing = {"point", "scenario", "replication"} - set(outcomes.columns)
        if missing:
            raise ResultsFolderError(
                f"{folder / OUTCOMES}: corrupt table (missing columns {sorted(missing)})"
            )
        return cls(folder, manifest, outcomes)

    # ------------------------------------------------------------------ metadata

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.path.name))

    @property
    def parameters(self) -> list[str]:
        return list(self.manifest.get("parameters", []))

    @property
    def points(self) -> pd.DataFrame:
        """One row per sweep point or scenario: its id, scenario and swept values."""
        columns = ["point", "scenario", *self.parameters]
        return self.outcomes[columns].drop_duplicates("point").reset_index(drop=True)

    @property
    def fields(self) -> list[str]:
        return outcome_fields(self.outcomes, self.parameters)

    def pooled(self) -> Results:
        """The same run with all sweep points taken together as one sample.

        What a large sampled design is plotted as: one panel per point would be unreadable.
        """
        outcomes = self.outcomes.assign(point=0, scenario=self.name)
        pooled = Results(self.path, {**self.manifest, "parameters": []}, outcomes)
        if (self.path / TRAJECTORIES).is_file():
            # distinct replication ids per point, so no two runs are merged into one
            trajectories = self.trajectories
            runs = int(trajectories["replication"].max()) + 1 if len(trajectories) else 0
            pooled.trajectories = trajectories.assign(
                replication=trajectories["point"] * runs + trajectories["replication"],
                point=0,
                scenario=self.name,
            )
        if (self.path / DECISIONS).is_file():
            group = ["turn", "actor", "menu", "action", "factor"]
            decisions = self.decisions.groupby(group, sort=True)[["count", "contribution_sum"]]
            pooled.decisions = decisions.sum().reset_index().assign(point=0, scenario=self.name)
        return pooled

    # ------------------------------------------------------------------ other tables

    @cached_property
    def trajectories(self) -> pd.DataFrame:
        return read_table(self.path, TRAJECTORIES)

    @cached_property
    def decisions(self) -> pd.DataFrame:
        return read_table(self.path, DECISIONS)

    # ------------------------------------------------------------------ statistics

    def summary(self) -> dict[str, Any]:
        """The saved summary (recomputed from the outcomes if the file is missing)."""
        path = self.path / SUMMARY_JSON
        if path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                raise ResultsFolderError(f"{path}: unreadable summary") from None
            # only if it describes these very outcomes; otherwise it is computed again
            if saved.get("n") == len(self.outcomes) and saved.get(
                "config_hash"
            ) == self.manifest.get("config_hash"):
                return saved
        points = point_table(self.outcomes, self.parameters)
        designed = self.manifest.get("design") != "sample"
        return summarize_run(self.outcomes, self.parameters, points, designed)

    def summary_markdown(self) -> str:
        return summary_markdown(self.summary(), f"Outcomes: {self.name}")

    def paired_with(self, other: Results) -> bool:
        """Runs share random numbers (same master seed) and can be compared run by run."""
        return self.manifest.get("master_seed") == other.manifest.get("master_seed")

    def compare(self, other: Results) -> pd.DataFrame:
        """Other minus self for every numeric and boolean outcome, one row per field.

        Paired by replication when both runs used the same master seed (common random
        numbers), otherwise an independent-samples comparison.
        """
        if self.outcomes.point.nunique() > 1 or other.outcomes.point.nunique() > 1:
            raise ResultsFolderError(
                "compare takes two single-scenario runs; a sweep's summary already holds "
                "paired comparisons of its points"
            )
        fields = [
            f
            for f in self.fields
            if f in other.outcomes.columns
            and stats.field_kind(self.outcomes[f]) in ("proportion", "numeric")
        ]
        try:
            if self.paired_with(other):
                rows = stats.compare(self.outcomes, other.outcomes, fields)
            else:
                rows = {
                    f: stats.independent_difference(self.outcomes, other.outcomes, f)
                    for f in fields
                }
        except ValueError as exc:
            raise ResultsFolderError(
                f"cannot compare {self.path} with {other.path}: {exc}"
            ) from None
        table = pd.DataFrame(rows.values())
        table["paired"] = self.paired_with(other)
        return table

    def compare_markdown(self, other: Results) -> str:
        table = self.compare(other)
        paired = bool(table["paired"].iloc[0]) if len(table) else False
        how = (
            "paired by replication (same master seed: common random numbers)"
            if paired
            else "independent samples (different master seeds), Welch intervals"
        )
        comparison = {
            "reference": {"scenario": f"{self.name} ({self.path})", "parameters": {}},
            "point": {"scenario": f"{other.name} ({other.path})", "parameters": {}},
            "differences": {row["field"]: row for row in table.to_dict("records")},
        }
        lines = [f"# {other.name} compared with {self.name}", "", f"Comparison: {how}.", ""]
        lines += comparison_markdown([comparison])
        return "\n".join(lines).rstrip() + "\n"

    # ------------------------------------------------------------------ figures
    # Thin wrappers around sim.output.plots: each returns a matplotlib Figure (Agg, no pyplot).

    def plot_outcome(self, field: str) -> Figure:
        """Histogram (bars for booleans, categories and ladders) of one outcome field."""
        from sim.output import plots

        return plots.outcome_figure(self, field)

    def plot_support_ladder(self) -> Figure:
        """Russia's and China's highest support level side by side on the 0-7 ladder."""
        from sim.output import plots

        return plots.support_ladder_figure(self)

    def plot_end_states(self) -> Figure:
        """How (settlement, ceasefire, regime collapse, horizon) and when the crisis ends."""
        from sim.output import plots

        return plots.end_states_figure(self)

    def plot_fan(self, variable: str = "escalation", active_only: bool = False) -> Figure:
        """Median and 50/90 % bands of a trajectory variable (escalation, oil_price, ...)."""
        from sim.output import plots

        return plots.fan_figure(self, variable, active_only=active_only)

    def plot_first_events(self) -> Figure:
        """Cumulative incidence of the first war turn, covert support and Hormuz closure."""
        from sim.output import plots

        return plots.first_events_figure(self)

    def plot_factors(self, actor: str = "russia", menu: str = "main") -> Figure:
        """Which factors pushed a great power towards or away from each rung it chose."""
        from sim.output import plots

        return plots.factors_figure(self, actor, menu)

    def plot_key_probabilities(self) -> Figure:
        """Headline probabilities (war, support rungs, intervention, ...) with intervals."""
        from sim.output import plots

        return plots.key_probabilities_figure(self)

    def plot_compare(self, other: Results) -> Figure:
        """Other minus this run for every outcome, with the intervals of `compare`."""
        from sim.output import plots

        return plots.comparison_figure(self, other)

    def figures(self) -> dict[str, Figure]:
        """Every figure of the run by file name (as `wargame plot` writes them)."""
        from sim.output import plots

        specs, _ = plots.figure_specs(self)
        return {spec.name: spec.draw() for spec in specs}

    def save_plots(
        self,
        folder: str | Path | None = None,
        formats: tuple[str, ...] = ("png", "svg"),
        dpi: int = 150,
    ) -> list[Path]:
        """Write every figure into `folder` (default: the run's plots/); returns the files."""
        from sim.output import plots

        paths, _ = plots.save_all(self, folder, formats, dpi)
        return paths

    def report(self, path: str | Path | None = None) -> Path:
        """Write the self-contained HTML report (default: the run's report.html)."""
        from sim.output.report import write_report

        return write_report(self, path)
