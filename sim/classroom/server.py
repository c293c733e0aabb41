"""The classroom web server: a facilitator page, a page per team, and a board for the projector.

Pages are rendered on the server; each listens to a server-sent event stream (`live`) and, when
what it shows has changed, fetches itself and swaps in the new sections without touching what
its reader is choosing or typing, so phones need nothing but a browser. The token in a link is
the only credential: a team's token opens its own page and submits and writes for its own actor
only, the facilitator's token opens the white cell. The board shows public state only and needs
no token. Every page also answers `Accept: application/json` with exactly what its reader may
see (the same view the page is rendered from), for tools and tests.

A form is answered with a redirect back to its page (post/redirect/get). The message for the
user (a flash) waits on the server under a one-time id that the redirect carries in its URL,
so only that page load shows it: a live refresh, another tab with the same link, or a second
submit cannot take it. A page stops refreshing once a form on it is submitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import segno
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sim.classroom import board_map, channels, charts, debrief, export, live, views
from sim.classroom.game import WHITE_CELL
from sim.classroom.session import GameSession
from sim.scenario.errors import WargameError

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("wargame.classroom")
#: flashes kept for redirects not yet followed; the oldest go first beyond this
MAX_FLASHES = 256
#: wrong join codes tolerated before joining by code is switched off until a restart: a short
#: code (about 30 bits) must not be guessable by trying
MAX_CODE_FAILURES = 50
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


class _SecurityHeaders:
    """Tokens travel in URLs: never leak them in a Referer, never cache a private page.

    A plain ASGI middleware, so that event streams pass through unbuffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    session: GameSession,
    *,
    links: list[dict[str, str]] | None = None,
    tick_seconds: float = 1.0,
) -> Starlette:
    """The web app of one game. `links` (team join links) are shown on the facilitator page."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    #: one-time flash id -> (the token of the page it is for, the message)
    flashes: dict[str, tuple[str, dict[str, Any]]] = {}
    #: set when the server stops, so that event streams end at once
    stopping = asyncio.Event()
    code_failures = [0]

    # ------------------------------------------------------------------ helpers

    def take_flash(request: Request, key: str) -> dict[str, Any] | None:
        """The message the redirect to this page carries, once, and only for its own page."""
        flash_id = request.query_params.get("flash", "")
        kept = flashes.get(flash_id)
        if kept is None or not key or not secrets.compare_digest(kept[0], key):
            return None
        del flashes[flash_id]
        return kept[1]

    def render(
        request: Request, name: str, context: dict[str, Any], status: int = 200, key: str = ""
    ) -> Response:
        flash = take_flash(request, key)
        context = {"flash": flash} | context
        context.setdefault("events_url", None)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def page(request: Request, name: str, view: dict[str, Any], extra: dict[str, Any], key=""):
        """A page for browsers, or for `Accept: application/json` the view it is made from."""
        if _wants_json(request):
            return json_response(view)
        return render(request, name, view | extra, key=key)

    def refuse(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": message}, status_code=status)
        return render(request, "message.html", {"title": "Wargame", "message": message}, status)

    def answer(
        request: Request, key: str, back: str, ok: bool, message: str, **more: Any
    ) -> Response:
        """JSON for scripts; for browsers a flash message and a redirect back to the page."""
        if _wants_json(request):
            body = {"ok": ok, "message": message} | more
            return json_response(body, 200 if ok else 409)
        flash_id = secrets.token_urlsafe(12)
        flashes[flash_id] = (key, {"ok": ok, "text": message})
        while len(flashes) > MAX_FLASHES:
            del flashes[next(iter(flashes))]
        return RedirectResponse(f"{back}?flash={flash_id}", status_code=303)

    def now() -> float:
        return session.clock()

    def team_version(actor: str) -> str:
        game = session.game
        own = sum(1 for m in game.messages if m.visible_to(actor))
        moves = sorted(game.pending.get(actor, {}).items())
        return f"{board_version()}|{moves}|{game.seats[actor].model_plays}|{own}"

    def board_version() -> str:
        game = session.game
        public = sum(1 for p in game.scheduled if p["public"])
        statements = sum(1 for m in game.messages if m.visible_to(None))
        progress = views.progress(game)
        return (
            f"{game.played}|{game.phase.value}|{game.paused}|{game.deadline}|{game.remaining}|"
            f"{public}|{statements}|{progress['in']}/{progress['of']}"
        )

    def facilitator_version() -> str:
        game = session.game
        return f"{len(game.entries)}|{game.past_deadline(now())}"

    def team_actor(request: Request) -> str | None:
        return session.team_for(request.path_params["token"])

    def facilitator_ok(request: Request) -> bool:
        return session.is_facilitator(request.path_params["token"])

    # ------------------------------------------------------------------ public

    async def landing(request: Request) -> Response:
        message = "Ask the facilitator for your team's link, or enter your join code."
        return render(request, "join.html", {"title": "Wargame", "message": message})

    async def join(request: Request) -> Response:
        """A short join code typed from the projector leads to the team's page."""
        if request.method == "GET":
            return render(request, "join.html", {"title": "Join the game"})
        form = await request.form()
        if code_failures[0] >= MAX_CODE_FAILURES:
            return refuse(request, 429, "Too many wrong codes: ask the facilitator for your link.")
        actor = session.team_for_code(str(form.get("code", "")))
        token = session.team_tokens.get(actor or "")
        if actor is None or not token:
            code_failures[0] += 1
            message = "This code is not valid. Check it on the projector or ask the facilitator."
            if _wants_json(request):
                return JSONResponse({"ok": False, "message": message}, status_code=403)
            context = {"title": "Join the game", "error": message}
            return render(request, "join.html", context, status=403)
        if _wants_json(request):
            return JSONResponse({"ok": True, "url": f"/t/{token}"})
        return RedirectResponse(f"/t/{token}", status_code=303)

    async def board(request: Request) -> Response:
        with session.lock:
            session.tick()
            view = views.board(session.game, now())
            version = board_version()
            drawn = board_map.board_graphics(session.game)
        extra = {"events_url": "/board/events", "version": version} | drawn
        return page(request, "board.html", view, extra)

    async def board_events(request: Request) -> Response:
        return live.stream(session, board_version, stopping)

    # ------------------------------------------------------------------ teams

    async def team_page(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid. Ask the facilitator for yours.")
        token = request.path_params["token"]
        with session.lock:
            session.tick()
            view = views.team(session.game, actor, now())
            version = team_version(actor)
        extra = {"token": token, "events_url": f"/t/{token}/events", "version": version}
        return page(request, "team.html", view, extra, key=token)

    async def team_events(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid.")
        return live.stream(session, lambda: team_version(actor), stopping)

    async def team_submit(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid: no move was recorded.")
        token = request.path_params["token"]
        form = await request.form()
        label = session.game.seats[actor].label
        claimed = form.get("actor")
        if claimed is not None and claimed != actor:
            return refuse(request, 403, f"This link can submit moves for {label} only.")
        skip = ("turn", "actor", "rationale")
        fields = {k: str(v) for k, v in form.items() if k not in skip}
        try:
            turn = int(str(form["turn"])) if form.get("turn") else None
        except ValueError:
            return answer(request, token, f"/t/{token}", False, "The turn number is not valid.")
        try:
            session.submit(actor, fields, turn, str(form.get("rationale", "")))
        except WargameError as exc:
            return answer(request, token, f"/t/{token}", False, str(exc))
        game = session.game
        moves = "; ".join(views.describe(game, actor, m, a) for m, a in fields.items())
        message = f"Move for turn {game.current} received: {moves}."
        return answer(request, token, f"/t/{token}", True, message)

    async def team_message(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid: no message was sent.")
        token = request.path_params["token"]
        form = await request.form()
        to = str(form.get("to", ""))
        try:
            reply = await run_in_threadpool(session.message, actor, to, str(form.get("text", "")))
        except WargameError as exc:
            return answer(request, token, f"/t/{token}", False, str(exc))
        sent = f"Message sent to {channels.party(session.game, to)}."
        return answer(request, token, f"/t/{token}", True, sent, reply=reply)

    # ------------------------------------------------------------------ facilitator

    async def facilitator_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        token = request.path_params["token"]
        with session.lock:
            session.tick()
            view = views.facilitator(session.game, now()) | {"links": links or []}
            version = facilitator_version()
        extra = {"token": token, "events_url": f"/f/{token}/events", "version": version}
        return page(request, "facilitator.html", view, extra, key=token)

    async def facilitator_events(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        return live.stream(session, facilitator_version, stopping)

    async def join_page(request: Request) -> Response:
        """The join sheet for the projector: per team a QR code and a short code."""
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        game = session.game
        base = _base(links, request)
        codes, tokens = session.team_codes, session.team_tokens
        teams = []
        for actor, seat in game.seats.items():
            url = f"{base}/t/{tokens[actor]}" if actor in tokens else ""
            teams.append(
                {
                    "actor": actor,
                    "team": seat.name,
                    "label": seat.label,
                    "code": codes.get(actor, ""),
                    "qr": segno.make(url, error="m").svg_inline(scale=4) if url else "",
                }
            )
        context = {"title": "Join the game", "teams": teams, "join_url": f"{base}/join"}
        return render(request, "join_sheet.html", context | {"token": request.path_params["token"]})

    def facilitator_message(f: Any) -> None:
        session.message(WHITE_CELL, str(f.get("to", "")), str(f.get("text", "")))

    commands: dict[str, Callable[[Any], tuple[Callable[[], Any], str]]] = {
        "start": lambda f: (session.start, "Turn {turn} is open."),
        "close": lambda f: (
            lambda: session.close(force=f.get("force") == "1"),
            "Turn {played} has been played.",
        ),
        "pause": lambda f: (session.pause, "The game is paused."),
        "resume": lambda f: (session.resume, "The game goes on."),
        "extend": lambda f: (
            lambda: session.extend(str(f.get("minutes", ""))),
            "The clock of turn {turn} has been extended.",
        ),
        "inject": lambda f: (
            lambda: session.inject(str(f.get("event", ""))),
            "Event scheduled for turn {turn}.",
        ),
        "context": lambda f: (
            lambda: session.set_context(
                str(f.get("name", "")), str(f.get("value", "")), str(f.get("note", ""))
            ),
            "Context change scheduled for turn {turn}.",
        ),
        "ruling": lambda f: (
            lambda: session.rule(
                str(f.get("variable", "")), str(f.get("value", "")), str(f.get("note", ""))
            ),
            "Ruling logged: it holds from turn {turn}.",
        ),
        "handover": lambda f: (
            lambda: session.handover(str(f.get("actor", "")), f.get("model_plays") == "1"),
            "Done.",
        ),
        "messages": lambda f: (lambda: facilitator_message(f), "Message sent."),
    }

    async def facilitator_command(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid: nothing was changed.")
        token = request.path_params["token"]
        command = commands.get(request.path_params["command"])
        if command is None:
            return refuse(request, 404, "Unknown command.")
        run, message = command(await request.form())
        try:
            await run_in_threadpool(run)
        except WargameError as exc:
            return answer(request, token, f"/f/{token}", False, str(exc))
        game = session.game
        text = message.format(turn=game.current, played=game.played)
        return answer(request, token, f"/f/{token}", True, text)

    async def export_json(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        with session.lock:
            body = export.to_json(session.game)
        return Response(body, media_type="application/json", headers=_attachment("game.json"))

    def csv_export(build: Callable[[Any], str], name: str):
        async def download(request: Request) -> Response:
            if not facilitator_ok(request):
                return refuse(request, 403, "This link is not valid.")
            with session.lock:
                body = build(session.game)
            return Response(body, media_type="text/csv", headers=_attachment(name))

        return download

    async def debrief_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        if _wants_json(request):
            return json_response(await run_in_threadpool(_locked, session, debrief.debrief))
        context = await run_in_threadpool(_locked, session, debrief_context)
        return render(request, "debrief.html", context | {"token": request.path_params["token"]})

    async def forecast_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        summary = await run_in_threadpool(_locked, session, debrief.forecast_summary)
        if _wants_json(request):
            return json_response(summary)
        summary["svgs"] = [charts.svg(c, note="") for c in summary["charts"]]
        context = {"title": session.game.classroom.title or "Wargame", "forecast": summary}
        return render(request, "forecast.html", context | {"token": request.path_params["token"]})

    # ------------------------------------------------------------------ app

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_forever(session, tick_seconds))
        # Warm the debrief's simulated distribution so the debrief opens at once.
        warm = asyncio.create_task(run_in_threadpool(debrief.simulated, session.game))
        try:
            yield
        finally:
            stopping.set()
            ticker.cancel()
            warm.cancel()

    routes = [
        Route("/", landing),
        Route("/join", join, methods=["GET", "POST"]),
        Route("/board", board),
        Route("/board/events", board_events),
        Route("/t/{token}", team_page),
        Route("/t/{token}/events", team_events),
        Route("/t/{token}/submit", team_submit, methods=["POST"]),
        Route("/t/{token}/messages", team_message, methods=["POST"]),
        Route("/f/{token}", facilitator_page),
        Route("/f/{token}/events", facilitator_events),
        Route("/f/{token}/join", join_page),
        Route("/f/{token}/export.json", export_json),
        Route("/f/{token}/export.csv", csv_export(export.to_csv, "game.csv")),
        Route("/f/{token}/messages.csv", csv_export(export.messages_csv, "messages.csv")),
        Route("/f/{token}/decisions.csv", csv_export(export.decisions_csv, "decisions.csv")),
        Route("/f/{token}/debrief", debrief_page),
        Route("/f/{token}/forecast", forecast_page),
        Route("/f/{token}/{command}", facilitator_command, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(_SecurityHeaders)])
    app.state.stopping = stopping
    return app


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, default=_plain), status_code=status, media_type="application/json"
    )


def _base(links: list[dict[str, str]] | None, request: Request) -> str:
    """The address students reach the server at: the one the join links were printed with."""
    if links:
        return links[0]["url"].rsplit("/t/", 1)[0]
    return str(request.base_url).rstrip("/")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _locked(session: GameSession, build: Callable[[Any], Any]) -> Any:
    with session.lock:
        return build(session.game)


def debrief_context(game) -> dict[str, Any]:
    context = debrief.draw(debrief.debrief(game))
    if not game.ended:
        summary = debrief.forecast_summary(game)
        summary["svgs"] = [charts.svg(c, note="") for c in summary["charts"]]
        context["forecast"] = summary
    return context


async def _tick_forever(session: GameSession, seconds: float) -> None:
    """Play a turn as soon as its deadline passes, even if nobody is looking at a page."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(session.tick)
        except WargameError as exc:  # pragma: no cover - logged, the server keeps running
            log.error("could not play the turn at its deadline: %s", exc)
