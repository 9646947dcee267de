"""What a task's issue should look like: title, body with its marker, the labels the manifest owns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ccc.manager.settings import ManagerSettings
from ccc.manifest import Manifest, Task
from ccc.protocol.markers import TaskMarker, with_task_marker
from ccc.protocol.states import Priority
from ccc.render import render

ISSUE_BODY_TEMPLATE = "issue_body.md.j2"


@dataclass(frozen=True)
class DesiredIssue:
    task: Task
    title: str
    body: str  # ends with the task marker
    owned_labels: tuple[str, ...]  # sorted
    marker: TaskMarker
    open: bool
    # Ids of referenced tasks (dependencies, parent, parts) whose issues do not exist yet: once they
    # do, this issue's body and marker change.
    unresolved: tuple[str, ...]


def owned_labels(task: Task, settings: ManagerSettings) -> tuple[str, ...]:
    worker = settings.worker_label(task.worker)
    priority = settings.labels.priority_label(Priority(task.priority))
    return tuple(sorted({*task.labels, priority, *([worker] if worker else [])}))


def desire(task: Task, manifest: Manifest, numbers: Mapping[str, int], settings: ManagerSettings) -> DesiredIssue:
    """The issue for `task`, given the issue numbers of the tasks that exist so far."""
    parts = [manifest.by_id(part_id) for part_id in task.parts]
    parent = manifest.by_id(task.parent) if task.parent else None
    deps = [manifest.by_id(dep_id) for dep_id in task.depends_on]
    referenced = [*deps, *parts, *([parent] if parent else [])]
    labels = owned_labels(task, settings)
    marker = TaskMarker(
        id=task.id,
        manifest=task.source,
        hash=task.content_hash(),
        deps=tuple(numbers[dep.id] for dep in deps if dep.id in numbers),
        dep_ids=task.depends_on,
        parent=numbers.get(parent.id) if parent else None,
        parts=tuple(numbers[part.id] for part in parts if part.id in numbers),
        owned_labels=labels,
        retired=task.state == "closed",
        worker=settings.worker_label(task.worker),
    )
    text = render(
        ISSUE_BODY_TEMPLATE,
        override_dir=settings.template_dir,
        body=task.body,
        task_id=task.id,
        manifest=task.source,
        parent=_reference(parent, numbers, settings) if parent else None,
        parts=[_reference(part, numbers, settings) for part in parts],
        depends_on=[_reference(dep, numbers, settings) for dep in deps],
    )
    return DesiredIssue(
        task=task,
        title=task.title,
        body=with_task_marker(text, marker),
        owned_labels=labels,
        marker=marker,
        open=task.state != "closed",
        unresolved=tuple(t.id for t in referenced if t.id not in numbers),
    )


def _reference(task: Task, numbers: Mapping[str, int], settings: ManagerSettings) -> dict:
    number = numbers.get(task.id)
    return {
        "ref": f"#{number}" if number else f"`{task.id}` (issue not created yet)",
        "worker": settings.worker_label(task.worker),
    }
