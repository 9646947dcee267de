"""Tasks are frozen values with a content hash the manager compares; problems print as file:line:col."""

from __future__ import annotations

import dataclasses

import pytest

from ccc.errors import InputError
from ccc.manifest import Manifest, ManifestError, Problem, Task


def task(**changes) -> Task:
    fields = dict(
        id="auth",
        title="Implement user authentication",
        body="Add JWT-based auth to the API",
        worker="cc02",
        labels=("backend", "security"),
        priority="high",
        depends_on=("db-schema", "config"),
        assignee=None,
        state="open",
        parent=None,
        parts=(),
        source=".github/ccc/tasks.yml",
        line=4,
    )
    return Task(**{**fields, **changes})


def test_the_content_hash_is_a_stable_sha256_hex_digest():
    assert task().content_hash() == task().content_hash()
    assert len(task().content_hash()) == 64 and int(task().content_hash(), 16) >= 0


def test_the_content_hash_ignores_where_the_task_is_written_and_label_or_dependency_order():
    moved = task(source="other.yml", line=99, labels=("security", "backend"), depends_on=("config", "db-schema"))
    assert moved.content_hash() == task().content_hash()


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Implement auth"},
        {"body": "Add OAuth"},
        {"worker": "cc01"},
        {"worker": "any"},
        {"labels": ("backend",)},
        {"priority": "low"},
        {"depends_on": ()},
        {"assignee": "octocat"},
        {"state": "closed"},
        {"parent": "epic"},
        {"parts": ("auth/a",)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_content_hash_changes_when_any_shown_field_changes(change):
    assert task(**change).content_hash() != task().content_hash()


def test_part_order_is_meaningful_for_the_hash():
    assert task(parts=("d/a", "d/b")).content_hash() != task(parts=("d/b", "d/a")).content_hash()


def test_tasks_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        task().title = "changed"


def test_by_id_finds_parts_by_full_id_and_raises_key_error_for_unknown_ids():
    parent, part = task(id="d", worker=None, parts=("d/a",)), task(id="d/a", parent="d")
    manifest = Manifest(tasks=(parent, part), files=("tasks.yml",))
    assert manifest.by_id("d/a") is part and manifest.parts_count == 1
    with pytest.raises(KeyError):
        manifest.by_id("missing")


def test_a_problem_prints_as_file_line_col_message():
    assert str(Problem("tasks.yml", 7, 5, "unknown key 'x'")) == "tasks.yml:7:5: unknown key 'x'"
    assert str(Problem(".", None, None, "no manifest files match a")) == ".: no manifest files match a"


def test_a_manifest_error_is_bad_input_and_lists_every_problem():
    error = ManifestError([Problem("a.yml", 1, 2, "first"), Problem("b.yml", 3, 4, "second")])
    assert isinstance(error, InputError) and error.exit_code == 2
    assert str(error) == "2 problems in the task manifests\na.yml:1:2: first\nb.yml:3:4: second"
    assert [p.message for p in error.problems] == ["first", "second"]
