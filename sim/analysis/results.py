"""A finished batch as a Python object, for notebooks: outcomes, summaries, comparisons.

>>> from sim.analysis.results import Results
>>> base = Results.load("runs/baseline")
>>> base.outcomes.groupby("war").russia_max_support.mean()
>>> base.summary()["outcomes"]["war"]          # {"p": ..., "ci": [...], "n": ...}
>>> base.compare(Results.load("runs/ukraine_ceasefire"))
>>> base.headline()["text"]                    # the answer to the question, in words
>>> from sim.output import plots               # figures take a Results:
>>> plots.support_ladder_figure(base)

`Results` holds data only; figures and the report (`sim.output`) take it, never the reverse.
A model run in memory becomes one with `Results.from_model(model)`.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.analysis import stats
from sim.analysis.labels import Labels
from sim.analysis.summary import (
    comparison_markdown,
    outcome_fields,
    point_table,
    summarize_run,
    summary_markdown,
    verdict,
)
from sim.batch.runfolder import (
    CONFIG,
    DECISIONS,
    OUTCOMES,
    SUMMARY_JSON,
    TRAJECTORIES,
    ResultsFolderError,
    read_manifest,
    read_table,
)

if TYPE_CHECKING:
    from sim.engine.model import CrisisModel
    from sim.scenario.config import Scenario


class Results:
    """The tables and metadata of one results folder (or of a model run in memory)."""

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        outcomes: pd.DataFrame,
        labels: Labels | None = None,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.outcomes = outcomes
        if labels is not None:
            self.labels = labels

    @classmethod
    def from_model(cls, model: CrisisModel, name: str | None = None) -> Results:
        """The results of a model run in memory (no folder): outcomes, trajectories, decisions.

        >>> model = CrisisModel(load_scenario("configs/baseline.yaml"), 200, rng=1).run()
        >>> Results.from_model(model)          # shows a summary table in a notebook
        """
        scenario = model.crisis
        label = name or scenario.name

        def tag(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.copy()
            frame.insert(0, "scenario", label)
            frame.insert(0, "point", 0)
            return frame

        manifest = {"name": label, "parameters": [], "design": "single", "status": "complete"}
        results = cls(
            Path("."), manifest, tag(model.outcome_frame()), Labels.from_scenario(scenario, label)
        )
        results.trajectories = tag(model.trajectory_frame())
        pool = getattr(model, "decision_pool", None)
        if pool is not None:
            results.decisions = tag(pool.frame())
        return results

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

    @cached_property
    def scenario(self) -> Scenario:
        """The run's validated scenario (the first point's, for a sweep or scenario list)."""
        from pydantic import ValidationError

        from sim.scenario.config import Scenario

        try:
            return Scenario.model_validate(next(iter(self._trees().values())))
        except ValidationError as exc:
            raise self._config_error(exc) from None

    def _trees(self) -> dict[str, dict]:
        """The resolved scenario of each distinct scenario of the run, from config.yaml."""
        file = self.path / CONFIG
        try:
            resolved = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER)
        except (OSError, yaml.YAMLError):
            raise ResultsFolderError(f"{file}: missing or unreadable configuration") from None
        points = resolved.get("points") if isinstance(resolved, dict) else None
        if not points:
            raise ResultsFolderError(f"{file}: points: expected each point's scenario")
        trees: dict[str, dict] = {}
        for point in points:
            trees.setdefault(str(point.get("scenario")), point.get("config") or {})
        return trees

    def _config_error(self, exc) -> ResultsFolderError:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return ResultsFolderError(f"{self.path / CONFIG}: {where}: {error['msg']}")

    @cached_property
    def labels(self) -> Labels:
        """Ladder, actor and outcome words from the validated configuration of the run."""
        from pydantic import ValidationError

        trees = self._trees()
        first = next(iter(trees.values()))
        descriptions = {k: str(t.get("description") or "") for k, t in trees.items()}
        try:
            return Labels.from_tree(first, self.name, descriptions if len(trees) > 1 else {})
        except ValidationError as exc:
            raise self._config_error(exc) from None

    @property
    def has_trajectories(self) -> bool:
        return "trajectories" in self.__dict__ or (self.path / TRAJECTORIES).is_file()

    @property
    def has_decisions(self) -> bool:
        return "decisions" in self.__dict__ or (self.path / DECISIONS).is_file()

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
        The swept inputs are left out: pooled, they are the design, not outcomes.
        """
        outcomes = self.outcomes.drop(columns=self.parameters).assign(point=0, scenario=self.name)
        pooled = Results(self.path, {**self.manifest, "parameters": []}, outcomes, self.labels)
        if self.has_trajectories:
            # distinct replication ids per point, so no two runs are merged into one
            trajectories = self.trajectories
            runs = int(trajectories["replication"].max()) + 1 if len(trajectories) else 0
            pooled.trajectories = trajectories.assign(
                replication=trajectories["point"] * runs + trajectories["replication"],
                point=0,
                scenario=self.name,
            )
        if self.has_decisions:
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
            except (OSError, ValueError):  # damaged: computed again below
                saved = None
            # only if it describes these very outcomes; otherwise it is computed again
            if (
                isinstance(saved, dict)
                and saved.get("n") == len(self.outcomes)
                and saved.get("config_hash") == self.manifest.get("config_hash")
            ):
                return saved
        points = point_table(self.outcomes, self.parameters)
        designed = self.manifest.get("design") != "sample"
        summary = summarize_run(self.outcomes, self.parameters, points, designed)
        return {"headline": verdict(self.outcomes, self.labels, self.parameters), **summary}

    def summary_markdown(self) -> str:
        return summary_markdown(self.summary(), f"Outcomes: {self.name}", self.labels)

    def headline(self) -> dict[str, Any]:
        """The answer to the question in words, with intervals (see `sim.analysis.headline`)."""
        saved = self.summary().get("headline")
        return saved or verdict(self.outcomes, self.labels, self.parameters)

    def _repr_html_(self) -> str:
        """A notebook shows the verdict and the summary table."""
        from sim.analysis.notebook import results_html

        return results_html(self)

    def paired_with(self, other: Results) -> bool:
        """Runs share random numbers (same master seed) and can be compared run by run."""
        return self.manifest.get("master_seed") == other.manifest.get("master_seed")

    def compare(self, other: Results) -> pd.DataFrame:
        """Other minus self for every numeric and boolean outcome, one row per field.

        Paired by replication when both runs used the same master seed (common random
        numbers), otherwise an independent-samples comparison.
        """
        for results in (self, other):
            if results.outcomes.point.nunique() > 1:
                raise ResultsFolderError(
                    f"{results.path}: compare takes two single-scenario runs, and this is a "
                    "sweep (its summary already holds paired comparisons of its points)"
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
        lines += comparison_markdown([comparison], self.labels)
        return "\n".join(lines).rstrip() + "\n"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
