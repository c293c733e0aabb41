"""Command-line entry points for figures and reports (registered on the `wargame` group)."""

from __future__ import annotations

from pathlib import Path

import click

FORMATS = ("png", "svg")


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

    Outcome histograms, the support ladder, end states, fan charts, time to first event and
    the factors behind each great power's choices; sweeps and scenario lists get one row or
    panel per point.
    """
    from sim.analysis.results import Results
    from sim.output.plots import save_all

    results = Results.load(folder)
    target = Path(out) if out else Path(folder) / "plots"
    paths, notes = save_all(results, target, formats or FORMATS, dpi)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    figures = len({p.stem for p in paths})
    click.echo(f"{figures} figures ({len(paths)} files) in {target}")


@click.command("report")
@click.argument("folder", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="The HTML file [FOLDER/report.html].")
def report(folder: str, out: str | None) -> None:
    """Write a self-contained HTML report of a finished batch FOLDER and print its path.

    The question, the scenario, the summary table with intervals, every figure, the
    convergence note and the manifest, in one file that opens offline.
    """
    from sim.analysis.results import Results
    from sim.output.report import write_report

    path = write_report(Results.load(folder), out)
    click.echo(str(path))


#: click commands added to `wargame` (plot, report)
COMMANDS: list[click.Command] = [plot, report]
