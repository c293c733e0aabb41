"""Join tokens and join codes: made here, stored hashed in the game file, kept in clear only in a
secrets file beside it that its owner alone can read.

The game file may be copied for analysis or handed in with coursework; it must not open the
game to whoever holds it. The secrets file (`GAME.sqlite.secrets.json`, mode 0600) is what lets
the facilitator print the links again (`wargame links GAME.sqlite`) after a restart.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sim.scenario.errors import WargameError

#: join codes avoid letters and digits that are easily confused (0/O, 1/I/L)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def new_token() -> str:
    """An unguessable join token (256 bits)."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    """A short code a student can type from the projector (about 30 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A typed code as stored: capitals, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass
class Secrets:
    """The tokens of a game in clear: the facilitator's, and each team's token and join code."""

    facilitator: str
    teams: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)


def secrets_path(db: str | Path) -> Path:
    return Path(f"{db}.secrets.json")


def write_secrets(db: str | Path, keys: Secrets) -> Path:
    """Write the secrets file of `db` with mode 0600, whole or not at all."""
    path = secrets_path(db)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(asdict(keys), out, indent=2)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise WargameError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_secrets(db: str | Path) -> Secrets | None:
    """The secrets of `db`, or None if there is no secrets file beside it."""
    path = secrets_path(db)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Secrets(str(data["facilitator"]), dict(data["teams"]), dict(data["codes"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WargameError(f"{path}: not a readable secrets file ({exc})") from None
