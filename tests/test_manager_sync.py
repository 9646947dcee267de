"""sync against the sandbox with the real PyGithub client: exactly-once creates, zero-write re-syncs, edits."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ccc.client import RepoClient
from ccc.manager.pacing import Pacer
from ccc.manager.progress import Progress
from ccc.manager.settings import ManagerSettings
from ccc.manager.sync import read_inventory, recent_creations, sync
from ccc.manifest import load_manifests
from ccc.protocol.markers import read_task_marker
from conftest import UNPACED, repo_client

BIG = 1000
CREATE_ROUTE = "/repos/{owner}/{repo}/issues"


def write_manifest(root: Path, tasks: list[dict]) -> None:
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}, sort_keys=False))


def many_tasks(count: int) -> list[dict]:
    """Chains of ten: each task but the first of a chain depends on the one before."""
    return [
        {
            "id": f"t{i:04d}",
            "title": f"Task {i}",
            "body": f"Do thing {i}",
            "worker": f"cc0{i % 3 + 1}",
            **({"depends_on": [f"t{i - 1:04d}"]} if i % 10 else {}),
        }
        for i in range(count)
    ]


def client_for(sandbox, login: str = "maintainer", **kwargs) -> RepoClient:
    return repo_client(sandbox, login, **kwargs)


def run_sync(sandbox, root: Path, *, client: RepoClient | None = None, pacer: Pacer | None = None, **overrides):
    settings = ManagerSettings(root=root, manager_login="maintainer", **{**UNPACED, **overrides})
    client = client or client_for(sandbox)
    return sync(client, load_manifests(root), settings, pacer=pacer), client


def all_issues(sandbox):
    return client_for(sandbox).list_issues(state="all")


def task_ids(issues) -> list[str]:
    return [read_task_marker(issue.body).id for issue in issues if read_task_marker(issue.body)]


@pytest.fixture
def root(tmp_path):
    return tmp_path / "repo"


def test_examples_sync_creates_issues_with_dependencies_and_parts(sandbox, root):
    examples = Path(__file__).parents[1] / "examples"
    (root / ".github").mkdir(parents=True)
    (root / ".github/ccc").symlink_to(examples, target_is_directory=True)

    result, _ = run_sync(sandbox, root)

    issues = {read_task_marker(i.body).id: i for i in all_issues(sandbox)}
    assert "legacy-login" not in issues  # closed in the manifest: never created
    assert result.plan.count("create") == 10
    auth, schema = issues["auth"], issues["db-schema"]
    assert read_task_marker(auth.body).deps == (schema.number,)
    assert "blocked" in auth.labels and "blocked" not in schema.labels
    assert {"cc02", "backend", "priority-high"} <= set(auth.labels)
    dashboard = issues["dashboard"]
    parts = [issues["dashboard/backend"].number, issues["dashboard/frontend"].number]
    assert read_task_marker(dashboard.body).parts == tuple(parts)
    assert all(f"- [ ] #{n}" in dashboard.body for n in parts)
    assert read_task_marker(issues["dashboard/frontend"].body).parent == dashboard.number
    linked = client_for(sandbox).list_sub_issues(dashboard.number)
    assert [i.number for i in linked] == parts
    assert "any" in issues["ci-cache"].labels

    _, again = run_sync(sandbox, root)
    assert again.counter.writes == 0  # parents, parts, links and blocked labels are all as they should be


def test_thousand_tasks_sync_exactly_once_despite_failing_creates_and_resync_is_free(unlimited_sandbox, root):
    sandbox = unlimited_sandbox
    write_manifest(root, many_tasks(BIG))
    # 502 before the write (nothing created) and after it (created, but the answer is lost).
    rules = [
        {"kind": kind, "status": 502, "rate": 0.02, "methods": ["POST"], "route": CREATE_ROUTE}
        for kind in ("status", "commit_then_fail")
    ]
    sandbox.faults(rules, seed=7)

    first, _ = run_sync(sandbox, root)

    assert all(rule["applied"] >= 5 for rule in sandbox.control("GET", "faults")["rules"])
    sandbox.clear_faults()
    issues = all_issues(sandbox)
    assert len(issues) == BIG
    assert sorted(task_ids(issues)) == [f"t{i:04d}" for i in range(BIG)]
    assert first.plan.count("create") == BIG

    sandbox.reset_stats()
    second, client = run_sync(sandbox, root)
    assert client.counter.writes == 0
    assert client.counter.total <= 11
    assert sandbox.stats()["writes"] == 0
    assert second.plan.count("unchanged") == BIG

    tasks = many_tasks(BIG)
    tasks[500]["body"] = "Do thing 500, differently"
    write_manifest(root, tasks)
    third, client = run_sync(sandbox, root)
    assert [row.task_id for row in third.plan.rows if row.action != "unchanged"] == ["t0500"]
    assert client.counter.writes == 1
    assert client.counter.by_operation().get("update_issue") == 1


def test_sync_killed_halfway_resumes_without_duplicates(sandbox, root):
    write_manifest(root, many_tasks(60))
    env = {**os.environ, "GITHUB_TOKEN": sandbox.token("maintainer")}
    command = [
        sys.executable,
        "-m",
        "ccc",
        "manager",
        "sync",
        "--root",
        str(root),
        "--repo",
        sandbox.repo,
        "--api-url",
        sandbox.api_url,
        "--manager-login",
        "maintainer",
        "--max-writes-per-minute",
        "1200",
    ]
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        while len(all_issues(sandbox)) < 20 and process.poll() is None:
            time.sleep(0.05)
        process.kill()
    assert 20 <= len(all_issues(sandbox)) < 60

    run_sync(sandbox, root)

    assert sorted(task_ids(all_issues(sandbox))) == [f"t{i:04d}" for i in range(60)]


def test_a_sync_that_reaches_max_writes_per_run_stops_says_what_is_left_and_the_next_run_resumes(sandbox, root):
    write_manifest(root, many_tasks(25))

    first, _ = run_sync(sandbox, root, max_writes_per_run=12)
    assert first.stopped is not None and "--max-writes-per-run" in first.stopped.reason
    made = len(all_issues(sandbox))
    assert first.stopped.remaining == 25 - made and first.stopped.resume_at is None

    second, _ = run_sync(sandbox, root, max_writes_per_run=100)
    assert second.stopped is None
    assert sorted(task_ids(all_issues(sandbox))) == [f"t{i:04d}" for i in range(25)]  # none twice


class HourClock:
    """Wall-clock time that a test moves on by an hour without waiting for it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_the_hourly_write_cap_stops_a_first_sync_and_later_runs_continue_as_the_hour_allows(sandbox, root):
    write_manifest(root, many_tasks(30))
    clock = HourClock()

    def hourly_pacer() -> Pacer:
        """20 writes an hour, as `sync` builds its pacer: the hour's earlier creations count."""
        settings = ManagerSettings(root=root, manager_login="maintainer")
        earlier = recent_creations(read_inventory(client_for(sandbox), settings), now=clock.now)
        return Pacer(0, per_hour=20, earlier=earlier, clock=clock, sleep=lambda _: None)

    first, _ = run_sync(sandbox, root, pacer=hourly_pacer())
    assert first.stopped and "--max-writes-per-hour" in first.stopped.reason and first.stopped.resume_at
    made = len(all_issues(sandbox))
    assert 0 < made <= 20 and first.stopped.remaining == 30 - made

    again, _ = run_sync(sandbox, root, pacer=hourly_pacer())  # the same hour: its creations still count
    assert again.stopped and len(all_issues(sandbox)) <= 20

    clock.now += 7200  # the hours after (the issues were stamped a little after the clock was read)
    last, _ = run_sync(sandbox, root, pacer=hourly_pacer())
    assert last.stopped is None
    assert sorted(task_ids(all_issues(sandbox))) == [f"t{i:04d}" for i in range(30)]


