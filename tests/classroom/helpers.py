"""Helpers for the classroom tests: a controllable clock, a server on a free loopback port, and
plain HTTP calls (standard library only)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from sim.classroom.server import create_app
from sim.classroom.session import GameSession

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "configs" / "classroom.yaml")
#: China's moves that help Iran covertly, and how its covert act is described
CHINA_COVERT = {"main": "covert_economic_lifeline", "oil_purchases": "maintain_purchases"}
COVERT_TEXT = "Covertly: go ahead with promised financial projects"


class FakeClock:
    """A clock the test moves by hand, so deadlines pass without waiting."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def new_session(path: Path | str, *overrides: str, clock=None, **kwargs) -> GameSession:
    if clock is None:
        return GameSession.create(str(path), CONFIG, list(overrides), **kwargs)
    return GameSession.create(str(path), CONFIG, list(overrides), clock=clock, **kwargs)


@contextmanager
def serve(session: GameSession, **options: Any) -> Iterator[str]:
    """Run the app of `session` on 127.0.0.1 in a thread; yields the base URL."""
    port = free_port()
    app = create_app(session, **options)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_form(url: str, data: dict[str, str]) -> tuple[int, str]:
    """POST a form as a browser does (no JSON) without following the redirect: the status and
    the Location it points to."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode())
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def call(url: str, data: dict[str, str] | None = None, *, as_json: bool = True) -> tuple[int, Any]:
    """GET (or POST `data` as a form); returns the status and the JSON or text body."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if data is not None else "GET")
    if as_json:
        request.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, kind = (
                response.status,
                response.read(),
                response.headers.get_content_type(),
            )
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    text = raw.decode("utf-8")
    return status, json.loads(text) if kind == "application/json" else text
