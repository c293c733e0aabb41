"""Command-line entry points of the classroom mode (registered on the `wargame` group)."""

from __future__ import annotations

from pathlib import Path

import click

from sim.scenario.errors import WargameError
from sim.serving import check_port, is_loopback, link_host, serve

#: where a game is served unless told otherwise, and where its links point
HOST, PORT = "127.0.0.1", 8000

OVERRIDE_HELP = "Override a scenario value, e.g. --set classroom.deadline_minutes=5"
#: a master seed: NumPy seeds from whole numbers >= 0 only
SEED = click.IntRange(min=0)


def _actors(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [a.strip() for a in value.split(",") if a.strip()]


def _same_config(config: str, stored: str) -> bool:
    from sim.scenario.config import resolve_path

    return str(resolve_path(config).resolve()) == stored


def _resume(path: str, config: str, actors: list[str] | None, fresh_options: bool):
    """Open a saved game, refusing options that would contradict it."""
    from sim.classroom.session import GameSession

    session = GameSession.open(path)
    game = session.game
    if not _same_config(config, game.setup.config_path):
        raise WargameError(f"{path} holds a game of {game.setup.config_path}, not of {config}")
    if actors is not None and actors != list(game.seats):
        raise WargameError(
            f"{path} is played by {', '.join(game.seats)}; leave out --as to resume it"
        )
    if fresh_options:
        raise WargameError("--seed and --set come from the saved game; leave them out to resume")
    return session


@click.command()
@click.argument("config")
@click.option(
    "--as",
    "as_",
    metavar="ACTOR[,ACTOR...]",
    help="Actors to play, e.g. iran,china (default: the teams of the classroom block).",
)
@click.option("--seed", type=SEED, default=None, help="Master seed (default: the scenario's).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
@click.option("--save", type=click.Path(dir_okay=False), help="Save the game to FILE as it goes.")
@click.option("--load", type=click.Path(dir_okay=False), help="Resume the game saved in FILE.")
def play(
    config: str,
    as_: str | None,
    seed: int | None,
    overrides: tuple[str, ...],
    save: str | None,
    load: str | None,
) -> None:
    """Play CONFIG at the terminal as one or more actors (hot seat); the model plays the rest."""
    from sim.classroom.session import GameSession
    from sim.classroom.store import GameStore
    from sim.classroom.terminal import TerminalGame

    actors = _actors(as_)
    if load:
        if save and Path(save).resolve() != Path(load).resolve():
            original = GameStore(load)  # checks that it holds a game
            try:
                original.backup_to(save)
            finally:
                original.close()
            load = save
        session = _resume(load, config, actors, bool(seed is not None or overrides))
        click.echo(f"Resuming {load} at turn {session.game.current}.")
    else:
        if save and Path(save).exists():
            raise WargameError(f"{save} already exists; resume it with --load {save}")
        session = GameSession.create(
            save or ":memory:", config, overrides, seed=seed, actors=actors
        )
    TerminalGame(session, config).run()


@click.command()
@click.argument("config")
@click.option("--host", default=HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Game file; an existing one is resumed (default: <scenario>-game.sqlite).",
)
@click.option(
    "--as",
    "as_",
    metavar="ACTOR[,ACTOR...]",
    help="Actors teams play, e.g. iran,china (default: the teams of the classroom block).",
)
@click.option("--seed", type=SEED, default=None, help="Master seed (default: the scenario's).")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
def classroom(
    config: str,
    host: str,
    port: int,
    db: str | None,
    as_: str | None,
    seed: int | None,
    overrides: tuple[str, ...],
) -> None:
    """Serve CONFIG to a class: a white-cell link, one join link per team, and a board."""
    from sim.classroom.config import load_game_config
    from sim.classroom.server import create_app
    from sim.classroom.session import GameSession

    check_port(host, port)  # before a new game file is written
    if db is None:
        scenario, _ = load_game_config(config, overrides)
        db = f"{scenario.name}-game.sqlite"
    actors = _actors(as_)
    if Path(db).is_file():
        session = _resume(db, config, actors, bool(seed is not None or overrides))
        click.echo(f"Resuming the game in {db} at turn {session.game.current}.")
    else:
        session = GameSession.create(db, config, overrides, seed=seed, actors=actors)
        click.echo(f"New game in {db} (seed {session.game.setup.seed}).")
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, not only on this machine: anyone on the network "
            "can reach the server, and the join links are the only protection.",
            err=True,
        )
    session.store.set_meta("served", {"host": host, "port": port})  # for `wargame links`
    links = print_links(session, f"http://{link_host(host)}:{port}")
    click.echo(f"Stop with Ctrl+C; start again with --db {db} to resume where the game was.")
    app = create_app(session, links=links)
    try:
        serve(app, host, port)
    finally:
        session.store.close()


def print_links(session, base: str) -> list[dict[str, str]]:
    """Print one labelled line per link (white cell, board, join sheet, each team); returns the
    team links. The tokens come from the game's secrets file."""
    from sim.classroom.keys import secrets_path

    if session.keys is None:
        raise WargameError(
            f"{secrets_path(session.store.path)}: no such secrets file; the game file keeps only "
            "hashes of the tokens: issue new links with wargame links --new"
        )
    game = session.game
    links = [
        {
            "team": seat.name,
            "label": seat.label,
            "url": f"{base}/t/{session.team_tokens[actor]}",
            "code": session.team_codes.get(actor, ""),
        }
        for actor, seat in game.seats.items()
    ]
    token = session.facilitator_token
    click.echo(f"White cell (facilitator): {base}/f/{token}")
    click.echo(f"Board (projector):        {base}/board")
    click.echo(f"Join sheet (QR codes):    {base}/f/{token}/join")
    for link in links:
        click.echo(f"Team {link['team']} ({link['label']}): {link['url']}")
    return links


@click.command()
@click.argument("game_file", type=click.Path(dir_okay=False))
@click.option(
    "--host", default=None, help=f"Address in the links [default: where it was served, or {HOST}]."
)
@click.option(
    "--port",
    default=None,
    type=click.IntRange(1, 65535),
    help=f"Port in the links [default: where it was served, or {PORT}].",
)
@click.option(
    "--new",
    "reissue",
    is_flag=True,
    help="Issue new links and codes (the old ones stop working); with the server stopped.",
)
def links(game_file: str, host: str | None, port: int | None, reissue: bool) -> None:
    """Print the links of GAME_FILE again (read from its secrets file, GAME_FILE.secrets.json)."""
    from sim.classroom.session import GameSession

    session = GameSession.open(game_file)
    try:
        if reissue:
            session.reissue()
        served = session.store.meta().get("served") or {}
        host = host or served.get("host", HOST)
        port = port or served.get("port", PORT)
        print_links(session, f"http://{link_host(host)}:{port}")
    finally:
        session.store.close()


@click.command()
@click.argument("game_file", type=click.Path(dir_okay=False))
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for the review."
)
@click.option(
    "--games",
    type=click.IntRange(min=10, max=100_000),
    default=None,
    help="Simulated games to compare with (default: the classroom block's debrief_games).",
)
def aar(game_file: str, out: str, games: int | None) -> None:
    """Write the after-action review of GAME_FILE to OUT: index.html, CSV and JSON exports."""
    from sim.classroom.review import write_review

    written = write_review(game_file, out, games)
    click.echo(f"Wrote the after-action review to {written}")


@click.command()
@click.argument("config")
@click.option("--actor", required=True, help="The actor the brief is for, e.g. china.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to FILE (.html or .md).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html"]),
    default=None,
    help="Default: from the --out suffix, else markdown.",
)
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=OVERRIDE_HELP)
def brief(
    config: str, actor: str, out: str | None, fmt: str | None, overrides: tuple[str, ...]
) -> None:
    """Write a printable team brief for ACTOR: situation, interests, moves, how turns work."""
    from sim.classroom.briefing import brief_data, to_html, to_markdown
    from sim.classroom.config import load_game_config

    scenario, _ = load_game_config(config, overrides)
    data = brief_data(scenario, actor)
    if fmt is None:
        fmt = "html" if out and Path(out).suffix.lower() in (".html", ".htm") else "markdown"
    text = to_html(data) if fmt == "html" else to_markdown(data)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WargameError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"Wrote the brief for {data['label']} to {out}")


#: click commands added to `wargame` (play, classroom, links, aar, brief)
COMMANDS: list[click.Command] = [play, classroom, links, aar, brief]
