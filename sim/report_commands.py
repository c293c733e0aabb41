"""Command-line entry points for figures and reports (registered on the `wargame` group)."""

from __future__ import annotations

import click

#: click commands added to `wargame` (plot, report)
COMMANDS: list[click.Command] = []
