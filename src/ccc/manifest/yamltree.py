"""YAML text to a tree of mappings, lists and scalars that remember their 1-based line and column.

PyYAML's composer gives every node a start mark but silently keeps the last of duplicate keys and
expands aliases on construction (the "billion laughs" bomb). We compose nodes ourselves, reject
aliases and duplicate keys, and construct only scalars, so a hostile file cannot blow up memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yaml

ALIASES_UNSUPPORTED = "YAML aliases (*name) are not supported: repeat the value, or use `defaults:`"


@dataclass(frozen=True)
class Pos:
    """1-based line and column."""

    line: int
    col: int


def _pos(mark: yaml.Mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


@dataclass(frozen=True)
class Scalar:
    value: object
    pos: Pos


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]
    pos: Pos


@dataclass(frozen=True)
class Entry:
    """One `key: value` pair; `key_pos` is where the key is written."""

    key: str
    key_pos: Pos
    value: Node


@dataclass(frozen=True)
class Map:
    entries: tuple[Entry, ...]
    pos: Pos

    def get(self, key: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.key == key), None)

    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]


Node = Scalar | Seq | Map
ReportProblem = Callable[[Pos, str], None]


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses aliases while composing, before anything could be expanded."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.MarkedYAMLError(problem=ALIASES_UNSUPPORTED, problem_mark=self.peek_event().start_mark)
        return super().compose_node(parent, index)


def parse(text: str, report: ReportProblem) -> Node | None:
    """The single document in `text` as a positioned tree, or None after reporting why not."""
    loader = _NoAliasLoader(text)
    try:
        if not loader.check_node():
            report(Pos(1, 1), "the file is empty: expected `version: 1` and `tasks:`")
            return None
        document = loader.get_node()
        if loader.check_node():  # the next event starts a second document, at its `---`
            report(_pos(loader.peek_event().start_mark), "a manifest file holds one YAML document; remove `---`")
            return None
        return _Converter(loader, report).node(document)
    except yaml.MarkedYAMLError as exc:
        report(_error_pos(exc), f"invalid YAML: {_yaml_message(exc)}")
    except RecursionError:
        report(Pos(1, 1), "invalid YAML: nesting is too deep")
    finally:
        loader.dispose()
    return None


def _error_pos(exc: yaml.MarkedYAMLError) -> Pos:
    mark = exc.problem_mark or exc.context_mark
    return _pos(mark) if mark else Pos(1, 1)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, with where the construct it was parsing started (often the real mistake)."""
    context = exc.context or ""
    mark = exc.context_mark
    if context and mark and (mark.line, mark.column) != (exc.problem_mark.line, exc.problem_mark.column):
        context += f" (started at line {mark.line + 1}, column {mark.column + 1})"
    return ", ".join(part for part in (context, exc.problem) if part) or "cannot parse"


class _Converter:
    """Turns composed PyYAML nodes into our tree, reporting duplicate and non-string keys."""

    def __init__(self, loader: yaml.SafeLoader, report: ReportProblem):
        self.loader = loader
        self.report = report

    def node(self, node: yaml.Node) -> Node:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return Seq(tuple(self.node(item) for item in node.value), _pos(node.start_mark))
        return Scalar(self.loader.construct_object(node, deep=True), _pos(node.start_mark))

    def mapping(self, node: yaml.MappingNode) -> Map:
        entries: list[Entry] = []
        seen: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            key_pos = _pos(key_node.start_mark)
            key = self.key(key_node, key_pos)
            if key is None:
                continue
            if key in seen:
                first = seen[key]
                self.report(key_pos, f"duplicate key '{key}' (first at line {first.line}, column {first.col})")
                continue
            seen[key] = key_pos
            entries.append(Entry(key, key_pos, self.node(value_node)))
        return Map(tuple(entries), _pos(node.start_mark))

    def key(self, key_node: yaml.Node, pos: Pos) -> str | None:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
            self.report(pos, "YAML merge keys (<<) are not supported: use `defaults:`")
            return None
        key = self.loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            self.report(pos, "keys must be plain strings")
            return None
        return key


def to_data(node: Node) -> object:
    """Plain Python data (dicts, lists, scalars) for values used as data, such as template vars."""
    if isinstance(node, Map):
        return {entry.key: to_data(entry.value) for entry in node.entries}
    if isinstance(node, Seq):
        return [to_data(item) for item in node.items]
    return node.value
