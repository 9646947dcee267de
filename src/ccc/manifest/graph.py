"""Checks that span files: unique ids, known dependencies, no dependency cycles."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ccc.manifest.model import Problem
from ccc.manifest.validate import TaskSpec
from ccc.manifest.yamltree import Pos


@dataclass(frozen=True)
class Edge:
    """`source` waits for `target`; `pos` is where that is written. Implicit edges have `implied`."""

    source: str
    target: str
    file: str
    pos: Pos
    implied: bool = False


def _problem(file: str, pos: Pos, message: str) -> Problem:
    return Problem(file, pos.line, pos.col, message)


def unique_specs(specs: Iterable[TaskSpec], problems: list[Problem]) -> dict[str, TaskSpec]:
    """Specs by id, keeping the first of duplicates and reporting the others with both places."""
    by_id: dict[str, TaskSpec] = {}
    for spec in specs:
        first = by_id.get(spec.id)
        if first is None:
            by_id[spec.id] = spec
        elif spec.parent is None:  # a duplicate part id follows from its parent's, reported there
            where = f"{first.source}:{first.pos.line}:{first.pos.col}"
            problems.append(
                _problem(spec.source, spec.pos, f"duplicate task id '{spec.id}' (first defined at {where})")
            )
    return by_id


def check_dependencies(by_id: dict[str, TaskSpec], problems: list[Problem]) -> None:
    """Reports self-dependencies, unknown ids and cycles (each cycle once, named in full)."""
    edges: dict[str, list[Edge]] = {task_id: [] for task_id in by_id}
    for spec in by_id.values():
        for ref in spec.depends_on:
            if ref.value == spec.id:
                problems.append(_problem(spec.source, ref.pos, f"task '{spec.id}' depends on itself"))
            elif ref.value not in by_id:
                problems.append(_problem(spec.source, ref.pos, _unknown(ref.value, by_id)))
            else:
                edges[spec.id].append(Edge(spec.id, ref.value, spec.source, ref.pos))
        # A coordinated task completes when all its parts do, so it waits for each of them.
        for part_id in spec.parts:
            edges[spec.id].append(Edge(spec.id, part_id, spec.source, spec.parts_pos, implied=True))
    for cycle in find_cycles(edges):
        problems.append(_problem(cycle[0].file, cycle[0].pos, _cycle_message(cycle)))


def _unknown(task_id: str, by_id: dict[str, TaskSpec]) -> str:
    close = difflib.get_close_matches(task_id, list(by_id), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown dependency '{task_id}': no task has this id{hint}"


def _cycle_message(cycle: list[Edge]) -> str:
    path = " -> ".join([edge.source for edge in cycle] + [cycle[0].source])
    why = " (a task with parts waits for its parts)" if any(edge.implied for edge in cycle) else ""
    return f"dependency cycle: {path}{why}"


def find_cycles(edges: dict[str, list[Edge]]) -> list[list[Edge]]:
    """Every cycle closed by a back edge of an iterative depth-first search, in input order."""
    finished: set[str] = set()
    cycles: list[list[Edge]] = []
    for start in edges:
        if start in finished:
            continue
        # path_edges[i] leads from stack[i] to stack[i + 1]; depth tells where a node sits on the path.
        stack = [(start, iter(edges[start]))]
        depth = {start: 0}
        path_edges: list[Edge] = []
        while stack:
            node, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                finished.add(node)
                del depth[node]
                stack.pop()
                if path_edges:
                    path_edges.pop()
            elif edge.target in depth:
                cycles.append(path_edges[depth[edge.target] :] + [edge])
            elif edge.target not in finished:
                depth[edge.target] = len(stack)
                stack.append((edge.target, iter(edges[edge.target])))
                path_edges.append(edge)
    return cycles
