"""load_manifests: finds files under a root, loads all or nothing, and keeps hashes independent of formatting."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from ccc.manifest import DEFAULT_GLOBS, ManifestError, load_manifests

EXAMPLES = Path(__file__).parent.parent / "examples"
EXAMPLE_GLOBS = ("tasks.yml", "tasks/*.yml")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def problems(root: Path, globs=DEFAULT_GLOBS, **options) -> list[str]:
    with pytest.raises(ManifestError) as raised:
        load_manifests(root, globs, **options)
    return [str(problem) for problem in raised.value.problems]


AUTH = """\
    version: 1
    tasks:
      - id: auth
        title: Implement user authentication
        body: Add JWT-based auth to the API
        worker: cc02
        labels: [backend]
        priority: high
        depends_on: [db-schema]
"""
DB = """\
    version: 1
    tasks:
      - {id: db-schema, title: Schema, body: Tables, worker: cc03}
"""


def test_the_examples_load_with_the_original_designs_tasks():
    manifest = load_manifests(EXAMPLES, EXAMPLE_GLOBS)
    assert manifest.files == ("tasks.yml", "tasks/database.yml", "tasks/maintenance.yml")
    auth = manifest.by_id("auth")
    assert (auth.title, auth.body, auth.worker, auth.labels, auth.priority) == (
        "Implement user authentication",
        "Add JWT-based auth to the API",
        "cc02",
        ("backend",),
        "high",
    )
    dashboard = manifest.by_id("dashboard")
    assert dashboard.worker is None and dashboard.parts == ("dashboard/backend", "dashboard/frontend")
    assert [(manifest.by_id(p).title, manifest.by_id(p).worker) for p in dashboard.parts] == [
        ("Add API", "cc02"),
        ("Create UI", "cc01"),
    ]
    assert manifest.by_id("profile-api").depends_on == ("auth",)
    assert "Build the `LoginForm` component" in manifest.by_id("login-component").body
    assert manifest.by_id("legacy-login").state == "closed"


def test_default_globs_find_the_main_file_and_the_tasks_folder_in_order(tmp_path: Path):
    write(
        tmp_path,
        {
            ".github/ccc/tasks.yml": AUTH,
            ".github/ccc/tasks/db.yml": DB,
            ".github/ccc/tasks/notes.txt": "not a manifest",
        },
    )
    manifest = load_manifests(tmp_path)
    assert manifest.files == (".github/ccc/tasks.yml", ".github/ccc/tasks/db.yml")
    assert [(task.id, task.source, task.line) for task in manifest.tasks] == [
        ("auth", ".github/ccc/tasks.yml", 3),
        ("db-schema", ".github/ccc/tasks/db.yml", 3),
    ]


def test_a_glob_that_matches_nothing_is_fine_when_another_one_matches(tmp_path: Path):
    write(tmp_path, {".github/ccc/tasks.yml": DB})
    assert load_manifests(tmp_path).files == (".github/ccc/tasks.yml",)


def test_dependencies_resolve_across_files(tmp_path: Path):
    write(tmp_path, {"a.yml": AUTH, "b.yml": DB})
    assert load_manifests(tmp_path, ["*.yml"]).by_id("auth").depends_on == ("db-schema",)


def test_a_file_matched_by_two_globs_is_loaded_once(tmp_path: Path):
    write(tmp_path, {"a.yml": AUTH, "b.yml": DB})
    assert load_manifests(tmp_path, ["a.yml", "*.yml"]).files == ("a.yml", "b.yml")


def test_no_matching_file_is_a_problem_naming_the_globs(tmp_path: Path):
    assert problems(tmp_path) == [
        f"{tmp_path}: no manifest files match .github/ccc/tasks.yml, "
        ".github/ccc/tasks/*.yml (paths are relative to this root)"
    ]


def test_an_absolute_glob_is_a_problem_not_a_crash(tmp_path: Path):
    assert "invalid manifest glob" in problems(tmp_path, ["/etc/*.yml"])[0]


def test_nothing_is_half_loaded_one_bad_file_fails_the_whole_load(tmp_path: Path):
    write(tmp_path, {"a.yml": AUTH, "b.yml": DB, "c.yml": "version: 1\ntasks: [{id: x, title: X}]\n"})
    assert problems(tmp_path, ["*.yml"]) == ["c.yml:2:9: missing `body` (or `body_template`)"]


def test_problems_of_all_files_come_in_file_then_line_order(tmp_path: Path):
    write(
        tmp_path,
        {
            "a.yml": "version: 1\ntasks:\n  - {id: a, title: A, body: a, depends_on: [zz]}\n"
            "  - {id: b, title: B, body: b, priority: x}\n",
            "b.yml": "version: 2\ntasks: []\n",
        },
    )
    assert [p.split(": ")[0] for p in problems(tmp_path, ["*.yml"])] == ["a.yml:3:45", "a.yml:4:42", "b.yml:1:10"]


def test_a_task_whose_template_fails_is_reported_even_when_another_file_is_valid(tmp_path: Path):
    write(tmp_path, {"a.yml": DB, "b.yml": "version: 1\ntasks:\n  - id: t\n    title: T\n    body_template: t.md.j2\n"})
    (tmp_path / "t.md.j2").write_text("{{ missing }}")
    assert problems(tmp_path, ["*.yml"]) == [
        "b.yml:5:5: undefined variable at t.md.j2:1: 'missing' is undefined (add it to `vars`)"
    ]


def test_reserved_labels_and_worker_labels_cannot_be_manifest_labels(tmp_path: Path):
    write(
        tmp_path,
        {
            "a.yml": """\
        version: 1
        tasks:
          - {id: a, title: A, body: a, worker: cc01, labels: [In-Progress, backend]}
          - {id: b, title: B, body: b, worker: cc02, labels: [cc01]}
    """
        },
    )
    assert problems(tmp_path, ["a.yml"], reserved_labels=["in-progress"]) == [
        "a.yml:3:55: label 'In-Progress' is managed by ccc itself",
        "a.yml:4:55: label 'cc01' is a worker label: use `worker: cc01`",
    ]


def test_bodies_lose_trailing_whitespace_and_leading_blank_lines(tmp_path: Path):
    write(tmp_path, {"a.yml": 'version: 1\ntasks:\n  - {id: a, title: A, body: "\\n\\n  indented\\nlast  \\n\\n"}\n'})
    assert load_manifests(tmp_path, ["a.yml"]).by_id("a").body == "  indented\nlast"


def test_hashes_do_not_change_with_formatting_comments_or_key_order(tmp_path: Path):
    write(
        tmp_path,
        {
            "block/tasks.yml": AUTH + "      - {id: db-schema, title: Schema, body: Tables}\n",
            "flow/tasks.yml": """\
        # the same tasks, reformatted
        tasks: [{id: db-schema, body: "Tables", title: 'Schema'},
                {depends_on: [db-schema], priority: high, labels: [backend], worker: cc02,
                 body: Add JWT-based auth to the API,  # trailing comment
                 title: Implement user authentication, id: auth}]
        version: 1
    """,
        },
    )
    block, flow = (load_manifests(tmp_path / d, ["tasks.yml"]) for d in ("block", "flow"))
    assert {t.id: t.content_hash() for t in block.tasks} == {t.id: t.content_hash() for t in flow.tasks}


def test_editing_one_task_changes_only_that_tasks_hash(tmp_path: Path):
    shutil.copytree(EXAMPLES, tmp_path / "ex")
    before = {t.id: t.content_hash() for t in load_manifests(tmp_path / "ex", EXAMPLE_GLOBS).tasks}
    manifest = tmp_path / "ex/tasks.yml"
    manifest.write_text(manifest.read_text().replace("Create CRUD endpoints", "Create REST endpoints"))
    after = {t.id: t.content_hash() for t in load_manifests(tmp_path / "ex", EXAMPLE_GLOBS).tasks}
    assert [task_id for task_id in before if before[task_id] != after[task_id]] == ["profile-api"]


def test_a_thousand_task_manifest_loads(tmp_path: Path):
    tasks = "".join(
        f"  - {{id: t{i}, title: Task {i}, body: Do {i}, worker: cc0{i % 3 + 1}, "
        f"depends_on: [{'t' + str(i - 1) if i else 'base'}]}}\n"
        for i in range(1000)
    )
    write(tmp_path, {"a.yml": "version: 1\ntasks:\n  - {id: base, title: Base, body: b}\n" + tasks})
    manifest = load_manifests(tmp_path, ["a.yml"])
    assert len(manifest.tasks) == 1001 and manifest.by_id("t999").depends_on == ("t998",)
