"""Field rules of one manifest file: defaults, inheritance by parts, bodies, and precise problems."""

from __future__ import annotations

import textwrap

from ccc.manifest.validate import FileChecker, TaskSpec
from ccc.manifest.yamltree import parse


def check(text: str) -> tuple[list[TaskSpec], list[str]]:
    checker = FileChecker("tasks.yml")
    tree = parse(textwrap.dedent(text), checker.report)
    specs = checker.check_file(tree) if tree is not None else []
    return specs, [str(problem) for problem in checker.problems]


def by_id(specs: list[TaskSpec]) -> dict[str, TaskSpec]:
    return {spec.id: spec for spec in specs}


def labels(spec: TaskSpec) -> list[str]:
    return [ref.value for ref in spec.labels]


def deps(spec: TaskSpec) -> list[str]:
    return [ref.value for ref in spec.depends_on]


def test_defaults_apply_to_tasks_and_task_labels_add_to_default_labels():
    specs, problems = check("""
        version: 1
        defaults: {worker: cc02, labels: [backend], priority: high, assignee: octocat}
        tasks:
          - {id: auth, title: Auth, body: JWT, labels: [security, backend]}
    """)
    assert problems == []
    (auth,) = specs
    assert (auth.worker, auth.priority, auth.assignee) == ("cc02", "high", "octocat")
    assert labels(auth) == ["backend", "security"]


def test_worker_falls_back_to_the_shared_pool_and_priority_to_normal():
    specs, problems = check("""
        version: 1
        tasks:
          - {id: docs, title: Docs, body: Write them}
    """)
    assert problems == []
    assert (specs[0].worker, specs[0].priority, specs[0].state, specs[0].assignee) == ("any", "normal", "open", None)


def test_task_values_override_defaults():
    specs, _ = check("""
        version: 1
        defaults: {worker: cc02, priority: high, assignee: octocat}
        tasks:
          - {id: ui, title: UI, body: Build it, worker: cc01, priority: low, assignee: hubot}
    """)
    assert (specs[0].worker, specs[0].priority, specs[0].assignee) == ("cc01", "low", "hubot")


def test_parts_expand_after_their_parent_and_inherit_its_fields():
    specs, problems = check("""
        version: 1
        defaults: {worker: cc03, labels: [team-a]}
        tasks:
          - id: dashboard
            title: Implement dashboard feature
            labels: [dashboard]
            priority: high
            assignee: octocat
            depends_on: [auth]
            vars: {product: Acme}
            parts:
              - {id: frontend, title: Create UI, worker: cc01, labels: [frontend], body: UI}
              - {id: backend, title: Add API, body: API, priority: low}
          - {id: auth, title: Auth, body: JWT}
    """)
    assert problems == []
    assert [spec.id for spec in specs] == ["dashboard", "dashboard/frontend", "dashboard/backend", "auth"]
    parent, frontend, backend = specs[:3]
    assert parent.worker is None and parent.body is None
    assert parent.parts == ("dashboard/frontend", "dashboard/backend")
    assert deps(parent) == ["auth"]
    assert (frontend.worker, backend.worker) == ("cc01", "cc03")
    assert labels(frontend) == ["team-a", "dashboard", "frontend"]
    assert (frontend.priority, backend.priority) == ("high", "low")
    assert frontend.assignee == "octocat" and frontend.vars == {"product": "Acme"}
    assert deps(frontend) == ["auth"] and frontend.parent == "dashboard"


def test_a_part_names_a_sibling_by_its_short_id_and_other_tasks_by_full_id():
    specs, problems = check("""
        version: 1
        tasks:
          - id: dashboard
            title: Dashboard
            parts:
              - {id: backend, title: API, body: API}
              - {id: frontend, title: UI, body: UI, depends_on: [backend, auth, other/part]}
    """)
    assert problems == []
    assert deps(by_id(specs)["dashboard/frontend"]) == ["dashboard/backend", "auth", "other/part"]


