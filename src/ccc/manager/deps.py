"""Dependencies and coordinated tasks: which tasks are blocked, unblocked, or (parents) completed."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ccc.client import Issue
from ccc.manager.inventory import Inventory
from ccc.protocol.states import Labels, TaskState


@dataclass(frozen=True)
class StateChange:
    """A state transition as label edits; a completed parent is also closed."""

    to: TaskState
    add: tuple[str, ...]
    remove: tuple[str, ...]
    close: bool
    reason: str


def issue_state(issue: Issue, labels: Labels) -> TaskState:
    """The task state of an issue; closed as completed by a person counts as completed."""
    if issue.state == "closed" and issue.state_reason == "completed":
        return TaskState.COMPLETED
    return labels.state_of(issue.labels, issue.state)


def task_states(inventory: Inventory, labels: Labels) -> dict[int, TaskState]:
    """State of every managed issue by number; a parent counts as completed once all its parts are."""
    states = {m.number: issue_state(m.issue, labels) for m in inventory.tasks.values()}
    for managed in inventory.tasks.values():
        if parts_completed(managed.marker.parts, states):
            states[managed.number] = TaskState.COMPLETED
    return states


def parts_completed(part_numbers: Collection[int], states: Mapping[int, TaskState]) -> bool:
    return bool(part_numbers) and all(states.get(n) is TaskState.COMPLETED for n in part_numbers)


def waiting_on(dep_numbers: Sequence[int], states: Mapping[int, TaskState]) -> list[int]:
    """The dependencies not completed yet (a dependency without a known state is not completed)."""
    return [n for n in dep_numbers if states.get(n) is not TaskState.COMPLETED]


def dependency_change(issue: Issue, waiting: Sequence[str], labels: Labels) -> StateChange | None:
    """Block a ready task that waits for something, unblock a blocked one that no longer does.

    `waiting` names what it waits for ("#3", or a task id without an issue yet). Tasks a worker
    holds or finished are left alone: their dependencies were met when they were taken.
    """
    current = issue_state(issue, labels)
    if issue.state != "open" or current not in (TaskState.READY, TaskState.BLOCKED):
        return None
    target = TaskState.BLOCKED if waiting else TaskState.READY
    if target is current:
        return None
    add, remove = labels.transition(issue.labels, target)
    reason = f"blocked: waits for {', '.join(waiting)}" if waiting else "unblocked: its dependencies are completed"
    return StateChange(target, tuple(add), tuple(remove), close=False, reason=reason)


def parent_change(
    issue: Issue, part_numbers: Collection[int], states: Mapping[int, TaskState], labels: Labels
) -> StateChange | None:
    """A coordinated task's tracking issue becomes completed (and closes) when all its parts are."""
    if not parts_completed(part_numbers, states) or labels.completed in issue.labels:
        return None
    remove = tuple(name for name in labels.state_labels if name in issue.labels and name != labels.completed)
    return StateChange(
        TaskState.COMPLETED,
        (labels.completed,),
        remove,
        close=issue.state == "open",
        reason="completed: all its parts are completed",
    )
