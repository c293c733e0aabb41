"""Bad input to the classroom commands (and to `wargame viz`, which serves its page the same
way), through the real `wargame` command: one line on stderr and exit code 2, never a
traceback, and no game file left behind that cannot be opened."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from classroom.helpers import CONFIG, REPO, new_session

from sim.classroom import session as session_module
from sim.classroom.session import GameSession
from sim.scenario.errors import WargameError

WARGAME = str(Path(sys.executable).with_name("wargame"))

#: case -> (arguments after `wargame`, what the one line of stderr says)
CASES: dict[str, tuple[list[str], str]] = {
    "brief into a missing folder": (
        ["brief", CONFIG, "--actor", "china", "--out", "{tmp}/missing/china.html"],
        "error: cannot write {tmp}/missing/china.html: No such file or directory",
    ),
    "play --load of a text file": (
        ["play", CONFIG, "--load", "{tmp}/notes.txt"],
        "error: {tmp}/notes.txt: not a readable game file (file is not a database)",
    ),
    "play --load of another database": (
        ["play", CONFIG, "--load", "{tmp}/other.sqlite"],
        "error: {tmp}/other.sqlite does not hold a game",
    ),
    "play --load of another database, --save elsewhere": (
        ["play", CONFIG, "--load", "{tmp}/other.sqlite", "--save", "{tmp}/copy.sqlite"],
        "error: {tmp}/other.sqlite does not hold a game",
    ),
    "play --load of a damaged game file": (
        ["play", CONFIG, "--load", "{tmp}/damaged.sqlite"],
        "error: {tmp}/damaged.sqlite: damaged game file (database disk image is malformed)",
    ),
    "play --load with other actors": (
        ["play", CONFIG, "--load", "{tmp}/game.sqlite", "--as", "china"],
        "error: {tmp}/game.sqlite is played by iran, china, russia; leave out --as to resume it",
    ),
    "play --save into a missing folder": (
        ["play", CONFIG, "--as", "iran", "--save", "{tmp}/missing/game.sqlite"],
        "error: cannot create the game file {tmp}/missing/game.sqlite: No such file or directory",
    ),
    "play --as twice the same actor": (
        ["play", CONFIG, "--as", "iran,iran"],
        "error: --as: expected distinct actors, e.g. --as iran,china",
    ),
    "classroom --db in a missing folder": (
        ["classroom", CONFIG, "--db", "{tmp}/missing/class.sqlite", "--port", "{free}"],
        "error: cannot create the game file {tmp}/missing/class.sqlite: No such file or directory",
    ),
    "classroom --db of a damaged game file": (
        ["classroom", CONFIG, "--db", "{tmp}/damaged.sqlite", "--port", "{free}"],
        "error: {tmp}/damaged.sqlite: damaged game file (database disk image is malformed)",
    ),
    "classroom on a port in use": (
        ["classroom", CONFIG, "--db", "{tmp}/new.sqlite", "--port", "{busy}"],
        "error: cannot listen on 127.0.0.1:{busy}: Address already in use; "
        "choose another port with --port",
    ),
    "classroom on an address of another machine": (
        ["classroom", CONFIG, "--db", "{tmp}/new.sqlite", "--host", "192.0.2.1"],
        "error: cannot listen on 192.0.2.1:8000: Cannot assign requested address; "
        "give an address of this machine with --host",
    ),
    "viz on a port in use": (
        ["viz", str(REPO / "configs" / "baseline.yaml"), "--port", "{busy}"],
        "error: cannot listen on 127.0.0.1:{busy}: Address already in use; "
        "choose another port with --port",
    ),
}

#: click's own checks: a usage message ending in the error
SEED_CASES = {
    "play with a negative seed": ["play", CONFIG, "--as", "iran", "--seed", "-1"],
    "classroom with a negative seed": ["classroom", CONFIG, "--seed", "-7", "--port", "{free}"],
}


def _damage(path: Path) -> None:
    """Overwrite the pages after the header, as a failing disk or a bad copy would."""
    data = bytearray(path.read_bytes())
    data[4096:12288] = b"\xff" * 8192
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case run at once, each its own `wargame` process: (case -> (exit code, stderr),
    the names filled into the cases, the folder, the other database as it was)."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "notes.txt").write_text("not a game\n")
    with sqlite3.connect(tmp / "other.sqlite") as db:
        db.execute("CREATE TABLE grades (student TEXT, grade REAL)")
    game = new_session(tmp / "game.sqlite")
    game.start()
    game.submit("iran", {"main": "hold_firm"})
    game.close()
    game.store.close()
    damaged = tmp / "damaged.sqlite"
    damaged.write_bytes((tmp / "game.sqlite").read_bytes())
    _damage(damaged)
    other_before = (tmp / "other.sqlite").read_bytes()
    with socket.socket() as busy, socket.socket() as free_probe:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        free_probe.bind(("127.0.0.1", 0))
        names = {
            "tmp": str(tmp),
            "busy": str(busy.getsockname()[1]),
            "free": str(free_probe.getsockname()[1]),
        }
        free_probe.close()
        commands = {
            name: [a.format(**names) for a in args]
            for name, args in [*((k, v[0]) for k, v in CASES.items()), *SEED_CASES.items()]
        }
        running = {
            name: subprocess.Popen(
                [WARGAME, *args],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, args in commands.items()
        }
        results = {}
        for name, process in running.items():
            try:
                out, err = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
            results[name] = (process.returncode, err)
    return results, names, tmp, other_before


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_code_2(outcomes, case):
    results, names, _, _ = outcomes
    code, err = results[case]
    expected = CASES[case][1].format(**names)
    assert "Traceback" not in err
    assert (code, err.strip().splitlines()) == (2, [expected])


def test_no_file_is_left_behind_by_a_command_that_failed(outcomes):
    _, _, tmp, other_before = outcomes
    assert not (tmp / "new.sqlite").exists()  # the port is checked before the game is created
    assert not (tmp / "copy.sqlite").exists()
    assert not (tmp / "missing").exists()
    assert (tmp / "other.sqlite").read_bytes() == other_before  # read, never written to


@pytest.mark.parametrize("case", list(SEED_CASES))
def test_a_negative_seed_is_refused_before_anything_is_written(outcomes, case):
    results, _, tmp, _ = outcomes
    code, err = results[case]
    assert code == 2 and "Traceback" not in err
    assert "Invalid value for '--seed'" in err and "is not in the range x>=0" in err
    assert not (tmp / "classroom-game.sqlite").exists()


def test_a_game_that_cannot_start_leaves_no_file(tmp_path, monkeypatch):
    db = tmp_path / "g.sqlite"
    with pytest.raises(WargameError, match="expected a whole number >= 0"):
        GameSession.create(db, CONFIG, seed=-1)
    assert not db.exists()

    def broken(setup):
        raise ValueError("the model cannot start")

    monkeypatch.setattr(session_module, "Game", broken)
    with pytest.raises(WargameError, match="cannot start the game: the model cannot start"):
        GameSession.create(db, CONFIG, seed=1)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_of_a_new_game_removes_its_file(tmp_path, monkeypatch):
    db = tmp_path / "g.sqlite"

    def full_disk(self, meta, teams):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(session_module.GameStore, "create", full_disk)
    with pytest.raises(WargameError, match="could not write the game file"):
        GameSession.create(db, CONFIG)
    assert list(tmp_path.iterdir()) == []


def test_saving_at_the_terminal_to_a_bad_place_says_so_and_goes_on(tmp_path):
    command = [WARGAME, "play", CONFIG, "--as", "iran", "--set", "horizon=1"]
    lines = f"save {tmp_path}/missing/x.sqlite\nsave {CONFIG}\nhold_firm\n"
    done = subprocess.run(command, cwd=REPO, input=lines, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"! cannot save the game to {tmp_path}/missing/x.sqlite" in done.stdout
    assert f"! {CONFIG} already exists" in done.stdout
    assert "Team Tehran: hold firm. Recorded." in done.stdout