def test_closing_a_parent_closes_its_parts_and_a_part_may_close_alone():
    specs, _ = check("""
        version: 1
        tasks:
          - id: old
            title: Old
            state: closed
            parts: [{id: a, title: A, body: a}]
          - id: new
            title: New
            parts: [{id: a, title: A, body: a, state: closed}, {id: b, title: B, body: b}]
    """)
    states = {spec.id: spec.state for spec in specs}
    assert states == {"old": "closed", "old/a": "closed", "new": "open", "new/a": "closed", "new/b": "open"}


def test_a_body_template_keeps_the_position_of_its_key_for_template_problems():
    specs, problems = check("""
        version: 1
        tasks:
          - id: auth
            title: Auth
            body_template: templates/auth.md.j2
            vars: {algorithm: RS256}
    """)
    assert problems == []
    assert specs[0].template.value == "templates/auth.md.j2"
    assert (specs[0].template.pos.line, specs[0].template.pos.col) == (6, 5)
    assert specs[0].vars == {"algorithm": "RS256"}


def test_labels_and_dependencies_listed_twice_collapse_to_one_ignoring_label_case():
    specs, problems = check("""
        version: 1
        tasks:
          - {id: a, title: A, body: a, labels: [x, y, x, X], depends_on: [b, b]}
          - {id: b, title: B, body: b}
    """)
    assert problems == []
    assert labels(specs[0]) == ["x", "y"] and deps(specs[0]) == ["b"]


def test_a_task_with_an_invalid_field_keeps_its_id_but_is_marked_incomplete():
    specs, problems = check("""
        version: 1
        tasks:
          - {id: a, title: A, body: a, priority: urgent}
    """)
    assert problems == ["tasks.yml:4:42: invalid priority 'urgent': expected one of high, normal, low"]
    assert specs[0].id == "a" and not specs[0].complete


def test_a_boolean_version_is_not_version_one():
    _, problems = check("""
        version: true
        tasks: []
    """)
    assert problems == ["tasks.yml:2:10: unsupported version True: this ccc reads version 1"]


def test_null_assignee_means_none_and_titles_are_stripped():
    specs, problems = check("""
        version: 1
        defaults: {assignee: null}
        tasks:
          - {id: a, title: "  Padded title  ", body: a, assignee: null}
    """)
    assert problems == []
    assert specs[0].assignee is None and specs[0].title == "Padded title"


def test_every_problem_of_a_file_is_collected_not_just_the_first():
    _, problems = check("""
        version: 1
        tasks:
          - {id: a, title: A, body: a, worker: CC01}
          - {id: b, title: B, body: b, labels: ["x,y"]}
          - {id: c, title: C}
    """)
    assert [problem.split(": ")[0] for problem in problems] == ["tasks.yml:4:40", "tasks.yml:5:41", "tasks.yml:6:5"]


def test_a_part_without_a_body_is_a_problem_but_its_parent_may_omit_one():
    _, problems = check("""
        version: 1
        tasks:
          - id: d
            title: D
            parts: [{id: a, title: A}]
    """)
    assert problems == ["tasks.yml:6:13: missing `body` (or `body_template`)"]


def test_vars_may_not_shadow_the_task_variable_or_be_invalid_names():
    _, problems = check("""
        version: 1
        tasks:
          - id: a
            title: A
            body_template: a.md.j2
            vars: {task: x, my-var: y}
    """)
    assert problems == [
        "tasks.yml:7:12: 'task' is reserved in templates: rename this variable",
        "tasks.yml:7:21: variable name 'my-var' must be a valid identifier",
    ]


def test_a_task_or_part_with_an_invalid_id_still_has_its_other_fields_checked():
    specs, problems = check("""
        version: 1
        tasks:
          - {id: Bad Id, title: A, body: a, priority: urgent}
          - id: ok
            title: OK
            parts: [{id: Bad Part, title: P, body: p, state: done}]
    """)
    assert [spec.id for spec in specs] == ["ok"]
    assert [problem.split(": ")[1].split(" '")[0] for problem in problems] == [
        "invalid id",
        "invalid priority",
        "invalid id",
        "invalid state",
    ]
