"""Live pages: a server-sent event stream per page that says when what the page shows changed.

Every saved command bumps `GameSession.revision`; the stream notices, works out the version of
what its reader sees (a team's version covers its own threads, the board's only public state),
and sends it when it differs from the last one sent. The page then fetches itself and swaps
in the new sections, keeping whatever its reader was choosing or typing (see base.html). The
version is sent at once on (re)connection, so a page that lost its connection catches up.
Deadlines pass without any command, so the version is also looked at every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from sim.classroom.session import GameSession

#: how often a stream looks at the game's revision counter (seconds)
CHECK_SECONDS = 0.2
#: how often a stream recomputes its version even when nothing was saved (the clock runs)
REFRESH_SECONDS = 3.0
#: how long a browser waits before reconnecting (milliseconds)
RETRY_MS = 1000


async def _changes(
    session: GameSession, version: Callable[[], str], stopping: asyncio.Event
) -> AsyncIterator[ServerSentEvent]:
    sent: str | None = None
    seen = -1
    looked = 0.0
    while not stopping.is_set():
        now = time.monotonic()
        if session.revision != seen or now - looked >= REFRESH_SECONDS:
            seen, looked = session.revision, now
            current = await run_in_threadpool(_locked, session, version)
            if current != sent:
                sent = current
                yield ServerSentEvent(data=current, event="change", retry=RETRY_MS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), CHECK_SECONDS)


def _locked(session: GameSession, version: Callable[[], str]) -> str:
    with session.lock:
        return version()


def stream(
    session: GameSession, version: Callable[[], str], stopping: asyncio.Event
) -> EventSourceResponse:
    """The event stream of one page; `version` says what that page's reader sees."""
    return EventSourceResponse(
        _changes(session, version, stopping),
        ping=10,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
