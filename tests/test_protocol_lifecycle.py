"""The task lifecycle: one state for an issue everywhere, and verbs that write each transition once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from builders import make_issue
from ccc.client import Issue, RepoClient, connect
from ccc.manager.settings import ManagerSettings
from ccc.manager.summarize import summarize
from ccc.manager.sync import sync
from ccc.manifest import load_manifests
from ccc.protocol.claims import ClaimKind, ClaimStore
from ccc.protocol.lifecycle import (
    Lifecycle,
    Note,
    dependency_change,
    parent_change,
    task_state,
    task_states,
    waiting_on,
)
from ccc.protocol.markers import TaskMarker, with_task_marker
from ccc.protocol.states import Labels, TaskState
from ccc.status import StatusReader
from ccc.worker.queue import Trust, WorkQueue

LABELS = Labels()
LEASE = timedelta(minutes=5)


def issue(labels=(), state="open", state_reason=None, **kwargs) -> Issue:
    return make_issue(labels=labels, state=state, state_reason=state_reason, **kwargs)


# -- task_state: one derivation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "state", "reason", "expected"),
    [
        ((), "open", None, TaskState.READY),
        (("cc02", "in-progress"), "open", None, TaskState.IN_PROGRESS),
        (("blocked",), "open", None, TaskState.BLOCKED),
        (("failed", "in-progress"), "open", None, TaskState.FAILED),
        (("completed", "in-progress"), "open", None, TaskState.COMPLETED),
        (("completed", "ready-for-review"), "closed", "completed", TaskState.MERGED),
        ((), "closed", "completed", TaskState.MERGED),
        (("completed",), "closed", None, TaskState.MERGED),
        ((), "closed", "duplicate", TaskState.RETIRED),
        (("cc01",), "closed", "not_planned", TaskState.RETIRED),
    ],
)
def test_task_state_reads_the_open_issue_labels_and_the_closed_issue_reason(labels, state, reason, expected):
    assert task_state(issue(labels, state, reason), LABELS) is expected


def test_configured_label_names_are_read():
    labels = Labels().with_overrides(in_progress="wip")
    assert task_state(issue(("wip",)), labels) is TaskState.IN_PROGRESS


def test_a_parent_is_delivered_when_its_parts_are_and_merged_when_they_merged():
    parent_body = with_task_marker("", TaskMarker(id="p", manifest="m", hash="h", parts=(2, 3)))
    parent = issue(number=1, body=parent_body)
    delivered = issue(("completed",), number=2)
    merged = issue(("completed",), "closed", "completed", number=3)
    assert task_states([parent, delivered, merged], LABELS)[1] is TaskState.COMPLETED
    merged_too = issue((), "closed", "completed", number=2)
    assert task_states([parent, merged_too, merged], LABELS)[1] is TaskState.MERGED


def test_waiting_on_lists_dependencies_not_delivered():
    states = {1: TaskState.COMPLETED, 2: TaskState.IN_PROGRESS, 4: TaskState.MERGED, 5: TaskState.RETIRED}
    assert waiting_on([1, 2, 3, 4, 5], states) == [2, 3, 5]


# -- the rules: which transition is due ------------------------------------------------------------


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


def test_parent_is_merged_and_closed_only_when_every_part_merged():
    states = {2: TaskState.MERGED, 3: TaskState.COMPLETED}
    assert parent_change(issue(), [2, 3], states, LABELS) is None

    states[3] = TaskState.MERGED
    change = parent_change(issue(["blocked"]), [2, 3], states, LABELS)
    assert (change.to, change.add, change.remove, change.close) == (
        TaskState.MERGED,
        ("completed", "ready-for-review"),
        ("blocked",),
        True,
    )
    assert parent_change(issue(["completed"], "closed", "completed"), [2, 3], states, LABELS) is None
    assert parent_change(issue(), [], states, LABELS) is None


# -- the verbs, against the sandbox ---------------------------------------------------------------


def client_for(sandbox, login: str = "maintainer") -> RepoClient:
    return connect(
        repo=sandbox.repo,
        api_url=sandbox.api_url,
        token=sandbox.token(login),
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def lifecycle_for(sandbox, *, max_attempts: int = 2) -> Lifecycle:
    client = client_for(sandbox)
    return Lifecycle(client, LABELS, ClaimStore(client, max_attempts=max_attempts))


def new_issue(lifecycle: Lifecycle, labels=("cc01",), body: str = "work") -> Issue:
    marker = f"<!-- test {uuid.uuid4().hex} -->"
    return lifecycle.client.create_issue(title="task", body=f"{marker}\n{body}", labels=labels, marker=marker)


def claimed(lifecycle: Lifecycle, task: Issue):
    claim = lifecycle.claim(task, worker="cc01", run_id="1", run_url="", lease=LEASE)
    if claim is not None:
        lifecycle.announce(task, None, assignee="maintainer")
    return claim, lifecycle.client.get_issue(task.number)


def test_a_won_claim_is_announced_with_label_and_assignee_and_a_lost_one_writes_no_labels(sandbox):
    lifecycle = lifecycle_for(sandbox)
    task = new_issue(lifecycle)
    claim, after = claimed(lifecycle, task)
    assert claim is not None and "in-progress" in after.labels and after.assignees == ("maintainer",)

    writes = dict(lifecycle.client.counter.by_operation())
    assert lifecycle.claim(task, worker="cc02", run_id="2", run_url="", lease=LEASE) is None
    after_race = lifecycle.client.counter.by_operation()
    assert [after_race.get(op) for op in ("add_labels", "add_assignees")] == [writes["add_labels"], 1]


def test_stage_twice_writes_nothing_the_second_time(sandbox):
    lifecycle = lifecycle_for(sandbox)
    task = new_issue(lifecycle, labels=("cc01", "in-progress"))
    after = lifecycle.stage(task.number, task.labels, TaskState.COMPLETED)
    before = lifecycle.client.counter.total
    assert lifecycle.stage(task.number, after, TaskState.COMPLETED) == after
    assert lifecycle.client.counter.total == before
    assert set(lifecycle.client.get_issue(task.number).labels) == {"cc01", "completed", "ready-for-review"}


def test_give_back_releases_while_attempts_are_left_then_fails(sandbox):
    lifecycle = lifecycle_for(sandbox, max_attempts=2)
    task = new_issue(lifecycle)
    finals = []

    def note(claim, state):
        finals.append(state)
        return Note(
            f"attempt {claim.record.attempt}: {state.value} <!-- n{claim.record.attempt} -->",
            f"n{claim.record.attempt}",
        )

    claim, task = claimed(lifecycle, task)
    _, state = lifecycle.give_back(claim, task, "agent failed", note)
    assert state is TaskState.READY and task_state(lifecycle.client.get_issue(task.number), LABELS) is TaskState.READY

    claim, task = claimed(lifecycle, task)
    ended, state = lifecycle.give_back(claim, task, "agent failed again", note)
    assert state is TaskState.FAILED and ended.record.kind is ClaimKind.FAIL
    assert task_state(lifecycle.client.get_issue(task.number), LABELS) is TaskState.FAILED
    assert finals == [TaskState.READY, TaskState.FAILED]
    assert len(lifecycle.client.list_comments(task.number)) == 2


def test_settle_makes_labels_follow_a_claim_that_ended_without_them(sandbox):
    lifecycle = lifecycle_for(sandbox, max_attempts=1)
    task = new_issue(lifecycle)
    claim, task = claimed(lifecycle, task)
    released = lifecycle.store.release(claim, "stopped before relabelling")  # no attempts left: it cannot be retried
    assert lifecycle.settle(task, released.record) is TaskState.FAILED
    assert task_state(lifecycle.client.get_issue(task.number), LABELS) is TaskState.FAILED


def test_completing_a_task_unblocks_dependents_whose_dependencies_are_all_delivered(sandbox):
    lifecycle = lifecycle_for(sandbox)
    first, second = new_issue(lifecycle), new_issue(lifecycle)
    marker = TaskMarker(id="c", manifest="m", hash="h", deps=(first.number, second.number))
    dependent = new_issue(lifecycle, labels=("cc01", "blocked"), body=with_task_marker("c", marker))
    first_marker = with_task_marker("a", TaskMarker(id="a", manifest="m", hash="h"))
    lifecycle.client.update_issue(first.number, body=first_marker)

    claim, first = claimed(lifecycle, lifecycle.client.get_issue(first.number))
    lifecycle.complete(claim, pr_url="https://example.test/pull/9")
    assert lifecycle.delivered(first, None) is None
    assert "blocked" in lifecycle.client.get_issue(dependent.number).labels  # still waits for the second

    lifecycle.client.update_issue(second.number, state="closed", state_reason="completed")  # merged
    lifecycle.unblock_dependents(second.number)
    assert task_state(lifecycle.client.get_issue(dependent.number), LABELS) is TaskState.READY
    assert lifecycle.store.read(first.number).kind is ClaimKind.COMPLETE


# -- everyone agrees: a person closes a task as completed ------------------------------------------


def test_a_task_a_person_closes_as_completed_is_merged_everywhere_and_its_dependents_proceed(sandbox, tmp_path):
    root: Path = tmp_path / "repo"
    manifest = root / ".github/ccc/tasks.yml"
    manifest.parent.mkdir(parents=True)
    tasks = [
        {"id": "a", "title": "A", "body": "a", "worker": "cc01"},
        {"id": "b", "title": "B", "body": "b", "worker": "cc01", "depends_on": ["a"]},
    ]
    manifest.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}))
    settings = ManagerSettings(root=root, manager_login="maintainer", max_writes_per_minute=0)
    client = client_for(sandbox)
    sync(client, load_manifests(root), settings)
    assert "blocked" in client.get_issue(2).labels

    client.update_issue(1, state="closed", state_reason="completed")  # a person: "this is done"

    summary = summarize(client, settings)  # the manager
    assert summary.state_changes == ("#2 unblocked: its dependencies are delivered",)
    assert summary.dashboard.counts["merged"] == 1 and summary.dashboard.counts["ready"] == 1
    status = StatusReader(client, manager_login="maintainer").read()  # `ccc status`
    assert [(t.number, t.state) for t in status.tasks] == [(1, TaskState.MERGED), (2, TaskState.READY)]
    queue = WorkQueue(client, served=("cc01",), labels=LABELS, trust=Trust(client, ("maintainer",)))
    ready, _ = queue.split(queue.listing())  # a worker
    assert [i.number for i in ready] == [2] and queue.dependencies_done(ready[0], {})
