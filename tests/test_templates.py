"""The starting points users copy, and the README's commands, work as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from sim.scenario.config import CONFIG_ROOT, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = CONFIG_ROOT / "templates" / "my_scenario.yaml"


def test_the_scenario_template_validates_where_it_is_and_where_users_copy_it(tmp_path):
    scenario = load_scenario(TEMPLATE)
    baseline = load_scenario(CONFIG_ROOT / "baseline.yaml")
    assert scenario.name == "my_scenario"
    # it changes something, and keeps the rest of the baseline
    assert scenario.context != baseline.context
    assert scenario.actors == baseline.actors
    copy = CONFIG_ROOT / "my_scenario_test_copy.yaml"
    try:
        shutil.copy(TEMPLATE, copy)  # `cp configs/templates/my_scenario.yaml configs/...`
        assert load_scenario(copy).context == scenario.context
    finally:
        copy.unlink(missing_ok=True)


def test_the_template_explains_every_value_it_sets():
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^\s+\w+: [\d{]", line) and "#" not in line:
            assert lines[index - 1].strip().startswith("#"), f"line {index + 1} has no comment"


def test_the_commented_inject_example_is_valid(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8")
    block = re.search(r"^# injects:\n((?:#   .*\n)+)", text, re.MULTILINE)
    assert block is not None
    injects = "injects:\n" + "".join(line[2:] + "\n" for line in block.group(1).splitlines())
    tree = yaml.safe_load(text)
    tree.update(yaml.safe_load(injects))
    tree["extends"] = str(CONFIG_ROOT / "baseline.yaml")
    path = tmp_path / "with_inject.yaml"
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    assert load_scenario(path).injects[0].action == "limited_strikes"


def test_readme_commands_name_existing_files_and_make_their_folders_first():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## The command line") :]
    block = block[block.index("```sh\n") + 6 :]
    commands = [line.split("#")[0].strip() for line in block[: block.index("```")].splitlines()]
    made: set[str] = set()
    copied: set[str] = set()
    for command in filter(None, commands):
        words = command.split()
        if words[0] == "cp":
            assert (ROOT / words[1]).is_file(), command
            copied.add(words[2])
            continue
        for word in words[2:]:
            if word.startswith("configs/"):
                assert (ROOT / word).is_file() or word in copied, command
            if word.startswith("runs/"):
                assert word in made, f"{command}: no batch above makes {word}"
        if words[1] == "batch":
            config = yaml.safe_load((ROOT / words[2]).read_text(encoding="utf-8"))
            made.add(config["experiment"]["out"])
