"""Dependency states: blocking, unblocking, completing parents — and leaving held or finished tasks alone."""

from __future__ import annotations

from datetime import datetime, timezone

from builders import make_issue
from ccc.client import Issue
from ccc.manager.deps import dependency_change, issue_state, parent_change, waiting_on
from ccc.protocol.states import Labels, TaskState

LABELS = Labels()
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def issue(labels=(), state="open", state_reason=None) -> Issue:
    return make_issue(labels=labels, state=state, state_reason=state_reason)


def test_waiting_on_lists_dependencies_not_completed():
    states = {1: TaskState.COMPLETED, 2: TaskState.IN_PROGRESS}

    assert waiting_on([1, 2, 3], states) == [2, 3]


def test_ready_task_with_open_dependencies_is_blocked_and_unblocked_later():
    blocked = dependency_change(issue(["cc01"]), ["#2"], LABELS)
    assert (blocked.to, blocked.add, blocked.remove) == (TaskState.BLOCKED, ("blocked",), ())

    unblocked = dependency_change(issue(["cc01", "blocked"]), [], LABELS)
    assert (unblocked.to, unblocked.add, unblocked.remove) == (TaskState.READY, (), ("blocked",))


def test_no_change_when_the_state_already_fits():
    assert dependency_change(issue(["blocked"]), ["#2"], LABELS) is None
    assert dependency_change(issue([]), [], LABELS) is None


def test_held_finished_and_closed_tasks_are_left_alone():
    for labels in (["in-progress"], ["completed"], ["failed"]):
        assert dependency_change(issue(labels), ["#2"], LABELS) is None
    assert dependency_change(issue([], state="closed"), ["#2"], LABELS) is None


def test_issue_closed_as_completed_by_a_person_counts_as_completed():
    assert issue_state(issue([], state="closed", state_reason="completed"), LABELS) is TaskState.COMPLETED
    assert issue_state(issue([], state="closed", state_reason="not_planned"), LABELS) is TaskState.RETIRED


def test_parent_completes_only_when_every_part_has():
    states = {2: TaskState.COMPLETED, 3: TaskState.IN_PROGRESS}
    assert parent_change(issue(), [2, 3], states, LABELS) is None

    states[3] = TaskState.COMPLETED
    change = parent_change(issue(["blocked"]), [2, 3], states, LABELS)
    assert (change.add, change.remove, change.close) == (("completed",), ("blocked",), True)
    assert parent_change(issue(["completed"]), [2, 3], states, LABELS) is None
    assert parent_change(issue(), [], states, LABELS) is None
