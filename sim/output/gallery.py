"""The gallery: which figures a run has, and writing them with a cache so that unchanged
figures are not redrawn.

Each figure is keyed by a hash of its inputs (`sim.output.fingerprint`): the run's tables and
resolved configuration, the code that draws it, its name and dpi. `plots/.gallery.json` keeps
the inputs' fingerprint, the notes and the key, formats and title of each figure written; a
figure whose key is unchanged and whose files exist is skipped, files of figures the run no
longer has are removed, so nothing stale survives a rerun. The report embeds the same PNG
files, and `wargame plot` reads the record before loading the run: when nothing changed it has
nothing to load.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis import measures
from sim.analysis.labels import readable
from sim.analysis.results import Results
from sim.batch.runfolder import (
    DECISIONS,
    OUTCOMES,
    TRAJECTORIES,
    atomic_write_bytes,
    atomic_write_text,
)
from sim.output import fingerprint
from sim.output.fingerprint import CACHE
from sim.scenario.errors import WargameError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: called with (index, total, figure name, drawn or reused) while the gallery works
Progress = Callable[[int, int, str, bool], None]


@dataclass(frozen=True)
class FigureSpec:
    """One figure of a run: its file name, report section, title and how to draw it."""

    name: str
    section: str
    title: str
    draw: Callable[[], Any]


#: sweeps with more points than this are drawn pooled (one panel per point would be unreadable)
MAX_PLOTTED_POINTS = 12


def figure_specs(results: Results) -> tuple[list[FigureSpec], list[str]]:
    """Every figure a run supports, and notes on the ones it cannot have (missing tables).

    Nothing is drawn (nor matplotlib imported) until a spec's `draw` is called, so a gallery
    whose figures are all unchanged costs only the look-up.
    """
    specs: list[FigureSpec] = []
    notes: list[str] = []
    specs += _sweep_specs(results)
    points = results.outcomes["point"].nunique()
    if points > MAX_PLOTTED_POINTS:
        notes.append(
            f"one panel per point for {points} sweep points: the figures pool them "
            "(summary.md has each point's numbers)"
        )
        results = results.pooled()
    columns = results.outcomes.columns
    labels = results.labels
    specs.append(
        FigureSpec(
            "key_probabilities",
            "overview",
            "Key probabilities",
            lambda: key_probabilities_figure(results),
        )
    )
    if any(f"{p}_max_support" in columns for p in measures.GREAT_POWERS):
        specs.append(
            FigureSpec(
                "support_ladder",
                "overview",
                "Highest support level",
                lambda: support_ladder_figure(results),
            )
        )
    if "end_state" in columns:
        specs.append(
            FigureSpec("end_states", "overview", "End states", lambda: end_states_figure(results))
        )
    if results.has_trajectories:
        trajectory_columns = set(results.trajectories.columns)
        for variable in ("escalation", "russia_support", "china_support"):
            if variable in trajectory_columns:
                specs.append(
                    FigureSpec(
                        f"over_time_{variable}",
                        "trajectories",
                        f"Over time: {labels.trajectory(variable)[1]}",
                        lambda v=variable: rung_shares_figure(results, v),
                    )
                )
        for variable in ("oil_price", "china_imports_kbd", "iran_stability"):
            if variable in trajectory_columns:
                specs.append(
                    FigureSpec(
                        f"fan_{variable}",
                        "trajectories",
                        f"Over time: {labels.trajectory(variable)[1]}",
                        lambda v=variable: fan_figure(results, v),
                    )
                )
        specs.append(
            FigureSpec(
                "first_events",
                "trajectories",
                "Time to first event",
                lambda: first_events_figure(results),
            )
        )
    else:
        notes.append(f"no {TRAJECTORIES}: fan charts and time-to-event curves skipped")
    if results.has_decisions:
        decisions = results.decisions
        for power in measures.GREAT_POWERS:
            menus = list(dict.fromkeys(decisions.loc[decisions["actor"] == power, "menu"]))
            for menu in sorted(menus, key=lambda m: (m != "main", m)):
                specs.append(
                    FigureSpec(
                        f"factors_{power}" + ("" if menu == "main" else f"_{menu}"),
                        "factors",
                        f"Factors behind {labels.whose(power)} {readable(menu)} choices",
                        lambda p=power, m=menu: factors_figure(results, p, m),
                    )
                )
    else:
        notes.append(f"no {DECISIONS}: factor contributions skipped")
    constant = []
    for name in results.fields:
        if measures.is_constant(results.outcomes[name]):
            constant.append(labels.outcome(name))
            continue
        specs.append(
            FigureSpec(
                f"outcome_{name}",
                "outcomes",
                labels.outcome(name)[:1].upper() + labels.outcome(name)[1:],
                lambda f=name: outcome_figure(results, f),
            )
        )
    if constant:
        notes.append(
            "no figure for outcomes with the same value in every replication: "
            + "; ".join(constant)
        )
    return specs, notes


# The figure functions, imported when a figure is drawn (matplotlib is slow to import).


def key_probabilities_figure(results: Results) -> Figure:
    from sim.output.figures.outcomes import key_probabilities_figure

    return key_probabilities_figure(results)


def support_ladder_figure(results: Results) -> Figure:
    from sim.output.figures.support import support_ladder_figure

    return support_ladder_figure(results)


def end_states_figure(results: Results) -> Figure:
    from sim.output.figures.outcomes import end_states_figure

    return end_states_figure(results)


def outcome_figure(results: Results, name: str) -> Figure:
    from sim.output.figures.outcomes import outcome_figure

    return outcome_figure(results, name)


def rung_shares_figure(results: Results, variable: str) -> Figure:
    from sim.output.figures.over_time import rung_shares_figure

    return rung_shares_figure(results, variable)


def fan_figure(results: Results, variable: str) -> Figure:
    from sim.output.figures.over_time import fan_figure

    return fan_figure(results, variable)


def first_events_figure(results: Results) -> Figure:
    from sim.output.figures.over_time import first_events_figure

    return first_events_figure(results)


def factors_figure(results: Results, actor: str, menu: str) -> Figure:
    from sim.output.figures.factors import factors_figure

    return factors_figure(results, actor, menu)


def heatmap_figure(results: Results, expression: str) -> Figure:
    from sim.output.figures.sweeps import heatmap_figure

    return heatmap_figure(results, expression)


def inputs_figure(results: Results, expression: str) -> Figure:
    from sim.output.figures.sweeps import inputs_figure

    return inputs_figure(results, expression)


def _sweep_specs(results: Results) -> list[FigureSpec]:
    """Heat maps for a two-parameter grid; outcome against each input for a sampled design."""
    from sim.analysis import sweeps

    if sweeps.grid_parameters(results) is not None:
        draw, kind = heatmap_figure, "heatmap"
    elif results.parameters and results.manifest.get("design") == "sample":
        draw, kind = inputs_figure, "inputs"
    else:
        return []
    return [
        FigureSpec(
            f"{kind}_{sweeps.slug(expression)}",
            "sweeps",
            sweeps.outcome_words(expression, results.labels, set(results.fields)),
            lambda e=expression: draw(results, e),
        )
        for expression in sweeps.default_outcomes(results)
    ]


def save_figure(
    figure: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 150
) -> list[Path]:
    """Write `stem.png` and `stem.svg` (laid out once, each written whole, moved into place)."""
    from sim.output.style import figure_files

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, payload in figure_files(figure, formats, dpi).items():
        path = stem.with_name(f"{stem.name}.{fmt}")
        atomic_write_bytes(path, payload, durable=False)  # made again if ever lost
        paths.append(path)
    return paths


def input_key(results: Results) -> str:
    """A hash of everything a run's figures are drawn from (tables, configuration, code).

    For a results folder, its files (what `wargame plot` checks before loading anything); for
    results made in memory (`Results.from_model`), the tables themselves.
    """
    folder = Path(results.path)
    if "config_hash" in results.manifest and (folder / OUTCOMES).is_file():
        return fingerprint.figure_inputs(folder, results.manifest)
    import pandas as pd

    digest = hashlib.sha256(fingerprint.code_key().encode())
    tables = [results.outcomes]
    tables += [results.trajectories] if results.has_trajectories else []
    tables += [results.decisions] if results.has_decisions else []
    for table in tables:
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, table.columns)).encode())
    fingerprint.add_manifest_fields(digest, results.manifest)
    return digest.hexdigest()


def save_all(
    results: Results,
    folder: str | Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 150,
    progress: Progress | None = None,
    workers: int | None = None,
    specs: tuple[list[FigureSpec], list[str]] | None = None,
) -> tuple[list[Path], list[str]]:
    """Draw (or reuse) and save every figure of a run into `folder` (default: its `plots/`).

    Returns the files of every figure and the notes on figures the run cannot have. Figures
    whose inputs are unchanged are not redrawn; figures the run no longer has, and files of a
    redrawn figure in formats not drawn this time, are removed. Several figures are drawn by
    `workers` processes at once (default: up to two). `specs`: the run's `figure_specs`, when
    the caller has them already.
    """
    if results.outcomes.empty:
        raise WargameError(f"{results.path}: the outcome table holds no replications")
    target = Path(folder) if folder is not None else Path(results.path) / "plots"
    target.mkdir(parents=True, exist_ok=True)
    formats = tuple(formats)
    specs, notes = specs or figure_specs(results)
    inputs = input_key(results)
    cache = fingerprint.read_gallery(target).get("figures", {})
    written: dict[str, dict] = {}
    paths: list[Path] = []
    todo = []
    for spec in specs:
        key = fingerprint.figure_key(inputs, spec.name, dpi)
        files = [target / f"{spec.name}.{fmt}" for fmt in formats]
        entry = cache.get(spec.name)
        if fingerprint.is_current(entry, key, formats, files):
            written[spec.name] = entry
        else:
            todo.append(spec)
            written[spec.name] = {"key": key, "formats": list(formats), "title": spec.title}
            for fmt in set((entry or {}).get("formats") or []) - set(formats):
                (target / f"{spec.name}.{fmt}").unlink(missing_ok=True)  # not redrawn: stale
        paths += files
    reused = len(specs) - len(todo)
    if progress is not None:
        for index, spec in enumerate(s for s in specs if s not in todo):
            progress(index + 1, len(specs), spec.name, False)
    names = _draw(results, todo, target, formats, dpi, workers)
    for index, name in enumerate(names, start=reused + 1):
        if progress is not None:
            progress(index, len(specs), name, True)
    for name, entry in cache.items():  # figures this run no longer has
        if name not in written:
            for fmt in (entry or {}).get("formats", []):
                (target / f"{name}.{fmt}").unlink(missing_ok=True)
    record = {"inputs": inputs, "notes": notes, "figures": written}
    atomic_write_text(target / CACHE, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return paths, notes


#: what a forked drawing process works on (set before the fork, inherited by the children)
_WORK: dict[str, Any] = {}


def _draw_named(name: str) -> str:
    """In a drawing process: draw the figure called `name` and write its files."""
    save_figure(_WORK["specs"][name].draw(), _WORK["target"] / name, _WORK["formats"], _WORK["dpi"])
    return name


#: the figure families that take longest to draw, started first so that two processes end
#: together
_SLOW_FIRST = ("factors_", "end_states", "fan_", "over_time_", "first_events", "key_", "support_")


def _draw(results, todo, target, formats, dpi, workers) -> Iterator[str]:
    """Draw `todo`, yielding each name when its files are written: in this process for a
    few figures, else in forked processes (figures are independent and deterministic)."""
    import os

    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or len(todo) < 4 or sys.platform == "win32":
        for spec in todo:
            save_figure(spec.draw(), target / spec.name, formats, dpi)
            yield spec.name
        return
    import gc
    import multiprocessing
    import warnings

    import scipy.special  # noqa: F401  (the intervals some figures draw)

    import sim.output.figures.factors
    import sim.output.figures.outcomes
    import sim.output.figures.over_time
    import sim.output.figures.support
    import sim.output.figures.sweeps  # noqa: F401  (imported once here, not in every process)

    def rank(spec: FigureSpec) -> int:
        starts = [i for i, p in enumerate(_SLOW_FIRST) if spec.name.startswith(p)]
        return starts[0] if starts else len(_SLOW_FIRST)

    _WORK.clear()
    _WORK.update(specs={s.name: s for s in todo}, target=target, formats=tuple(formats), dpi=dpi)
    gc.freeze()  # the collector leaves what the processes share alone: fewer pages copied
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with library threads
        pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield from pool.imap_unordered(_draw_named, [s.name for s in sorted(todo, key=rank)])
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
        _WORK.clear()
