"""`wargame validate` and `wargame calibrate`: thin wrappers; the work is in sim.evidence.stage."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("episodes", nargs=-1)
@click.option(
    "--out", type=click.Path(file_okay=False), default="runs/validation", show_default=True
)
@click.option(
    "--runs",
    "replications",
    type=click.IntRange(min=10),
    default=400,
    show_default=True,
    help="Replications per episode.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--prior", is_flag=True, help="Validate the uncalibrated model.")
@click.option(
    "--library",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of episodes [configs/episodes].",
)
def validate(
    episodes: tuple[str, ...],
    out: str,
    replications: int,
    seed: int,
    prior: bool,
    library: str | None,
) -> None:
    """Score the model on the episode library (all of configs/episodes/ unless EPISODES given)."""
    from sim.evidence.stage import validate as run_validation
    from sim.evidence.validation import headline

    root = Path(library) if library else None
    document = run_validation(episodes, Path(out), replications, seed, prior, root)
    click.echo(document["parameters"]["line"])
    click.echo(headline(document["overall"]))
    click.echo(f"results in {out}/validation.json, validation.md and plots/")


@click.command()
@click.argument("config")
@click.option(
    "--out", type=click.Path(file_okay=False), default="runs/calibration", show_default=True
)
@click.option(
    "--install",
    is_flag=True,
    help="Also write the posterior to configs/model/posterior/ (what scenarios use).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local processes, one episode each [all cores].",
)
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786.")
def calibrate(
    config: str, out: str, install: bool, workers: int | None, scheduler: str | None
) -> None:
    """Calibrate the model's uncertain parameters to the episode library described by CONFIG.

    Rerunning the same command reuses the episodes an interrupted run had finished.
    """
    from sim.evidence.stage import run_calibration

    def progress(name: str, reused: bool) -> None:
        click.echo(f"  {name}: {'reused' if reused else 'simulated'}", err=True)

    import os

    workers = workers or os.cpu_count() or 1
    meta = run_calibration(
        config,
        Path(out),
        install=install,
        progress=progress,
        workers=workers,
        scheduler=scheduler,
    )
    d = meta["diagnostics"]
    click.echo(
        f"posterior: {d['particles']} particles, effective sample size "
        f"{d['effective_sample_size']}; {meta['headline']}"
    )
    moved = [k for k, v in meta["parameters"].items() if v["moved"]]
    click.echo(f"moved by the evidence: {', '.join(moved) or 'none'}")
    click.echo(f"results in {out}" + (" and configs/model/posterior/" if install else ""))


COMMANDS = [validate, calibrate]
