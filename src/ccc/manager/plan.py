"""The plan: for each task, create / update / close / unchanged, with the edit and the reason. Pure.

`plan_task` compares one task's desired issue with the issue that exists; `sync` calls it task by
task while it creates issues (so later tasks see the numbers of earlier ones), `plan` calls it
for all tasks at once without writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from ccc.manager.desired import DesiredIssue, desire
from ccc.manager.inventory import Inventory, ManagedIssue
from ccc.manager.settings import ManagerSettings
from ccc.manifest import Manifest, Task
from ccc.protocol.lifecycle import (
    StateChange,
    dependency_change,
    parent_change,
    task_state,
    waiting_on,
    was_delivered,
)
from ccc.protocol.markers import with_task_marker
from ccc.protocol.states import TaskState


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    CLOSE = "close"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class IssueEdit:
    """Changes to one issue; labels as deltas so labels others set meanwhile survive."""

    title: str | None = None
    body: str | None = None
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    state: str | None = None
    state_reason: str | None = None
    assignees: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == IssueEdit()


@dataclass(frozen=True)
class Row:
    action: Action
    task_id: str
    title: str
    number: int | None  # None until created
    reasons: tuple[str, ...]
    edit: IssueEdit = IssueEdit()  # for create: the labels and assignees to create it with
    desired: DesiredIssue | None = None  # None for tasks removed from the manifest
    unblocks: bool = False  # the task becomes available to workers

    def to_json(self) -> dict:
        return {
            "action": self.action.value,
            "task": self.task_id,
            "issue": self.number,
            "title": self.title,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Plan:
    rows: tuple[Row, ...]

    def count(self, action: Action | str) -> int:
        return sum(1 for row in self.rows if row.action is Action(action))

    def counts(self) -> dict[str, int]:
        return {action.value: self.count(action) for action in Action}

    def to_json(self) -> dict:
        """Counts and the rows that change something (unchanged rows would drown them)."""
        changed = [row.to_json() for row in self.rows if row.action is not Action.UNCHANGED]
        return {"counts": self.counts(), "rows": changed}


def task_order(manifest: Manifest) -> list[Task]:
    """Dependencies before dependents (so markers can carry their numbers), otherwise manifest order."""
    index = {task.id: i for i, task in enumerate(manifest.tasks)}
    remaining = {task.id: set(task.depends_on) for task in manifest.tasks}
    ordered: list[Task] = []
    while remaining:
        ready = [task_id for task_id, deps in remaining.items() if not deps & remaining.keys()]
        # Validation rules out cycles; should one slip through, keep going in manifest order.
        for task_id in sorted(ready or remaining, key=index.__getitem__):
            ordered.append(manifest.by_id(task_id))
            del remaining[task_id]
    return ordered


def plan(manifest: Manifest, inventory: Inventory, states: Mapping[int, TaskState], settings: ManagerSettings) -> Plan:
    """Every change a sync would make, with issue numbers as they are now."""
    numbers = {task_id: managed.number for task_id, managed in inventory.tasks.items()}
    rows = [
        plan_task(task, manifest, inventory.tasks.get(task.id), numbers, states, settings)
        for task in task_order(manifest)
    ]
    rows += removed_rows(manifest, inventory, settings)
    return Plan(tuple(rows))


def plan_task(
    task: Task,
    manifest: Manifest,
    existing: ManagedIssue | None,
    numbers: Mapping[str, int],
    states: Mapping[int, TaskState],
    settings: ManagerSettings,
) -> Row:
    desired = desire(task, manifest, numbers, settings)
    if existing is None:
        return _new_task(desired, manifest, numbers, states, settings)
    issue = existing.issue
    row = Row(Action.UNCHANGED, task.id, task.title, issue.number, (), desired=desired)
    if not desired.open:
        if issue.state == "closed":
            return replace(row, reasons=("closed in the manifest",))
        reason = "completed" if task_state(issue, settings.labels) is TaskState.COMPLETED else "not_planned"
        edit = IssueEdit(body=desired.body, state="closed", state_reason=reason)
        return replace(row, action=Action.CLOSE, edit=edit, reasons=("closed in the manifest",))
    # Only issues the manager itself retired come back; a task a person closed, or one that was
    # delivered, stays closed.
    if issue.state == "closed" and (not existing.marker.retired or was_delivered(issue, settings.labels)):
        return replace(row, reasons=("closed on GitHub",))
    return _update(row, existing, desired, manifest, numbers, states, settings)


def _new_task(
    desired: DesiredIssue,
    manifest: Manifest,
    numbers: Mapping[str, int],
    states: Mapping[int, TaskState],
    settings: ManagerSettings,
) -> Row:
    task = desired.task
    if not desired.open:
        return Row(
            Action.UNCHANGED, task.id, task.title, None, ("closed in the manifest; never created",), desired=desired
        )
    waiting = [] if task.is_parent else _waiting(task, manifest, numbers, states)
    labels = desired.owned_labels + ((settings.labels.blocked,) if waiting else ())
    reasons = ("new task",) + ((f"blocked: waits for {', '.join(waiting)}",) if waiting else ())
    edit = IssueEdit(add_labels=labels, assignees=(task.assignee,) if task.assignee else ())
    return Row(
        Action.CREATE,
        task.id,
        task.title,
        None,
        reasons,
        edit=edit,
        desired=desired,
        unblocks=not waiting and not task.is_parent,
    )


def _update(
    row: Row,
    existing: ManagedIssue,
    desired: DesiredIssue,
    manifest: Manifest,
    numbers: Mapping[str, int],
    states: Mapping[int, TaskState],
    settings: ManagerSettings,
) -> Row:
    issue, task = existing.issue, desired.task
    reasons: list[str] = []
    fields: dict = {}
    if issue.state == "closed":
        fields.update(state="open")
        reasons.append("back in the manifest: reopened")
    if issue.title != desired.title:
        fields["title"] = desired.title
        reasons.append("title changed")
    if issue.body != desired.body:
        fields["body"] = desired.body
        reasons.append(_body_reason(existing, desired))
    add = [name for name in desired.owned_labels if name not in issue.labels]
    remove = [
        name for name in existing.marker.owned_labels if name not in desired.owned_labels and name in issue.labels
    ]
    if add or remove:
        reasons.append("labels " + " ".join([*(f"+{n}" for n in add), *(f"-{n}" for n in remove)]))
    change = _state_change(existing, desired, manifest, numbers, states, settings)
    if change:
        add += [name for name in change.add if name not in add]
        remove += [name for name in change.remove if name not in remove]
        reasons.append(change.reason)
        if change.close:
            fields.update(state="closed", state_reason="completed")
    # The manifest's assignee is set when the task is created or changed, not on every sync: a
    # login without access to the repository is dropped by GitHub and would be re-sent forever.
    content_changed = existing.marker.hash != desired.marker.hash
    if task.assignee and task.assignee not in issue.assignees and content_changed:
        fields["assignees"] = (task.assignee,)
        reasons.append(f"assignee +{task.assignee}")
    edit = IssueEdit(add_labels=tuple(add), remove_labels=tuple(remove), **fields)
    if edit.is_empty:
        return row
    unblocks = bool(change and change.to is TaskState.READY) or (issue.state == "closed" and not task.is_parent)
    return replace(row, action=Action.UPDATE, edit=edit, reasons=tuple(reasons), unblocks=unblocks)


def _body_reason(existing: ManagedIssue, desired: DesiredIssue) -> str:
    old, new = existing.marker, desired.marker
    if old.hash != new.hash:
        return "body changed"
    if (old.deps, old.parent, old.parts) != (new.deps, new.parent, new.parts):
        return "linked issue numbers changed"
    return "body differs from the manifest (edited on GitHub?)"


def _state_change(
    existing: ManagedIssue,
    desired: DesiredIssue,
    manifest: Manifest,
    numbers: Mapping[str, int],
    states: Mapping[int, TaskState],
    settings: ManagerSettings,
) -> StateChange | None:
    task, issue = desired.task, existing.issue
    if task.is_parent:
        # A parent is merged only when every part has an issue and each of them is merged.
        parts = desired.marker.parts if len(desired.marker.parts) == len(task.parts) else ()
        return parent_change(issue, parts, states, settings.labels)
    return dependency_change(issue, _waiting(task, manifest, numbers, states), settings.labels)


def _waiting(task: Task, manifest: Manifest, numbers: Mapping[str, int], states: Mapping[int, TaskState]) -> list[str]:
    """What `task` waits for: `#N` for dependencies with issues, the task id for those without one yet."""
    unresolved = [f"`{dep}`" for dep in task.depends_on if dep not in numbers]
    known = [numbers[dep] for dep in task.depends_on if dep in numbers]
    return [f"#{n}" for n in waiting_on(known, states)] + unresolved


def removed_rows(manifest: Manifest, inventory: Inventory, settings: ManagerSettings) -> list[Row]:
    """Open issues of tasks no longer in the manifest: closed as not planned, or kept (--keep-removed)."""
    rows = []
    wanted = {task.id for task in manifest.tasks}
    for task_id, managed in inventory.tasks.items():
        issue = managed.issue
        if task_id in wanted or issue.state != "open":
            continue
        row = Row(Action.UNCHANGED, task_id, issue.title, issue.number, ("removed from the manifest; kept open",))
        if task_state(issue, settings.labels) is TaskState.COMPLETED:
            # Its pull request closes it when merged; closing it here would hide the review.
            row = replace(row, reasons=("removed from the manifest; completed, left open",))
        elif settings.close_removed:
            body = with_task_marker(issue.body, replace(managed.marker, retired=True))
            edit = IssueEdit(body=body, state="closed", state_reason="not_planned")
            row = replace(row, action=Action.CLOSE, edit=edit, reasons=("removed from the manifest",))
        rows.append(row)
    return rows