def test_removed_task_is_closed_as_not_planned_with_a_comment(sandbox, root):
    tasks = many_tasks(3)
    write_manifest(root, tasks)
    run_sync(sandbox, root)
    write_manifest(root, tasks[:2])

    result, _ = run_sync(sandbox, root)

    [closed] = [row for row in result.plan.rows if row.action == "close"]
    issue = client_for(sandbox).get_issue(closed.number)
    assert (issue.state, issue.state_reason) == ("closed", "not_planned")
    [comment] = client_for(sandbox).list_comments(closed.number)
    assert "t0002" in comment.body and "removed from the manifest" in comment.body

    write_manifest(root, tasks)
    run_sync(sandbox, root)
    assert client_for(sandbox).get_issue(closed.number).state == "open"


def test_labels_people_added_survive_an_edit(sandbox, root):
    tasks = many_tasks(1)
    write_manifest(root, tasks)
    run_sync(sandbox, root)
    client_for(sandbox).add_labels(1, ["needs-design"])
    write_manifest(root, [{**tasks[0], "worker": "cc03", "labels": ["ui"]}])

    run_sync(sandbox, root)

    assert set(client_for(sandbox).get_issue(1).labels) == {"needs-design", "cc03", "ui", "priority-normal"}


def test_second_sync_of_a_small_manifest_costs_the_listing_and_the_label_check(sandbox, root):
    write_manifest(root, many_tasks(30))
    run_sync(sandbox, root)

    _, client = run_sync(sandbox, root)

    assert client.counter.by_operation() == {"list_labels": 1, "list_managed": 1}


def test_forged_task_marker_from_another_author_is_ignored(sandbox, root):
    write_manifest(root, many_tasks(1))
    run_sync(sandbox, root)
    forged_body = client_for(sandbox).get_issue(1).body
    client_for(sandbox, "outside-triager").create_issue(title="Task 0", body=forged_body, marker="t0000")
    client_for(sandbox).update_issue(1, state="closed", state_reason="not_planned")

    result, _ = run_sync(sandbox, root)

    assert result.plan.rows[0].number == 1  # still our own issue, not the forgery (#2)
    assert client_for(sandbox).get_issue(2).state == "open"


def test_sync_that_makes_work_available_wakes_the_workers(sandbox, root):
    write_manifest(root, many_tasks(2))

    result, _ = run_sync(sandbox, root, dispatch_event="ccc-work")

    assert result.dispatched == ("cc01",)  # t0001 (cc02) is blocked by t0000
    [event] = sandbox.events("repository_dispatch")
    assert event["payload"]["action"] == "ccc-work"
    assert event["payload"]["client_payload"] == {"workers": ["cc01"]}
    run_sync(sandbox, root, dispatch_event="ccc-work")
    assert len(sandbox.events("repository_dispatch")) == 1  # nothing new: no wake-up


def test_dry_run_counts_writes_but_makes_none(sandbox, root):
    write_manifest(root, many_tasks(5))

    _, client = run_sync(sandbox, root, client=client_for(sandbox, dry_run=True))

    assert client.counter.by_operation()["create_issue"] == 5  # counted once each, as a real sync would
    assert all_issues(sandbox) == []
    assert sandbox.stats()["writes"] == 0


def test_sync_reports_progress_once_per_task(sandbox, root):
    write_manifest(root, many_tasks(5))
    progress = Progress("sync", 5, stream=io.StringIO(), terminal=False)
    settings = ManagerSettings(root=root, manager_login="maintainer", max_writes_per_minute=0)

    sync(client_for(sandbox), load_manifests(root), settings, progress=progress)

    assert progress.done == 5
