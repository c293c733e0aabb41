"""Reading YAML files safely: bounded before anything walks them, duplicate keys refused.

A scenario file is written by people, but may come from anywhere (a shared folder, a mail).
A few hundred bytes of nested aliases expand to billions of values, so the size of the file,
its nesting depth and the number of values it expands to are all checked on the parsed
node graph, where aliases are still shared, before the document is built or walked. A key
written twice in one mapping is an error naming both lines, not a silent "last one wins".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ConfigError

#: libyaml's loader when available (several times faster), else the pure-Python one
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: libyaml's emitter likewise (the same text as the pure-Python one, a few times sooner)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: the largest scenario file read (the shipped ones are under 50 kB)
MAX_BYTES = 4_000_000
#: the deepest nesting of mappings and lists
MAX_DEPTH = 64
#: the most values a file may expand to once every alias is replaced by what it names
MAX_VALUES = 250_000

Position = tuple[str, int | None]  # (file shown to the user, line)


def display(path: Path) -> str:
    """A path as shown in messages: relative to the working folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check(node: yaml.Node, shown: str) -> None:
    """Refuse excessive depth, alias expansion, recursive aliases and duplicate keys."""
    sizes: dict[int, int] = {}  # expanded size of each node already measured
    open_nodes: set[int] = set()

    def measure(node: yaml.Node, depth: int, path: tuple) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ConfigError(shown, _field(path), "an alias refers to itself", _line(node))
        if depth > MAX_DEPTH:
            raise ConfigError(
                shown, _field(path), f"nested deeper than {MAX_DEPTH} levels", _line(node)
            )
        open_nodes.add(key)
        size = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if (
                    isinstance(key_node, yaml.ScalarNode)
                    and key_node.tag != "tag:yaml.org,2002:merge"
                ):
                    name = key_node.value
                    if name in seen:
                        raise ConfigError(
                            shown,
                            _field((*path, name)),
                            f"key written twice (lines {seen[name]} and {_line(key_node)}); "
                            "keep one",
                            _line(key_node),
                        )
                    seen[name] = _line(key_node)
                size += measure(key_node, depth + 1, path)
                size += measure(value_node, depth + 1, (*path, getattr(key_node, "value", "?")))
                if size > MAX_VALUES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                size += measure(item, depth + 1, (*path, index))
                if size > MAX_VALUES:
                    break
        if size > MAX_VALUES:
            raise ConfigError(
                shown,
                _field(path),
                f"expands to more than {MAX_VALUES:,} values (aliases repeated too often)",
                _line(node),
            )
        open_nodes.discard(key)
        sizes[key] = size
        return size

    measure(node, 0, ())


def _field(path: tuple) -> str | None:
    return ".".join(str(p) for p in path) or None


def positions_of(node: yaml.Node, shown: str) -> dict[tuple, Position]:
    """Where each value of the document was written, by its path of keys and indices."""
    out: dict[tuple, Position] = {}

    def walk(node: yaml.Node, prefix: tuple) -> None:
        out[prefix] = (shown, _line(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                walk(value_node, (*prefix, key))
                out[(*prefix, key)] = (shown, _line(key_node))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*prefix, index))

    walk(node, ())
    return out


def _text(path: Path, shown: str) -> str:
    try:
        if not path.is_file():
            raise ConfigError(shown, None, "file not found")
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(shown, None, f"file larger than {MAX_BYTES // 1_000_000} MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(shown, None, f"cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            shown, None, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line
        ) from None


def parse(text: str, shown: str) -> tuple[Any, yaml.Node | None]:
    """The document in `text` and its node graph, checked before it is built."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check(node, shown)
        return loader.construct_document(node), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(shown, None, f"not valid YAML ({problem})", line) from None
    except RecursionError:
        raise ConfigError(shown, None, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def dump(value: Any, **options: Any) -> str:
    """`yaml.safe_dump` through libyaml: a resolved configuration of 70 kB in milliseconds."""
    return yaml.dump(value, Dumper=DUMPER, **options)


def parse_value(text: str, shown: str) -> Any:
    """A value given on the command line, read as YAML; text that is not YAML stays text."""
    try:
        return parse(text, shown)[0]
    except ConfigError as exc:
        if exc.expected.startswith("not valid YAML"):
            return text
        raise


def read_mapping(path: Path) -> tuple[dict, dict[tuple, Position]]:
    """A YAML file that must hold a mapping, with the position of every value in it."""
    shown = display(path)
    document, node = parse(_text(path, shown), shown)
    if not isinstance(document, dict):
        kind = "empty" if document is None else type(document).__name__
        raise ConfigError(shown, None, f"expected a mapping of fields at the top, got {kind}", 1)
    return document, positions_of(node, shown)
