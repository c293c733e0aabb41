"""Command-line entry points for figures and reports (registered on the `wargame` group)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

FORMATS = ("png", "svg")


class ProgressLine:
    """One line on stderr that says which figure is being drawn (on a terminal only)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.live = sys.stderr.isatty()
        self.drawn = 0
        self.started = time.perf_counter()

    def loading(self) -> None:
        if self.live:
            click.echo(f"\r{self.what}: reading the results", nl=False, err=True)

    def __call__(self, index: int, total: int, name: str, drawing: bool) -> None:
        self.drawn += drawing
        if self.live:
            verb = "drawing" if drawing else "unchanged"
            line = f"{self.what}: figure {index}/{total} ({verb}: {name})"
            click.echo(f"\r{line[:100]:<100}", nl=False, err=True)

    def done(self, total: int) -> str:
        if self.live:
            click.echo("\r" + " " * 100 + "\r", nl=False, err=True)
        elapsed = time.perf_counter() - self.started
        return f"{self.drawn} drawn, {total - self.drawn} unchanged, in {elapsed:.1f} s"


@click.command("plot")
@click.argument("folder", type=click.Path())
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder for the figures [FOLDER/plots]."
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="Figure format; repeat for several [png and svg].",
)
@click.option(
    "--dpi", type=click.IntRange(min=50, max=600), default=150, show_default=True, help="PNG dpi."
)
def plot(folder: str, out: str | None, formats: tuple[str, ...], dpi: int) -> None:
    """Draw every figure of a finished batch FOLDER into FOLDER/plots (PNG and SVG).

    The key probabilities, the support ladder, end states, rung shares and fans over time,
    time to first event, the factors behind each great power's choices and every outcome;
    sweeps get heat maps or one row per point. Figures whose inputs have not changed are
    not redrawn.
    """
    from sim.output.fingerprint import current_gallery

    target = Path(out) if out else Path(folder) / "plots"
    formats = formats or FORMATS
    progress = ProgressLine("plot")
    record = current_gallery(Path(folder), target, formats, dpi)
    if record is not None:  # nothing changed: nothing to load or draw
        notes, figures = record.get("notes") or [], len(record["figures"])
    else:
        from sim.analysis.results import Results
        from sim.output.gallery import save_all

        progress.loading()
        paths, notes = save_all(Results.load(folder), target, formats, dpi, progress)
        figures = len({p.stem for p in paths})
    for note in notes:
        click.echo(f"note: {note}", err=True)
    files = figures * len(formats)
    click.echo(f"{figures} figures ({files} files) in {target}: {progress.done(figures)}")


@click.command("report")
@click.argument("folder", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="The HTML file [FOLDER/report.html].")
def report(folder: str, out: str | None) -> None:
    """Write a self-contained HTML report of a finished batch FOLDER and print its path.

    The answer to the question, the scenario, the summary table with intervals, every figure
    (reused from FOLDER/plots when unchanged), the convergence note and the manifest, in one
    file that opens offline.
    """
    from sim.output.fingerprint import REPORT, current_report

    target = Path(out) if out else Path(folder) / REPORT
    if not current_report(Path(folder), target):  # else made from these very files already
        from sim.analysis.results import Results
        from sim.output.report import write_report

        progress = ProgressLine("report")
        progress.loading()
        write_report(Results.load(folder), target, progress=progress)
        progress.done(0)
    click.echo(str(target))


@click.command("discover")
@click.argument("folder", type=click.Path())
@click.option(
    "--outcome",
    "expression",
    required=True,
    metavar="EXPR",
    help="A condition over outcome fields, e.g. 'russia_max_support >= 3' or 'war'.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the feature scores.")
def discover(folder: str, expression: str, seed: int) -> None:
    """Scenario discovery on a sweep FOLDER: which inputs lead to the outcome EXPR (PRIM).

    Writes FOLDER/discover.json (the boxes: limits, coverage, density) and
    FOLDER/plots/discover.png and .svg, and prints the boxes in words.
    """
    from sim.analysis import discovery
    from sim.analysis.results import Results
    from sim.output.figures.sweeps import discovery_figure
    from sim.output.gallery import save_figure

    results = Results.load(folder)
    found = discovery.discover(results, expression, seed)
    path = discovery.write(results, found)
    figures = save_figure(
        discovery_figure(found, results.name), results.path / "plots" / "discover"
    )
    click.echo(discovery.markdown(found))
    click.echo(f"saved in {path} and {figures[0].parent}")


@click.command("sensitivity")
@click.argument("folder", type=click.Path())
@click.option(
    "--outcome", "outcomes", multiple=True, metavar="FIELD", help="Outcome to analyse [key ones]."
)
def sensitivity(folder: str, outcomes: tuple[str, ...]) -> None:
    """Global sensitivity (Sobol or Morris) of a batch run with a sobol or morris sample.

    Prints each index with its bootstrap interval, and warns loudly when the design is too
    small for stable indices.
    """
    from sim.analysis import sensitivity as analysis
    from sim.analysis.results import Results
    from sim.output.figures.sweeps import sensitivity_figure
    from sim.output.gallery import save_figure

    results = Results.load(folder)
    indices = analysis.analyse(results, outcomes, seed=int(results.manifest.get("master_seed", 0)))
    analysis.write(results, indices)
    for field, values in indices["outcomes"].items():
        if "constant" not in values:
            figure = sensitivity_figure(indices, field, results.name, results.labels)
            save_figure(figure, results.path / "plots" / f"sensitivity_{field}", ("png",))
    click.echo(analysis.markdown(indices, results.name, results.labels))
    for warning in indices.get("warnings", []):
        click.echo(f"warning: too small a design for stable indices: {warning}", err=True)
    click.echo(f"saved in {results.path / 'sensitivity.md'} and {results.path / 'plots'}")


#: click commands added to `wargame` (plot, report, discover, sensitivity)
COMMANDS: list[click.Command] = [plot, report, discover, sensitivity]


@click.command("viz")
@click.argument("config")
@click.option("--port", type=click.IntRange(1024, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def viz(config: str, port: int, host: str, seed: int) -> None:
    """Step one replication of CONFIG turn by turn in the browser (Mesa's SolaraViz).

    The escalation ladder, each actor's move with its factor contributions, the world state
    over time, and sliders for the context to replay the crisis under other conditions.
    """
    import os
    import warnings

    from sim.scenario.config import load_scenario, resolve_path
    from sim.serving import check_port, link_host, serve

    load_scenario(config)  # a bad scenario is a one-line error before the server starts
    check_port(host, port)
    # Solara's server, run here rather than by `solara run`: the page is `viz.py`, and no
    # version notice, start-up banner or usage statistics (Solara's telemetry) of its own.
    os.environ["WARGAME_VIZ_CONFIG"] = str(resolve_path(config).resolve())
    os.environ["WARGAME_VIZ_SEED"] = str(seed)
    os.environ["SOLARA_APP"] = str(Path(__file__).with_name("viz.py"))
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_MODE", "production")
    # a page on plain http sets a lax session cookie, as it should: not worth a warning per visit
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    click.echo(f"serving {config} on http://{link_host(host)}:{port} (Ctrl-C stops)")
    serve("solara.server.starlette:app", host, port)


COMMANDS.append(viz)
