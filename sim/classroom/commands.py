"""Command-line entry points of the classroom mode (registered on the `wargame` group)."""

from __future__ import annotations

import click

#: click commands added to `wargame` (play, classroom, brief)
COMMANDS: list[click.Command] = []
