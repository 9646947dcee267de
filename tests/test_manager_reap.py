"""Reaping against the sandbox: expired leases are released for a retry, or failed when out of attempts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ccc.client import RepoClient
from ccc.manager.reap import prune_claims, reap_leases
from ccc.manager.settings import ManagerSettings
from ccc.manager.summarize import summarize
from ccc.manager.sync import sync
from ccc.manifest import load_manifests
from ccc.protocol.claims import ClaimKind, ClaimStore
from ccc.protocol.states import TaskState
from conftest import UNPACED, repo_client


def client_for(sandbox) -> RepoClient:
    return repo_client(sandbox)


def settings_for(root: Path, **overrides) -> ManagerSettings:
    return ManagerSettings(root=root, manager_login="maintainer", **{**UNPACED, **overrides})


@pytest.fixture
def root(tmp_path, sandbox):
    root = tmp_path / "repo"
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True)
    tasks = [{"id": f"t{i}", "title": f"Task {i}", "body": "work", "worker": "cc01"} for i in range(2)]
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}))
    sync(client_for(sandbox), load_manifests(root), settings_for(root))
    return root


def hold(sandbox, number: int, *, lease: timedelta, attempts: int = 1) -> None:
    """A worker claims the task (taking it over `attempts - 1` times after its own leases expired)."""
    client = client_for(sandbox)
    store = ClaimStore(client)
    store.claim(number, worker="cc01", run_id="1", run_url="", lease=timedelta(minutes=-1) if attempts > 1 else lease)
    for attempt in range(2, attempts + 1):
        store.claim(
            number,
            worker="cc01",
            run_id=str(attempt),
            run_url="",
            lease=lease if attempt == attempts else timedelta(minutes=-1),
        )
    client.add_labels(number, ["in-progress"])


def test_expired_lease_is_released_for_a_retry_with_a_comment(sandbox, root):
    hold(sandbox, 1, lease=timedelta(minutes=-1))
    hold(sandbox, 2, lease=timedelta(minutes=30))  # alive: left alone

    reaped = reap_leases(client_for(sandbox), settings_for(root))

    assert [(r.number, r.worker, r.attempt, r.outcome) for r in reaped] == [(1, "cc01", 1, TaskState.READY)]
    client = client_for(sandbox)
    assert "in-progress" not in client.get_issue(1).labels
    assert "in-progress" in client.get_issue(2).labels
    record = ClaimStore(client).read(1)
    assert record.kind is ClaimKind.RELEASE
    [comment] = client.list_comments(1)
    assert "lease of **cc01**" in comment.body and "attempt 2" in comment.body


def test_released_task_can_be_claimed_again_as_the_next_attempt(sandbox, root):
    hold(sandbox, 1, lease=timedelta(minutes=-1))
    reap_leases(client_for(sandbox), settings_for(root))

    claim = ClaimStore(client_for(sandbox)).claim(1, worker="cc02", run_id="2", run_url="", lease=timedelta(minutes=5))

    assert claim is not None and claim.record.attempt == 2


def test_task_out_of_attempts_is_marked_failed(sandbox, root):
    hold(sandbox, 1, lease=timedelta(minutes=-1), attempts=3)

    [reaped] = reap_leases(client_for(sandbox), settings_for(root, max_attempts=3))

    assert (reaped.attempt, reaped.outcome) == (3, TaskState.FAILED)
    labels = client_for(sandbox).get_issue(1).labels
    assert "failed" in labels and "in-progress" not in labels
    assert ClaimStore(client_for(sandbox)).read(1).kind is ClaimKind.FAIL


def test_a_second_reap_changes_nothing(sandbox, root):
    hold(sandbox, 1, lease=timedelta(minutes=-1))
    reap_leases(client_for(sandbox), settings_for(root))

    client = client_for(sandbox)
    assert reap_leases(client, settings_for(root)) == []
    assert client.counter.writes == 0


def test_summarize_with_reap_releases_expired_leases(sandbox, root):
    hold(sandbox, 2, lease=timedelta(minutes=-1))

    result = summarize(client_for(sandbox), settings_for(root, reap=True))

    assert [r.number for r in result.reaped] == [2]
    assert result.dashboard.counts["ready"] == 2


def test_summarize_without_reap_reports_the_expired_lease(sandbox, root):
    hold(sandbox, 2, lease=timedelta(minutes=1))
    later = datetime.now(timezone.utc) + timedelta(minutes=5)

    result = summarize(client_for(sandbox), settings_for(root), clock=lambda: later)

    assert [task.number for task in result.dashboard.expired] == [2]
    assert result.reaped == ()
    assert "in-progress" in client_for(sandbox).get_issue(2).labels


def test_released_claim_still_labelled_in_progress_is_relabelled(sandbox, root):
    client = client_for(sandbox)
    store = ClaimStore(client)
    store.release(store.claim(1, worker="cc01", run_id="1", run_url="", lease=timedelta(minutes=5)), "agent failed")
    client.add_labels(1, ["in-progress"])  # the worker died before removing it

    [reaped] = reap_leases(client_for(sandbox), settings_for(root))

    assert reaped.outcome is TaskState.READY
    assert "in-progress" not in client_for(sandbox).get_issue(1).labels
    assert client_for(sandbox).list_comments(1) == []


def test_claim_refs_of_tasks_closed_past_the_retention_are_deleted_once_their_log_is_kept(sandbox, root):
    client = client_for(sandbox)
    store = ClaimStore(client)
    done = store.claim(1, worker="cc01", run_id="1", run_url="", lease=timedelta(minutes=5))
    store.complete(done, pr_url="http://pulls/7")
    store.claim(2, worker="cc02", run_id="2", run_url="", lease=timedelta(minutes=5))
    client.update_issue(1, state="closed")
    now = datetime.now(timezone.utc)

    assert prune_claims(client_for(sandbox), settings_for(root), now=now) == []  # closed, but not for long
    later = now + timedelta(days=31)
    assert prune_claims(client_for(sandbox), settings_for(root), now=later) == [1]

    assert client.get_ref("refs/ccc/claims/1") is None and client.get_ref("refs/ccc/claims/2") is not None
    (log,) = [c.body for c in client.list_comments(1)]
    assert "refs/ccc/claims/1" in log and "| 1 | complete | cc01 |" in log and "http://pulls/7" in log
    assert prune_claims(client_for(sandbox), settings_for(root), now=later) == []  # nothing left to prune
