"""Task states: an enum whose values are the label names users see, and the label edits between them.

A task issue is READY when open and carrying none of the state labels. Each transition removes the
sibling state labels and adds the new one, so running it twice changes nothing. Which state an issue
is in, and who writes a transition, is `ccc.protocol.lifecycle`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class TaskState(str, Enum):
    READY = "ready"  # no state label: waiting for a worker
    BLOCKED = "blocked"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"  # delivered: the PR is open (labels `completed` and `ready-for-review`)
    MERGED = "merged"  # the issue closed as completed: its PR merged ("Closes #N"), or a person said it is done
    FAILED = "failed"
    RETIRED = "retired"  # issue closed otherwise (removed from the manifest, or closed as not planned)

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.MERGED, TaskState.FAILED, TaskState.RETIRED)

    @property
    def is_delivered(self) -> bool:
        """Its PR is open or merged: what dependents wait for."""
        return self in (TaskState.COMPLETED, TaskState.MERGED)


class Priority(str, Enum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Sort key: high first."""
        return {"high": 0, "normal": 1, "low": 2}[self.value]


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str  # six hex digits, no '#'
    description: str


@dataclass(frozen=True)
class Labels:
    """Label names the protocol uses; every one is configurable (settings → `Labels(...)`)."""

    in_progress: str = "in-progress"
    completed: str = "completed"
    failed: str = "failed"
    blocked: str = "blocked"
    ready_for_review: str = "ready-for-review"
    priority_high: str = "priority-high"
    priority_normal: str = "priority-normal"
    priority_low: str = "priority-low"

    def with_overrides(self, **names: str) -> Labels:
        return replace(self, **{k: v for k, v in names.items() if v})

    def state_label(self, state: TaskState) -> str | None:
        return {
            TaskState.IN_PROGRESS: self.in_progress,
            TaskState.COMPLETED: self.completed,
            TaskState.FAILED: self.failed,
            TaskState.BLOCKED: self.blocked,
        }.get(state)

    @property
    def state_labels(self) -> tuple[str, ...]:
        return (self.in_progress, self.completed, self.failed, self.blocked)

    def priority_label(self, priority: Priority) -> str:
        return {
            Priority.HIGH: self.priority_high,
            Priority.NORMAL: self.priority_normal,
            Priority.LOW: self.priority_low,
        }[priority]

    def priority_of(self, labels: tuple[str, ...] | list[str]) -> Priority:
        if self.priority_high in labels:
            return Priority.HIGH
        if self.priority_low in labels:
            return Priority.LOW
        return Priority.NORMAL

    def transition(self, labels: tuple[str, ...] | list[str], to: TaskState) -> tuple[list[str], list[str]]:
        """(labels to add, labels to remove) to move an issue with `labels` into state `to`."""
        target = self.state_label(to)
        add = [target] if target and target not in labels else []
        if to is TaskState.COMPLETED and self.ready_for_review not in labels:
            add.append(self.ready_for_review)
        remove = [name for name in self.state_labels if name in labels and name != target]
        return add, remove

    def specs(self) -> list[LabelSpec]:
        """The labels the protocol needs, with colours and descriptions, for creating them."""
        return [
            LabelSpec(self.in_progress, "fbca04", "ccc: a worker holds this task"),
            LabelSpec(self.completed, "0e8a16", "ccc: the task is done and its PR is open"),
            LabelSpec(self.failed, "b60205", "ccc: the task failed after its maximum attempts"),
            LabelSpec(self.blocked, "d4c5f9", "ccc: waiting for dependencies to complete"),
            LabelSpec(self.ready_for_review, "1d76db", "ccc: the pull request awaits review"),
            LabelSpec(self.priority_high, "d93f0b", "ccc: taken before other tasks"),
            LabelSpec(self.priority_normal, "c5def5", "ccc: normal priority"),
            LabelSpec(self.priority_low, "ededed", "ccc: taken after other tasks"),
        ]


def worker_label_spec(label: str) -> LabelSpec:
    """The label that routes a task to one worker (cc01, cc02, …) or the shared pool."""
    return LabelSpec(label, "5319e7", f"ccc: tasks for worker {label}")
