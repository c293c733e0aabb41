"""Terminal play: one or more teams at one keyboard (hot seat), the model plays the rest.

Each seat sees the public state, its own private information, the messages it received, its
menu and, if enabled, the advisor; then the turn is played and everyone sees what became
public. A team may write to another actor or to everyone before it moves, as in the web
classroom; an actor the model plays answers a private message at once. Input is read with
`click.prompt`, so a script can drive a whole game through standard input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from sim.classroom import channels, charts, debrief, views
from sim.classroom.game import WHITE_CELL, Phase, Rejected
from sim.classroom.session import GameSession
from sim.classroom.store import GameFileError

RULE = "-" * 72
HELP = (
    "Type the number or the name of an action. Other commands: 'say TO TEXT' sends a message "
    "(TO: an actor, e.g. china, or public; an actor the model plays answers at once), "
    "'save FILE' writes the game to FILE, 'quit' stops (a game played with --save can be "
    "resumed with --load), 'help'."
)


class Quit(Exception):
    """The player asked to stop."""


class TerminalGame:
    """Drives a `GameSession` from the keyboard."""

    def __init__(
        self,
        session: GameSession,
        config: str,
        echo: Callable[[str], None] = click.echo,
        interactive: bool | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self.echo = echo
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        #: per team, the last message it has been shown
        self.read: dict[str, int] = {}

    @property
    def game(self):
        return self.session.game

    # ------------------------------------------------------------------ the game

    def run(self) -> bool:
        """Play until the crisis ends (True) or the player quits (False)."""
        game = self.game
        teams = ", ".join(f"{s.name} ({s.label})" for s in game.seats.values())
        self.echo(f"{game.classroom.title or game.setup.scenario.name}")
        self.echo(f"Teams: {teams}. The model plays every other actor. {HELP}")
        try:
            while not self.game.ended:
                if self.game.phase is Phase.WAITING:
                    self.session.start(timed=False)
                for actor, seat in self.game.seats.items():
                    if not seat.model_plays and actor not in self.game.pending:
                        self.seat(actor)
                self.session.close()
                self.show_turn()
        except Quit:
            self.stopped()
            return False
        self.show_debrief()
        return True

    def stopped(self) -> None:
        path = self.session.store.path
        if path == ":memory:":
            self.echo("Stopped. This game was not saved (play with --save FILE to keep it).")
        else:
            self.echo(
                f"Stopped after turn {self.game.played}. Resume with: "
                f"wargame play {self.config} --load {path}"
            )

    def seat(self, actor: str) -> None:
        """One team's turn at the keyboard."""
        game = self.game
        seat = game.seats[actor]
        if self.interactive and len(game.seats) > 1:
            click.prompt(
                f"\nPass the keyboard to team {seat.name} ({seat.label}) and press Enter",
                default="",
                show_default=False,
            )
            click.clear()
        view = views.team(game, actor, self.session.clock())
        self.echo(RULE)
        self.echo(
            f"Turn {game.current} of at most {game.horizon}: team {seat.name} plays {seat.label}"
        )
        self.echo(RULE)
        self.show_state(view["state"])
        self.show_private(view)
        while True:
            moves = {m["menu"]: self.choose(actor, m, view) for m in view["menus"]}
            try:
                self.session.submit(actor, moves, game.current)
            except Rejected as exc:
                self.echo(f"! {exc}")
                continue
            chosen = ", ".join(game.labels.action(a) for a in moves.values())
            self.echo(f"Team {seat.name}: {chosen}. Recorded.")
            return

    def choose(self, actor: str, menu: dict, view: dict) -> str:
        """Show one menu (and the advisor) and read a valid choice from the keyboard: its
        number, its name, or its identifier."""
        actions = menu["actions"]
        self.echo(f"\n{menu['title'].capitalize()}:")
        for number, row in enumerate(actions, start=1):
            rung = f" [{row['rung']}]" if row["rung"] else ""
            line = f"  {number:2d}. {row['name']}{rung} - {row['description']}"
            if not row["feasible"]:
                line += f"  (not possible now: {row['why_not']})"
            self.echo(line)
        advice = next((a for a in view["advisor"] if a["menu"] == menu["menu"]), None)
        if advice and advice["options"]:
            best = advice["options"][0]
            self.echo(f"  Advisor: {best['name']} (utility {best['utility']:.2f}), because:")
            for factor in best["factors"]:
                self.echo(f"    {factor['value']:+.2f} {factor['factor']}: {factor['argument']}")
            others = ", ".join(f"{o['name']} ({o['utility']:.2f})" for o in advice["options"][1:])
            if others:
                self.echo(f"    next best: {others}")
        names = [row["action"] for row in actions]
        typed = {row["name"].lower(): row["action"] for row in actions}
        while True:
            raw = click.prompt(
                f"{view['team']}, your {menu['title']}", default="", show_default=False
            )
            text = raw.strip()
            if text in ("q", "quit", "exit"):
                raise Quit
            if text in ("?", "h", "help"):
                self.echo(HELP)
                continue
            if text.startswith("save "):
                self.save(text[5:].strip())
                continue
            if text == "say" or text.startswith("say "):
                self.say(actor, text[3:].strip())
                continue
            if text.isdigit() and 1 <= int(text) <= len(actions):
                text = names[int(text) - 1]
            text = typed.get(" ".join(text.lower().split()), text)
            if text not in names:
                self.echo(f"! '{raw}' is not on the menu: type a number from 1 to {len(names)}.")
                continue
            row = actions[names.index(text)]
            if not row["feasible"]:
                self.echo(f"! {row['name']} is not possible now: {row['why_not']}.")
                continue
            return text

    def recipients(self, actor: str) -> dict[str, str]:
        """Whom a team may write to at the terminal (no white cell sits at it): what may be
        typed (an actor, its label, a team's name, `public`) -> the recipient."""
        names: dict[str, str] = {}
        for who in self.game.recipients(actor):
            if who == WHITE_CELL:
                continue
            names[who.lower()] = who
            seat = self.game.seats.get(who)
            if seat is not None:
                names[seat.name.lower()] = who
            if who in self.game.model.actors:
                names[self.game.labels.label(who).lower()] = who
        return names

    def say(self, actor: str, rest: str) -> None:
        """`say TO TEXT`: a message to an actor or to everyone; the model's actors answer."""
        names = self.recipients(actor)
        to, _, text = rest.partition(" ")
        recipient = names.get(to.lower())
        if recipient is None:
            choices = ", ".join(w for w in self.game.recipients(actor) if w != WHITE_CELL)
            self.echo(f"! Say to whom? say TO TEXT, with TO one of: {choices}.")
            return
        try:
            answer = self.session.message(actor, recipient, text)
        except Rejected as exc:
            self.echo(f"! {exc}")
            return
        self.echo(f"Sent to {channels.party(self.game, recipient)}.")
        if answer:
            self.echo(f"  {channels.party(self.game, recipient)} answers: {answer}")
        self.mark_read(actor)

    def mark_read(self, actor: str) -> None:
        seen = [m["seq"] for m in channels.visible(self.game, actor)]
        self.read[actor] = max(seen, default=0)

    def save(self, path: str) -> None:
        if not path:
            self.echo("! Say where: save FILE")
            return
        try:
            self.session.store.backup_to(path)
        except GameFileError as exc:
            self.echo(f"! {exc}")
            return
        self.echo(f"Saved to {path}. Resume with: wargame play {self.config} --load {path}")

    # ------------------------------------------------------------------ showing

    def show_state(self, state: dict) -> None:
        support = ", ".join(f"{s['label']} {s['level']} ({s['rung']})" for s in state["support"])
        self.echo(
            f"Escalation {state['escalation']} ({state['escalation_label']}), "
            f"oil ${state['oil_price']:.0f}, Hormuz {state['hormuz']}, "
            f"Iran's stability {state['iran_stability']:.2f}, sanctions {state['sanctions']:.2f}, "
            f"China buys {state['china_imports_kbd']:.0f} kb/d of Iranian crude."
        )
        self.echo(f"Support for Iran the world can see: {support}.")

    def show_private(self, view: dict) -> None:
        for line in view["refused"]:
            self.echo(f"! {line}")
        self.echo("Only your team sees this:")
        for line in view["status"]:
            self.echo(f"  {line}")
        last = self.game.played
        private = view["private"]
        for title, rows in (
            ("your covert or private act", private["own"]),
            ("covert help or private message received", private["received"]),
            ("intelligence shared with you", private["intelligence"]),
        ):
            for row in rows:
                if row["turn"] == last:
                    exposed = " (exposed)" if row["exposed"] else ""
                    self.echo(
                        f"  Last turn, {title}: {row['label']} - {row['description']}{exposed}"
                    )
        if view["announced"]:
            self.echo("News: " + "; ".join(view["announced"]))
        self.show_messages(view["actor"])

    def show_messages(self, actor: str) -> None:
        """The messages the team has not been shown yet (its own excepted)."""
        new = [
            m
            for m in channels.visible(self.game, actor)
            if m["seq"] > self.read.get(actor, 0) and m["from"] != actor
        ]
        for m in new:
            where = " (public)" if m["visibility"] == "public" else ""
            self.echo(f"  Message from {m['from_label']}{where}: {m['text']}")
        self.mark_read(actor)

    def show_turn(self) -> None:
        """What became public in the turn just played."""
        game = self.game
        turn = views.feed(game)[0]
        self.echo(RULE)
        self.echo(f"Turn {turn['turn']} is played. What the world saw:")
        for note in turn["notes"]:
            self.echo(f"  * {note['text']}")
        for act in turn["acts"]:
            exposed = " (covert, exposed)" if act["private"] else ""
            self.echo(f"  {act['label']}: {act['name']} - {act['description']}{exposed}")
        for incident in turn["incidents"]:
            self.echo(f"  ! {incident}")
        for label in turn["exposed"]:
            self.echo(f"  ! {label}'s covert support has been exposed")
        if turn["ended"]:
            self.echo(f"  = The crisis ends: {turn['ended']}.")

    def show_debrief(self) -> None:
        game = self.game
        self.echo("\n" + "=" * 72)
        self.echo("DEBRIEF")
        self.echo("=" * 72)
        data = debrief.debrief(game)
        self.echo(data["end"]["sentence"])
        for row in data["placements"]:
            self.echo(f"- {row['sentence']}")
        self.echo("")
        for row in data["placements"][:1]:
            for line in charts.text(row["chart"]):
                self.echo(line)
        self.echo("\nThe teams' choices beside the advisor's first choice:")
        for row in data["choices"]:
            mark = "=" if row["agreed"] else " "
            self.echo(
                f"  turn {row['turn']:2d}  {row['team']:<12} {row['menu']:<14} "
                f"{row['chosen']:<28} {mark} advisor: {row['advised']}  ({row['by']})"
            )
        for line in data["agreement"]:
            self.echo(line)
        self.echo("\nTimeline (covert acts revealed):")
        for turn in data["timeline"]:
            self.echo(
                f"Turn {turn['turn']}: escalation {turn['escalation']}, "
                f"oil ${turn['oil_price']:.0f}, Hormuz {turn['hormuz']}"
            )
            for note in turn["notes"]:
                self.echo(f"  * {note}")
            for act in turn["acts"]:
                secret = " [covert]" if act["covert"] else " [private]" if act["private"] else ""
                self.echo(f"  {act['label']}: {act['name']}{secret} ({act['by']})")
            for line in turn["refused"]:
                self.echo(f"  ! {line}")
            for incident in turn["incidents"]:
                self.echo(f"  ! {incident}")
            if turn["ended"]:
                self.echo(f"  = {turn['ended']}")
