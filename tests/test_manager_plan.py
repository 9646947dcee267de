"""The plan: create / update / close / unchanged rows, computed without GitHub from a manifest and issues."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

import builders
from ccc.client import Issue
from ccc.manager.desired import desire
from ccc.manager.inventory import take_inventory
from ccc.manager.plan import Action, plan, task_order
from ccc.manager.settings import ManagerSettings
from ccc.manifest import load_manifests
from ccc.protocol.markers import read_task_marker

MANAGER = "manager-bot"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def manifest_of(root: Path, tasks: list[dict]):
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}, sort_keys=False))
    return load_manifests(root)


def make_issue(
    number: int,
    *,
    body: str,
    title: str = "t",
    labels=(),
    state: str = "open",
    state_reason: str | None = None,
    author: str = MANAGER,
    assignees=(),
) -> Issue:
    return builders.make_issue(
        number=number,
        body=body,
        title=title,
        labels=labels,
        state=state,
        state_reason=state_reason,
        author=author,
        assignees=assignees,
    )


def synced_issues(manifest, settings, *, extra_labels=None):
    """Issues exactly as a complete sync leaves them (numbered in task order), with optional extra labels."""
    numbers = {task.id: n for n, task in enumerate(task_order(manifest), start=1)}
    issues = []
    for task in task_order(manifest):
        desired = desire(task, manifest, numbers, settings)
        labels = (*desired.owned_labels, *(extra_labels or {}).get(task.id, ()))
        issues.append(
            make_issue(
                numbers[task.id],
                body=desired.body,
                title=desired.title,
                labels=labels,
                state="open" if desired.open else "closed",
                state_reason=None if desired.open else "not_planned",
                assignees=(task.assignee,) if task.assignee else (),
            )
        )
    return issues


def plan_for(manifest, issues, settings=None):
    settings = settings or ManagerSettings(manager_login=MANAGER)
    inventory = take_inventory(issues, manager_login=MANAGER)
    return plan(manifest, inventory, inventory.states(settings.labels), settings)


def rows_by_action(result):
    return {action: [row.task_id for row in result.rows if row.action is action] for action in Action}


BASE = [
    {"id": "schema", "title": "Schema", "body": "Create tables", "worker": "cc01"},
    {"id": "api", "title": "API", "body": "Endpoints", "worker": "cc02", "depends_on": ["schema"]},
    {"id": "docs", "title": "Docs", "body": "Write docs", "worker": "any", "labels": ["docs"]},
]


@pytest.fixture
def settings():
    return ManagerSettings(manager_login=MANAGER)


def test_new_manifest_creates_every_task_dependencies_first(tmp_path, settings):
    tasks = [BASE[1], BASE[0], BASE[2]]  # api is listed before the schema it depends on
    result = plan_for(manifest_of(tmp_path, tasks), [], settings)

    order = [row.task_id for row in result.rows]
    assert sorted(order) == ["api", "docs", "schema"]
    assert order.index("schema") < order.index("api")
    assert all(row.action is Action.CREATE for row in result.rows)
    api = next(row for row in result.rows if row.task_id == "api")
    assert settings.labels.blocked in api.edit.add_labels
    assert "blocked: waits for `schema`" in api.reasons


def test_unchanged_manifest_plans_no_change(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings, extra_labels={"api": ["blocked"]})

    result = plan_for(manifest, issues, settings)

    assert result.counts() == {"create": 0, "update": 0, "close": 0, "unchanged": 3}


def test_changed_manifest_lists_exactly_the_expected_rows(tmp_path, settings):
    old = manifest_of(tmp_path, BASE)
    issues = synced_issues(old, settings, extra_labels={"api": ["blocked"]})
    edited = [
        {**BASE[0], "title": "Schema v2"},  # update
        BASE[1],  # unchanged
        {"id": "tests", "title": "Tests", "body": "Add tests", "worker": "cc03"},  # create; docs removed: close
    ]

    result = plan_for(manifest_of(tmp_path, edited), issues, settings)

    assert rows_by_action(result) == {
        Action.CREATE: ["tests"],
        Action.UPDATE: ["schema"],
        Action.CLOSE: ["docs"],
        Action.UNCHANGED: ["api"],
    }
    update = next(row for row in result.rows if row.action is Action.UPDATE)
    assert update.reasons == ("title changed", "body changed")
    close = next(row for row in result.rows if row.action is Action.CLOSE)
    assert (close.edit.state, close.edit.state_reason) == ("closed", "not_planned")
    assert close.reasons == ("removed from the manifest",)


def test_keep_removed_leaves_removed_tasks_open(tmp_path):
    settings = ManagerSettings(manager_login=MANAGER, close_removed=False)
    issues = synced_issues(manifest_of(tmp_path, BASE), settings, extra_labels={"api": ["blocked"]})

    result = plan_for(manifest_of(tmp_path, BASE[:2]), issues, settings)

    assert result.count(Action.CLOSE) == 0
    assert result.rows[-1].reasons == ("removed from the manifest; kept open",)


def test_labels_people_added_stay_and_only_owned_labels_change(tmp_path, settings):
    issues = synced_issues(manifest_of(tmp_path, BASE), settings, extra_labels={"docs": ["needs-design"]})
    relabelled = [BASE[0], BASE[1], {**BASE[2], "labels": ["handbook"], "worker": "cc03"}]

    result = plan_for(manifest_of(tmp_path, relabelled), issues, settings)

    docs = next(row for row in result.rows if row.task_id == "docs")
    assert set(docs.edit.add_labels) == {"handbook", "cc03"}
    assert set(docs.edit.remove_labels) == {"docs", "any"}
    assert "needs-design" not in docs.edit.remove_labels


def test_task_whose_dependency_completed_is_unblocked(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings, extra_labels={"api": ["blocked"], "schema": ["completed"]})

    result = plan_for(manifest, issues, settings)

    api = next(row for row in result.rows if row.task_id == "api")
    assert api.action is Action.UPDATE
    assert api.edit.remove_labels == ("blocked",)
    assert api.unblocks


def test_ready_task_with_an_open_dependency_is_blocked(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings)  # api lost its blocked label

    api = next(row for row in plan_for(manifest, issues, settings).rows if row.task_id == "api")

    assert api.edit.add_labels == ("blocked",)
    assert api.reasons == ("blocked: waits for #1",)


def test_in_progress_task_is_never_blocked(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings, extra_labels={"api": ["in-progress"]})

    assert plan_for(manifest, issues, settings).count(Action.UPDATE) == 0


def test_task_closed_in_the_manifest_is_closed_once(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings, extra_labels={"api": ["blocked"]})
    retired = manifest_of(tmp_path, [BASE[0], BASE[1], {**BASE[2], "state": "closed"}])

    docs = next(row for row in plan_for(retired, issues, settings).rows if row.task_id == "docs")
    assert docs.action is Action.CLOSE
    assert read_task_marker(docs.edit.body).retired

    closed = [replace(i, state="closed", body=docs.edit.body) if i.number == docs.number else i for i in issues]
    assert plan_for(retired, closed, settings).rows[-1].action is Action.UNCHANGED


def test_retired_task_back_in_the_manifest_is_reopened(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(
        manifest_of(tmp_path, [*BASE[:2], {**BASE[2], "state": "closed"}]), settings, extra_labels={"api": ["blocked"]}
    )

    docs = next(row for row in plan_for(manifest, issues, settings).rows if row.task_id == "docs")

    assert docs.action is Action.UPDATE
    assert docs.edit.state == "open"
    assert docs.reasons[0] == "back in the manifest: reopened"


def test_issue_closed_by_a_person_is_left_alone(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    issues = synced_issues(manifest, settings, extra_labels={"api": ["blocked"]})
    issues = [
        replace(i, state="closed", state_reason="not_planned", title="renamed") if i.title == "Docs" else i
        for i in issues
    ]

    docs = next(row for row in plan_for(manifest, issues, settings).rows if row.task_id == "docs")

    assert (docs.action, docs.reasons) == (Action.UNCHANGED, ("closed on GitHub",))


def test_forged_marker_by_another_author_is_not_adopted(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE[:1])
    forged = [replace(issue, author="mallory") for issue in synced_issues(manifest, settings)]

    result = plan_for(manifest, forged, settings)

    assert rows_by_action(result)[Action.CREATE] == ["schema"]


def test_parent_is_labelled_completed_and_closed_when_all_parts_merged(tmp_path, settings):
    parent = {
        "id": "dash",
        "title": "Dashboard",
        "body": "Both halves",
        "parts": [
            {"id": "ui", "title": "UI", "worker": "cc01", "body": "ui"},
            {"id": "api", "title": "API", "worker": "cc02", "body": "api"},
        ],
    }
    manifest = manifest_of(tmp_path, [parent])
    issues = synced_issues(manifest, settings, extra_labels={"dash/ui": ["completed"], "dash/api": ["completed"]})
    assert plan_for(manifest, issues, settings).rows[0].action is Action.UNCHANGED  # delivered, not merged
    issues = [replace(i, state="closed", state_reason="completed") if i.number > 1 else i for i in issues]

    dash = plan_for(manifest, issues, settings).rows[0]

    assert dash.action is Action.UPDATE
    assert dash.edit.add_labels == ("completed", "ready-for-review")
    assert (dash.edit.state, dash.edit.state_reason) == ("closed", "completed")


def test_parent_with_an_open_part_stays_open(tmp_path, settings):
    parent = {
        "id": "dash",
        "title": "Dashboard",
        "parts": [
            {"id": "ui", "title": "UI", "worker": "cc01", "body": "ui"},
            {"id": "api", "title": "API", "worker": "cc02", "body": "api"},
        ],
    }
    manifest = manifest_of(tmp_path, [parent])
    issues = synced_issues(manifest, settings, extra_labels={"dash/ui": ["completed"]})

    assert plan_for(manifest, issues, settings).count(Action.UPDATE) == 0


def test_assignee_is_set_when_the_task_changes_not_on_every_sync(tmp_path, settings):
    manifest = manifest_of(tmp_path, [{**BASE[0], "assignee": "octocat"}])
    unassigned = [replace(issue, assignees=()) for issue in synced_issues(manifest, settings)]
    assert plan_for(manifest, unassigned, settings).count(Action.UPDATE) == 0

    edited = manifest_of(tmp_path, [{**BASE[0], "assignee": "octocat", "body": "new"}])
    row = plan_for(edited, unassigned, settings).rows[0]
    assert row.edit.assignees == ("octocat",)


def test_completed_task_removed_from_the_manifest_is_left_open_for_its_review(tmp_path, settings):
    issues = synced_issues(
        manifest_of(tmp_path, BASE), settings, extra_labels={"api": ["blocked"], "docs": ["completed"]}
    )

    docs = plan_for(manifest_of(tmp_path, BASE[:2]), issues, settings).rows[-1]

    assert (docs.action, docs.reasons) == (Action.UNCHANGED, ("removed from the manifest; completed, left open",))


def test_completed_issue_closed_as_retired_is_not_reopened(tmp_path, settings):
    manifest = manifest_of(tmp_path, BASE)
    retired = manifest_of(tmp_path, [*BASE[:2], {**BASE[2], "state": "closed"}])
    issues = synced_issues(retired, settings, extra_labels={"api": ["blocked"], "docs": ["completed"]})

    docs = next(row for row in plan_for(manifest, issues, settings).rows if row.task_id == "docs")

    assert (docs.action, docs.reasons) == (Action.UNCHANGED, ("closed on GitHub",))
