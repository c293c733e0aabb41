"""The classroom web server: a facilitator page, a page per team, and a board for the projector.

Pages are rendered on the server; a few lines of JavaScript poll a small version string and
reload the page when what it shows has changed, so phones need nothing but a browser. The
token in a link is the only credential: a team's token opens its own page and submits for its
own actor only, the facilitator's token opens the white cell. The board shows public state
only and needs no token.

A form is answered with a redirect back to its page (post/redirect/get). The message for the
user (a flash) waits on the server under a one-time id that the redirect carries in its URL,
so only that page load shows it: a reload by the page's poll, another tab with the same link,
or a second submit cannot take it. A page stops polling once a form on it is submitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from sim.classroom import charts, debrief, export, views
from sim.classroom.session import GameSession
from sim.scenario.errors import WargameError

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("wargame.classroom")
#: flashes kept for redirects not yet followed; the oldest go first beyond this
MAX_FLASHES = 256


class _SecurityHeaders(BaseHTTPMiddleware):
    """Tokens travel in URLs: never leak them in a Referer, never cache a private page."""

    async def dispatch(self, request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def create_app(
    session: GameSession,
    *,
    links: list[dict[str, str]] | None = None,
    poll_seconds: float = 2.0,
    tick_seconds: float = 1.0,
) -> Starlette:
    """The web app of one game. `links` (team join links) are shown on the facilitator page."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    #: one-time flash id -> (the token of the page it is for, the message)
    flashes: dict[str, tuple[str, dict[str, Any]]] = {}

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
        context = {"poll_ms": int(poll_seconds * 1000), "flash": flash} | context
        context.setdefault("poll_url", None)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def refuse(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": message}, status_code=status)
        return render(request, "message.html", {"title": "Wargame", "message": message}, status)

    def answer(request: Request, key: str, back: str, ok: bool, message: str) -> Response:
        """JSON for scripts; for browsers a flash message and a redirect back to the page."""
        if _wants_json(request):
            return JSONResponse({"ok": ok, "message": message}, status_code=200 if ok else 409)
        flash_id = secrets.token_urlsafe(12)
        flashes[flash_id] = (key, {"ok": ok, "text": message})
        while len(flashes) > MAX_FLASHES:
            del flashes[next(iter(flashes))]
        return RedirectResponse(f"{back}?flash={flash_id}", status_code=303)

    def now() -> float:
        return session.clock()

    def team_version(actor: str) -> str:
        game = session.game
        return "|".join(
            map(
                str,
                (
                    board_version(),
                    sorted(game.pending.get(actor, {}).items()),
                    game.seats[actor].model_plays,
                ),
            )
        )

    def board_version() -> str:
        game = session.game
        public = sum(1 for p in game.scheduled if p["public"])
        return f"{game.played}|{game.phase.value}|{game.paused}|{game.deadline}|{public}"

    def facilitator_version() -> str:
        game = session.game
        return f"{len(game.entries)}|{game.past_deadline(now())}"

    def team_actor(request: Request) -> str | None:
        return session.team_for(request.path_params["token"])

    def facilitator_ok(request: Request) -> bool:
        return session.is_facilitator(request.path_params["token"])

    # ------------------------------------------------------------------ public

    async def landing(request: Request) -> Response:
        message = "Ask the facilitator for your team's link."
        return render(request, "message.html", {"title": "Wargame", "message": message})

    async def board(request: Request) -> Response:
        with session.lock:
            session.tick()
            context = views.board(session.game, now())
            version = board_version()
        return render(
            request, "board.html", context | {"poll_url": "/board/poll", "version": version}
        )

    async def board_poll(request: Request) -> Response:
        with session.lock:
            return JSONResponse({"v": board_version()})

    # ------------------------------------------------------------------ teams

    async def team_page(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid. Ask the facilitator for yours.")
        token = request.path_params["token"]
        with session.lock:
            session.tick()
            context = views.team(session.game, actor, now())
            version = team_version(actor)
        context |= {
            "token": token,
            "poll_url": f"/t/{token}/poll",
            "version": version,
            "guard": True,  # a team choosing its move keeps its choice when the game moves on
        }
        return render(request, "team.html", context, key=token)

    async def team_poll(request: Request) -> Response:
        actor = team_actor(request)
        if actor is None:
            return refuse(request, 403, "This link is not valid.")
        with session.lock:
            return JSONResponse({"v": team_version(actor)})

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
        fields = {k: str(v) for k, v in form.items() if k not in ("turn", "actor")}
        try:
            turn = int(str(form["turn"])) if form.get("turn") else None
        except ValueError:
            return answer(request, token, f"/t/{token}", False, "The turn number is not valid.")
        try:
            session.submit(actor, fields, turn)
        except WargameError as exc:
            return answer(request, token, f"/t/{token}", False, str(exc))
        moves = ", ".join(fields.values())
        message = f"Move for turn {session.game.current} received: {moves}."
        return answer(request, token, f"/t/{token}", True, message)

    # ------------------------------------------------------------------ facilitator

    async def facilitator_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        token = request.path_params["token"]
        with session.lock:
            session.tick()
            context = views.facilitator(session.game, now())
            version = facilitator_version()
        context |= {
            "token": token,
            "links": links or [],
            "poll_url": f"/f/{token}/poll",
            "version": version,
            "guard": True,
        }
        return render(request, "facilitator.html", context, key=token)

    async def facilitator_poll(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        with session.lock:
            return JSONResponse({"v": facilitator_version()})

    commands: dict[str, Callable[[Any], tuple[Callable[[], Any], str]]] = {
        "start": lambda f: (session.start, "Turn {turn} is open."),
        "close": lambda f: (
            lambda: session.close(force=f.get("force") == "1"),
            "Turn {played} has been played.",
        ),
        "pause": lambda f: (session.pause, "The game is paused."),
        "resume": lambda f: (session.resume, "The game goes on."),
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
        "handover": lambda f: (
            lambda: session.handover(str(f.get("actor", "")), f.get("model_plays") == "1"),
            "Done.",
        ),
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

    async def export_csv(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        with session.lock:
            body = export.to_csv(session.game)
        return Response(body, media_type="text/csv", headers=_attachment("game.csv"))

    async def debrief_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        context = await run_in_threadpool(_locked, session, _debrief_context)
        return render(request, "debrief.html", context | {"token": request.path_params["token"]})

    async def forecast_page(request: Request) -> Response:
        if not facilitator_ok(request):
            return refuse(request, 403, "This link is not valid.")
        summary = await run_in_threadpool(_locked, session, debrief.forecast_summary)
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
            ticker.cancel()
            warm.cancel()

    routes = [
        Route("/", landing),
        Route("/board", board),
        Route("/board/poll", board_poll),
        Route("/t/{token}", team_page),
        Route("/t/{token}/poll", team_poll),
        Route("/t/{token}/submit", team_submit, methods=["POST"]),
        Route("/f/{token}", facilitator_page),
        Route("/f/{token}/poll", facilitator_poll),
        Route("/f/{token}/export.json", export_json),
        Route("/f/{token}/export.csv", export_csv),
        Route("/f/{token}/debrief", debrief_page),
        Route("/f/{token}/forecast", forecast_page),
        Route("/f/{token}/{command}", facilitator_command, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(_SecurityHeaders)])


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _locked(session: GameSession, build: Callable[[Any], Any]) -> Any:
    with session.lock:
        return build(session.game)


def _debrief_context(game) -> dict[str, Any]:
    context = debrief.debrief(game)
    for row in context["placements"]:
        row["svg"] = charts.svg(row["chart"])
    context["end"]["svg"] = charts.svg(context["end"]["chart"])
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
