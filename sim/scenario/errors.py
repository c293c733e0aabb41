"""Errors that reach the user as one line, never as a traceback."""

from __future__ import annotations


class WargameError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


class ConfigError(WargameError):
    """A scenario file that cannot be used: names the file, the field path, the line and why."""

    def __init__(self, file: str, field: str | None, expected: str, line: int | None = None):
        self.file = file
        self.field = field
        self.expected = expected
        self.line = line
        where = file if line is None else f"{file}:{line}"
        what = f" {field}:" if field else ""
        super().__init__(one_line(f"{where}:{what} {expected}"))


def one_line(text: str) -> str:
    """A message kept on one line: line breaks in a key or a value are shown escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")
