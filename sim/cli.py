"""The `wargame` command line.

Commands import what they need when they run, so `wargame --help` and `wargame check` start
in a fraction of a second: nothing heavy (NumPy, SciPy, Mesa, pandas) is imported here.
"""

from __future__ import annotations

import json
import os
import sys
import time

import click

from sim.scenario.errors import WargameError
from sim.scenario.limits import MAX_REPLICATIONS, MAX_SEED, MAX_WORKERS

#: when the command started (perf_counter), for the end-to-end rate `wargame batch` prints
_started = time.perf_counter()
OVERRIDE_HELP = "Override a scenario value, e.g. --set context.sanctions_intensity=0.9"
PRIOR_HELP = "Run the uncalibrated model (the priors), not the calibrated posterior."


def with_prior(overrides: tuple[str, ...], prior: bool) -> tuple[str, ...]:
    """`--prior` is the override that tells the scenario to use no posterior."""
    return (*overrides, "calibration=prior") if prior else overrides


def plain(value):
    """Turn NumPy scalars into JSON-friendly Python values."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iran-crisis-wargame")
def cli() -> None:
    """Iran crisis wargame: can Tehran rely on Russia and China if war with the US breaks out?"""


@cli.command()
@click.argument("config")
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=None,
    help="Master seed (default: the scenario's).",
)
@click.option(
    "--replication",
    type=click.IntRange(0, MAX_REPLICATIONS - 1),
    default=0,
    show_default=True,
    help="Replication index.",
)
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print only the outcome record as JSON.")
@click.option("--prior", is_flag=True, help=PRIOR_HELP)
def run(
    config: str,
    seed: int | None,
    replication: int,
    overrides: tuple[str, ...],
    as_json: bool,
    prior: bool,
):
    """Play one replication of CONFIG and tell its story turn by turn."""
    from sim.engine.model import CrisisModel
    from sim.output.narrative import narrate
    from sim.scenario.config import load_scenario

    scenario = load_scenario(config, with_prior(overrides, prior))
    seed = scenario.experiment.seed if seed is None else seed
    model = CrisisModel(scenario, replication=replication, rng=seed, record_decisions=True).run()
    record = {k: plain(v) for k, v in model.outcome_frame().iloc[0].items()}
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    click.echo(narrate(model))
    click.echo("")
    click.echo(f"Outcome (seed {seed}, replication {replication}):")
    click.echo(outcome_lines(record, scenario))


def outcome_lines(record: dict, scenario) -> str:
    """The outcome record in words, each with its field name (as `--json` and `wargame discover
    --outcome` spell it), its value formatted as the summary formats it."""
    from sim.analysis import formatting
    from sim.analysis.labels import Labels

    labels = Labels.from_scenario(scenario)
    rows = []
    for key, value in record.items():
        shown = labels.category(value) if isinstance(value, str) else formatting.value(value)
        rows.append((labels.outcome(key), shown, key))
    words = max(len(row[0]) for row in rows)
    values = max(len(row[1]) for row in rows)
    return "\n".join(f"  {name:<{words}}  {shown:<{values}}  `{key}`" for name, shown, key in rows)


@cli.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
def check(config: str, overrides: tuple[str, ...]) -> None:
    """Validate a scenario file (and everything it extends), with its sweep if it has one."""
    from sim.analysis.labels import Labels
    from sim.scenario.config import load_scenario

    scenario = load_scenario(config, overrides)
    labels = Labels.from_scenario(scenario)
    actors = ", ".join(labels.label(actor) for actor in scenario.actors)
    design = ""
    experiment = scenario.experiment
    if experiment.grid or experiment.sample is not None or experiment.scenarios:
        from sim.scenario.experiment import design_size, make_plan

        make_plan(config, overrides, probe=True)
        scenarios = max(1, len(experiment.scenarios))
        design = f", {design_size(experiment, scenarios):,} sweep points"
    click.echo(
        f"{config}: ok - scenario '{scenario.name}', {scenario.horizon} turns, {actors}{design}"
    )


@cli.command()
@click.argument("config")
@click.option(
    "--runs", type=click.IntRange(1, MAX_REPLICATIONS), help="Replications per sweep point."
)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Master seed.")
@click.option(
    "--workers", type=click.IntRange(1, MAX_WORKERS), help="Worker processes [all cores]."
)
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786.")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [runs/NAME].")
@click.option(
    "--chunk-size", type=click.IntRange(1, MAX_REPLICATIONS), help="Replications per chunk."
)
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
@click.option("--progress/--no-progress", default=None, help="Progress bar [on a terminal].")
@click.option("--prior", is_flag=True, help=PRIOR_HELP)
def batch(
    config: str,
    runs: int | None,
    seed: int | None,
    workers: int | None,
    engine: str,
    scheduler: str | None,
    out: str | None,
    chunk_size: int | None,
    overrides: tuple[str, ...],
    progress: bool | None,
    prior: bool,
) -> None:
    """Run many seeded replications of CONFIG (and its sweeps) and summarise them.

    Rerunning the same command resumes an interrupted batch without redoing finished runs.
    """
    if engine == "local" and (workers or 0) > 1:
        from sim.batch.hygiene import process_context

        process_context()  # the workers' fork server imports the engine while this starts up
    from sim.batch.runfolder import SUMMARY_MD
    from sim.batch.runner import run_batch
    from sim.evidence.provenance import record_parameters

    overrides = with_prior(overrides, prior)
    report = run_batch(
        config,
        runs=runs,
        seed=seed,
        workers=workers,
        engine=engine,  # type: ignore[arg-type]
        scheduler=scheduler,
        out=out,
        overrides=overrides,
        chunk_size=chunk_size,
        show_progress=progress,
    )
    click.echo((report.folder / SUMMARY_MD).read_text(encoding="utf-8"))
    click.echo(record_parameters(config, overrides, report.folder))
    # From the prompt to the summary: start-up, computing, saving and summarising.
    elapsed = time.perf_counter() - _started
    # A rate is only worth printing when something was computed: "0 runs/s" says nothing.
    rate = (
        f" ({report.computed / elapsed:,.0f} runs/s, start-up and summary included)"
        if report.computed and elapsed > 0
        else ""
    )
    click.echo(
        f"{report.computed} runs computed, {report.reused} reused, in {elapsed:.1f} s"
        f"{rate}; results in {report.folder}"
    )


@cli.command()
@click.argument("folder", type=click.Path())
def summary(folder: str) -> None:
    """Print the summary of a finished batch folder again."""
    from sim.analysis.results import Results

    click.echo(Results.load(folder).summary_markdown())


@cli.command()
@click.argument("folder_a", type=click.Path())
@click.argument("folder_b", type=click.Path())
def compare(folder_a: str, folder_b: str) -> None:
    """Compare two batch folders: B minus A, paired by replication when the seeds agree."""
    from sim.analysis.results import Results

    a, b = Results.load(folder_a), Results.load(folder_b)
    click.echo(a.compare_markdown(b))


def _register_commands() -> None:
    from sim.classroom.commands import COMMANDS as CLASSROOM_COMMANDS
    from sim.evidence.commands import COMMANDS as EVIDENCE_COMMANDS
    from sim.output.commands import COMMANDS as REPORT_COMMANDS

    for command in [*REPORT_COMMANDS, *CLASSROOM_COMMANDS, *EVIDENCE_COMMANDS]:
        cli.add_command(command)


_register_commands()


def _process_age() -> float:
    """Seconds since this process started, the interpreter's own start-up included (Linux)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime") as uptime:
            started = int(stat.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
            return max(0.0, float(uptime.read().split()[0]) - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _usage_error(exc: click.ClickException) -> str:
    """Click's usage errors in the project's form: one line, and where to find help."""
    message = _one_line(exc.format_message())
    context = getattr(exc, "ctx", None)
    if context is not None:
        message += f" (see '{context.command_path} --help')"
    return message


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    global _started
    _started = time.perf_counter() - (_process_age() if argv is None else 0.0)
    try:
        cli.main(args=argv, prog_name="wargame", standalone_mode=False)
    except WargameError as exc:
        click.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except click.exceptions.Abort:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"error: {_usage_error(exc)}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # the reader went away (`wargame summary ... | head`)
        sys.stderr.close()
        sys.exit(1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
