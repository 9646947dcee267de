"""Checks across files: duplicate ids name both places, dependencies must exist, cycles are named."""

from __future__ import annotations

from ccc.manifest.graph import Edge, check_dependencies, find_cycles, unique_specs
from ccc.manifest.model import Problem
from ccc.manifest.validate import Ref, TaskSpec
from ccc.manifest.yamltree import Pos


def spec(task_id: str, *deps: str, line: int = 1, source: str = "tasks.yml", **fields) -> TaskSpec:
    refs = tuple(Ref(dep, Pos(line, 20 + index)) for index, dep in enumerate(deps))
    return TaskSpec(id=task_id, source=source, pos=Pos(line, 5), depends_on=refs, **fields)


def problems_of(*specs: TaskSpec) -> list[str]:
    problems: list[Problem] = []
    check_dependencies(unique_specs(specs, problems), problems)
    return [str(problem) for problem in problems]


def edges(graph: dict[str, list[str]]) -> dict[str, list[Edge]]:
    return {node: [Edge(node, target, "f.yml", Pos(1, 1)) for target in targets] for node, targets in graph.items()}


def test_a_dependency_graph_without_cycles_passes():
    assert problems_of(spec("a", "b"), spec("b", "c"), spec("c"), spec("d", "a", "c")) == []


def test_a_cycle_is_named_in_full_and_reported_once_at_the_edge_that_starts_it():
    problems = problems_of(spec("a", "b", line=1), spec("b", "c", line=2), spec("c", "a", line=3))
    assert problems == ["tasks.yml:1:20: dependency cycle: a -> b -> c -> a"]


def test_self_dependency_and_unknown_dependencies_are_reported_with_a_suggestion():
    problems = problems_of(spec("auth", "auth", "db-schem", "nothing-like-it"), spec("db-schema"))
    assert problems == [
        "tasks.yml:1:20: task 'auth' depends on itself",
        "tasks.yml:1:21: unknown dependency 'db-schem': no task has this id (did you mean 'db-schema'?)",
        "tasks.yml:1:22: unknown dependency 'nothing-like-it': no task has this id",
    ]


def test_duplicate_ids_across_files_name_both_places_and_the_first_wins():
    problems: list[Problem] = []
    first, second = spec("auth", line=3, source="a.yml"), spec("auth", line=9, source="b.yml")
    kept = unique_specs([first, second], problems)
    assert kept == {"auth": first}
    assert [str(p) for p in problems] == ["b.yml:9:5: duplicate task id 'auth' (first defined at a.yml:3:5)"]


def test_parts_of_a_duplicated_parent_are_not_reported_again():
    problems: list[Problem] = []
    unique_specs([spec("d"), spec("d/a", parent="d"), spec("d", line=5), spec("d/a", line=6, parent="d")], problems)
    assert len(problems) == 1


def test_a_part_that_waits_for_its_own_parent_is_a_cycle_through_the_parent():
    parent = spec("d", parts=("d/a",), parts_pos=Pos(2, 5))
    problems = problems_of(parent, spec("d/a", "d", parent="d", line=4))
    assert problems == ["tasks.yml:2:5: dependency cycle: d -> d/a -> d (a task with parts waits for its parts)"]


def test_a_task_may_depend_on_a_coordinated_task_or_on_one_of_its_parts():
    parent = spec("d", parts=("d/a", "d/b"), parts_pos=Pos(2, 5))
    assert problems_of(parent, spec("d/a", parent="d"), spec("d/b", "d/a", parent="d"), spec("x", "d", "d/b")) == []


def test_separate_cycles_are_each_reported():
    cycles = find_cycles(edges({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["a"]}))
    assert [[edge.source for edge in cycle] for cycle in cycles] == [["a", "b"], ["c", "d"]]


def test_a_long_dependency_chain_needs_no_deep_recursion():
    chain = {f"t{i}": [f"t{i + 1}"] for i in range(20_000)}
    chain["t20000"] = ["t0"]
    (cycle,) = find_cycles(edges(chain))
    assert len(cycle) == 20_001
