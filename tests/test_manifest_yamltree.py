"""YAML parsing keeps 1-based positions and refuses what PyYAML would silently accept or expand."""

from __future__ import annotations

import textwrap

from ccc.manifest.yamltree import Map, Pos, Scalar, Seq, parse, to_data


def parsed(text: str):
    problems: list[tuple[Pos, str]] = []
    tree = parse(textwrap.dedent(text), lambda pos, message: problems.append((pos, message)))
    return tree, problems


def test_keys_and_values_carry_one_based_line_and_column():
    tree, problems = parsed("""\
        version: 1
        tasks:
          - id: auth
    """)
    assert problems == []
    tasks = tree.get("tasks")
    assert tasks.key_pos == Pos(2, 1)
    assert isinstance(tasks.value, Seq)
    item = tasks.value.items[0]
    assert isinstance(item, Map) and item.pos == Pos(3, 5)
    assert item.get("id").value == Scalar("auth", Pos(3, 9))


def test_scalars_are_resolved_like_yaml_does():
    tree, _ = parsed("a: 1\nb: yes\nc: null\nd: '1'\ne: 2024-01-02\n")
    assert [type(entry.value.value).__name__ for entry in tree.entries] == ["int", "bool", "NoneType", "str", "date"]


def test_a_duplicate_key_is_reported_with_the_first_place_and_the_first_value_kept():
    tree, problems = parsed("title: first\nbody: x\ntitle: second\n")
    assert problems == [(Pos(3, 1), "duplicate key 'title' (first at line 1, column 1)")]
    assert tree.get("title").value.value == "first"


def test_an_alias_bomb_is_refused_at_the_first_alias_without_expanding_anything():
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    tree, problems = parsed("\n".join(levels) + "\n")
    assert tree is None
    assert problems == [(Pos(2, 8), problems[0][1])]
    assert "aliases" in problems[0][1]


def test_anchors_without_aliases_are_harmless():
    tree, problems = parsed("labels: &shared [a, b]\n")
    assert problems == [] and to_data(tree) == {"labels": ["a", "b"]}


def test_merge_keys_and_non_string_keys_are_reported():
    _, problems = parsed("<<: {a: 1}\n1: one\n[x]: list\n")
    assert [pos for pos, _ in problems] == [Pos(1, 1), Pos(2, 1), Pos(3, 1)]
    assert "merge keys" in problems[0][1] and "plain strings" in problems[1][1]


def test_a_second_document_is_reported_at_its_separator():
    tree, problems = parsed("a: 1\n---\nb: 2\n")
    assert tree is None and problems[0][0] == Pos(2, 1)


def test_an_empty_or_comment_only_file_is_reported_as_empty():
    assert parsed("# nothing here\n")[1] == [(Pos(1, 1), "the file is empty: expected `version: 1` and `tasks:`")]


def test_syntax_errors_point_at_the_problem_and_name_where_the_construct_began():
    tree, problems = parsed("labels: [a, b\nnext: 1\n")
    assert tree is None
    assert problems[0][0] == Pos(2, 5)
    assert "started at line 1, column 9" in problems[0][1]


def test_absurd_nesting_is_a_problem_not_a_crash():
    tree, problems = parsed("a: " + "[" * 1500 + "]" * 1500 + "\n")
    assert tree is None
    assert problems and "invalid YAML" in problems[0][1]


def test_unknown_tags_are_reported_as_invalid_yaml():
    tree, problems = parsed("a: !python/object:os.system echo\n")
    assert tree is None and "invalid YAML" in problems[0][1]


def test_to_data_turns_the_tree_into_plain_values():
    tree, _ = parsed("a: {b: [1, two, {c: null}]}\n")
    assert to_data(tree) == {"a": {"b": [1, "two", {"c": None}]}}
