"""Serving a page to the browser, shared by `wargame classroom` and `wargame viz`: the check
that the address is free before anything is written, the host to print in links, and the
server itself, whose failure to start is a one-line error like any other."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Any

from sim.scenario.errors import WargameError


def check_port(host: str, port: int) -> None:
    """Refuse at once, in one line, an address the server could not listen on."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise WargameError(f"--host {host}: not an address of this machine ({exc})") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # As the server's own socket: a port left in TIME_WAIT by a previous run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                why = exc.strerror or str(exc)
                if exc.errno == errno.EADDRNOTAVAIL:
                    what = "give an address of this machine with --host"
                else:  # in use, or reserved for the administrator
                    what = "choose another port with --port"
                raise WargameError(f"cannot listen on {host}:{port}: {why}; {what}") from None


def link_host(host: str) -> str:
    """The address to print in links: the machine's own address when serving every interface."""
    if host in ("0.0.0.0", "::", ""):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
                return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(app: Any, host: str, port: int) -> None:
    """Serve the ASGI `app` (an object or an import string) until Ctrl-C."""
    import uvicorn

    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
    except SystemExit as exc:
        # uvicorn exits when it cannot start (it has logged why), e.g. the port was taken
        # between the check and its own bind.
        raise WargameError(f"the server could not start on {host}:{port}") from exc
