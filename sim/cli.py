"""The `wargame` command line."""

from __future__ import annotations

import json
import sys

import click
import numpy as np

from sim.config import load_scenario
from sim.errors import WargameError

OVERRIDE_HELP = "Override a scenario value, e.g. --set context.sanctions_intensity=0.9"


def plain(value):
    """Turn NumPy scalars into JSON-friendly Python values."""
    if isinstance(value, np.generic):
        return value.item()
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iran-crisis-wargame")
def cli() -> None:
    """Iran crisis wargame: can Tehran rely on Russia and China if war with the US breaks out?"""


@cli.command()
@click.argument("config")
@click.option("--seed", type=int, default=None, help="Master seed (default: the scenario's).")
@click.option("--replication", type=int, default=0, show_default=True, help="Replication index.")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print only the outcome record as JSON.")
def run(config: str, seed: int | None, replication: int, overrides: tuple[str, ...], as_json: bool):
    """Play one replication of CONFIG and tell its story turn by turn."""
    from sim.model import CrisisModel
    from sim.narrative import narrate

    scenario = load_scenario(config, overrides)
    seed = scenario.experiment.seed if seed is None else seed
    model = CrisisModel(scenario, replication=replication, rng=seed, record_decisions=True).run()
    record = {k: plain(v) for k, v in model.outcome_frame().iloc[0].items()}
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    click.echo(narrate(model))
    click.echo("")
    click.echo(f"Outcome (seed {seed}, replication {replication}):")
    width = max(len(k) for k in record)
    for key, value in record.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        click.echo(f"  {key:<{width}}  {shown}")


@cli.command()
@click.argument("config")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
def check(config: str, overrides: tuple[str, ...]) -> None:
    """Validate a scenario file (and everything it extends)."""
    scenario = load_scenario(config, overrides)
    actors = ", ".join(scenario.actors)
    click.echo(f"{config}: ok - scenario '{scenario.name}', {scenario.horizon} turns, {actors}")


def _register_commands() -> None:
    from sim.classroom.commands import COMMANDS as CLASSROOM_COMMANDS

    for command in CLASSROOM_COMMANDS:
        cli.add_command(command)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="wargame", standalone_mode=False)
    except WargameError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
