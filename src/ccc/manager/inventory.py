"""The manager's view of the repository from one paginated listing: its task issues and its dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccc.client import Issue
from ccc.protocol.lifecycle import task_states
from ccc.protocol.markers import DASHBOARD_MARKER, TaskMarker, read_task_marker
from ccc.protocol.states import Labels, TaskState


@dataclass(frozen=True)
class ManagedIssue:
    issue: Issue
    marker: TaskMarker

    @property
    def number(self) -> int:
        return self.issue.number


@dataclass(frozen=True)
class Inventory:
    tasks: dict[str, ManagedIssue]  # by task id; the oldest issue when an id has several
    dashboard: Issue | None
    ignored: tuple[Issue, ...]  # issues with a task marker written by someone else (forged or copied)
    duplicates: tuple[ManagedIssue, ...]  # younger issues for a task id that already has one

    def by_number(self) -> dict[int, ManagedIssue]:
        return {managed.number: managed for managed in self.tasks.values()}

    def states(self, labels: Labels) -> dict[int, TaskState]:
        """The state of every managed issue by number (parents' from their parts)."""
        return task_states((managed.issue for managed in self.tasks.values()), labels)


def take_inventory(issues: Iterable[Issue], *, manager_login: str) -> Inventory:
    """Sort one listing (oldest first) into managed task issues, the dashboard, and what is ignored.

    Only issues the manager itself wrote count: anyone can open an issue whose body ends with a
    copied or forged task marker, and adopting it would hand a stranger's text to the workers.
    """
    tasks: dict[str, ManagedIssue] = {}
    ignored: list[Issue] = []
    duplicates: list[ManagedIssue] = []
    dashboard = None
    for issue in sorted(issues, key=lambda i: i.number):
        if issue.is_pull_request:
            continue
        marker = read_task_marker(issue.body)
        ours = issue.author.lower() == manager_login.lower()
        if marker is None:
            if ours and dashboard is None and DASHBOARD_MARKER in issue.body:
                dashboard = issue
            continue
        if not ours:
            ignored.append(issue)  # the caller says so, once (an annotation in Actions)
        elif marker.id in tasks:
            duplicates.append(ManagedIssue(issue, marker))
        else:
            tasks[marker.id] = ManagedIssue(issue, marker)
    return Inventory(tasks=tasks, dashboard=dashboard, ignored=tuple(ignored), duplicates=tuple(duplicates))
