"""summarize against the sandbox: request budget, newly completed tasks, unblocking, parents, the dashboard issue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ccc.client import RepoClient
from ccc.manager.history import epoch, read_history
from ccc.manager.settings import ManagerSettings
from ccc.manager.summarize import summarize
from ccc.manager.sync import sync
from ccc.manifest import load_manifests
from ccc.protocol.claims import ClaimStore
from ccc.protocol.markers import DASHBOARD_MARKER
from ccc.protocol.states import TaskState
from conftest import UNPACED, repo_client

BIG = 1000
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def client_for(sandbox, login: str = "maintainer", **kwargs) -> RepoClient:
    return repo_client(sandbox, login, **kwargs)


def settings_for(root: Path, **overrides) -> ManagerSettings:
    return ManagerSettings(root=root, manager_login="maintainer", **{**UNPACED, **overrides})


def synced(sandbox, root: Path, tasks: list[dict]) -> None:
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}, sort_keys=False))
    sync(client_for(sandbox), load_manifests(root), settings_for(root))


def chain(count: int) -> list[dict]:
    return [
        {
            "id": f"t{i}",
            "title": f"Task {i}",
            "body": "work",
            "worker": "cc01",
            **({"depends_on": [f"t{i - 1}"]} if i else {}),
        }
        for i in range(count)
    ]


def complete(sandbox, number: int, *, worker: str = "cc01") -> None:
    """What a worker does on delivering: claim, finish the claim, completion labels."""
    client = client_for(sandbox)
    store = ClaimStore(client)
    claim = store.claim(number, worker=worker, run_id="1", run_url="", lease=timedelta(minutes=5))
    store.complete(claim, pr_url=f"https://example.test/pull/{number + 100}")
    client.remove_label(number, "in-progress")
    client.add_labels(number, ["completed", "ready-for-review"])


def run(sandbox, root: Path, **overrides):
    client = client_for(sandbox)
    return summarize(client, settings_for(root, **overrides)), client


def dashboards(sandbox) -> list:
    return [i for i in client_for(sandbox).list_issues(state="all") if DASHBOARD_MARKER in i.body]


@pytest.fixture
def root(tmp_path):
    return tmp_path / "repo"


def test_summarize_over_a_thousand_tasks_costs_at_most_twelve_requests(unlimited_sandbox, root):
    sandbox = unlimited_sandbox
    synced(sandbox, root, [{"id": f"t{i}", "title": f"Task {i}", "body": "w", "worker": "cc02"} for i in range(BIG)])

    first, client = run(sandbox, root)
    assert client.counter.total <= 12
    assert first.dashboard.counts["ready"] == BIG
    assert len(first.dashboard.tasks) == BIG

    second, client = run(sandbox, root)
    assert client.counter.total <= 11
    assert client.counter.writes == 0  # nothing changed: the dashboard is not rewritten
    assert second.dashboard_issue == first.dashboard_issue
    assert len(dashboards(sandbox)) == 1


def test_newly_completed_tasks_are_reported_once(sandbox, root):
    synced(sandbox, root, chain(3))
    run(sandbox, root)
    complete(sandbox, 1)

    first, _ = run(sandbox, root)
    second, _ = run(sandbox, root)

    assert [task.number for task in first.newly_completed] == [1]
    assert first.newly_completed[0].pr == "https://example.test/pull/101"
    assert first.newly_completed[0].attempts == 1
    assert second.newly_completed == ()


def test_summarize_unblocks_the_dependents_of_a_completed_task(sandbox, root):
    synced(sandbox, root, chain(3))
    complete(sandbox, 1)

    result, _ = run(sandbox, root)

    assert result.state_changes == ("#2 unblocked: its dependencies are delivered",)
    labels = client_for(sandbox).get_issue(2).labels
    assert "blocked" not in labels
    assert "blocked" in client_for(sandbox).get_issue(3).labels


def test_parent_is_delivered_with_its_parts_and_merged_and_closed_when_they_merged(sandbox, root):
    synced(
        sandbox,
        root,
        [
            {
                "id": "dash",
                "title": "Dashboard",
                "parts": [
                    {"id": "ui", "title": "UI", "worker": "cc01", "body": "ui"},
                    {"id": "api", "title": "API", "worker": "cc02", "body": "api"},
                ],
            }
        ],
    )
    complete(sandbox, 2)
    complete(sandbox, 3, worker="cc02")
    result, _ = run(sandbox, root)
    assert client_for(sandbox).get_issue(1).state == "open"
    assert result.dashboard.counts["completed"] == 3  # delivered: the parts' PRs are open

    for part in (2, 3):  # their PRs merge: GitHub closes each part as completed ("Closes #N")
        client_for(sandbox).update_issue(part, state="closed", state_reason="completed")
    result, _ = run(sandbox, root)

    parent = client_for(sandbox).get_issue(1)
    assert (parent.state, parent.state_reason) == ("closed", "completed")
    assert "completed" in parent.labels
    assert result.dashboard.counts["merged"] == 3
    assert result.state_changes == ("#1 merged: all its parts are merged",)


def test_claim_reads_are_bounded_and_the_rest_wait_for_the_next_run(sandbox, root):
    synced(sandbox, root, [{"id": f"t{i}", "title": f"T{i}", "body": "w", "worker": "cc01"} for i in range(5)])
    for number in range(1, 6):
        complete(sandbox, number)

    first, _ = run(sandbox, root, max_claim_reads=3)
    second, _ = run(sandbox, root, max_claim_reads=3)
    third, client = run(sandbox, root, max_claim_reads=3)

    assert (first.claim_reads, first.claim_reads_deferred) == (3, 2)
    assert (second.claim_reads, second.claim_reads_deferred) == (2, 0)
    assert third.claim_reads == 0
    assert "get_ref" not in client.counter.by_operation()
    assert len(first.newly_completed) == 5 and second.newly_completed == ()
    history = read_history(dashboards(sandbox)[0].body)
    assert all(entry.worker == "cc01" and entry.attempts == 1 for entry in history.tasks.values())


def test_in_progress_task_shows_its_worker_and_lease(sandbox, root):
    synced(sandbox, root, chain(1))
    client = client_for(sandbox)
    ClaimStore(client).claim(1, worker="cc01-runner", run_id="9", run_url="", lease=timedelta(minutes=30))
    client.add_labels(1, ["in-progress"])

    result, _ = run(sandbox, root)

    [task] = result.dashboard.in_progress
    assert task.worker == "cc01-runner" and task.lease > 0
    assert result.dashboard.expired == ()
    assert "cc01-runner" in dashboards(sandbox)[0].body


def test_no_dashboard_issue_writes_no_issue(sandbox, root):
    synced(sandbox, root, chain(2))

    result, client = run(sandbox, root, dashboard_issue=False)

    assert result.dashboard_issue is None
    assert dashboards(sandbox) == []
    assert client.counter.writes == 0


def test_dashboard_issue_by_someone_else_is_not_used(sandbox, root):
    synced(sandbox, root, chain(1))
    client_for(sandbox, "outside-triager").create_issue(
        title="fake", body=f"{DASHBOARD_MARKER}\nmine", marker=DASHBOARD_MARKER
    )

    result, _ = run(sandbox, root)

    assert result.dashboard_issue == 3
    assert result.dashboard.counts[TaskState.READY.value] == 1


def test_work_time_comes_from_the_claim_log_when_a_task_finished_between_two_summaries(sandbox, root):
    synced(sandbox, root, chain(1))
    run(sandbox, root)
    moments = iter(T0 + timedelta(seconds=s) for s in (0, 60, 180))
    client = client_for(sandbox)
    store = ClaimStore(client, clock=lambda: next(moments))
    claim = store.claim(1, worker="cc01", run_id="1", run_url="", lease=timedelta(minutes=5))
    store.complete(store.renew(claim, timedelta(minutes=5)), pr_url="https://example.test/pull/9")
    client.add_labels(1, ["completed"])

    result, counted = run(sandbox, root)

    [task] = result.dashboard.recent
    assert (task.started, task.finished, task.work_seconds) == (epoch(T0), epoch(T0) + 180, 180)
    assert result.dashboard.workers[0].median_work_seconds == 180
    assert counted.counter.by_operation()["get_commit"] == 1 + 3  # the head, then the log of three entries
