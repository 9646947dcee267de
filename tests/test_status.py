"""`ccc status` against a sandbox: states from labels, holders and leases from claim refs, PRs, JSON."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from ccc.cli import main
from ccc.client import RepoClient
from ccc.protocol.claims import ClaimKind, ClaimRecord, ClaimStore
from ccc.protocol.markers import TaskMarker, with_task_marker
from ccc.protocol.states import TaskState
from ccc.status import LiveView, QueueStatus, StatusReader, TaskStatus, change_lines, fit_height, render_table
from conftest import repo_client

LEASE = timedelta(minutes=5)


@pytest.fixture
def client(sandbox) -> RepoClient:
    return repo_client(sandbox)


def task_issue(client: RepoClient, task_id: str, *, worker: str = "cc01", labels: tuple[str, ...] = ()) -> int:
    marker = TaskMarker(id=task_id, manifest=".github/ccc/tasks.yml", hash="0" * 64, worker=worker)
    issue = client.create_issue(
        title=f"Task {task_id}",
        body=with_task_marker(f"Do {task_id}.", marker),
        labels=[worker, *labels],
        marker=marker.uid(),
    )
    return issue.number


def by_task(status: QueueStatus) -> dict[str, TaskStatus]:
    return {task.task_id: task for task in status.tasks}


def test_status_shows_state_worker_attempt_and_pr_of_every_managed_issue(client):
    ready = task_issue(client, "ready")
    held = task_issue(client, "held", worker="cc02", labels=("in-progress",))
    done = task_issue(client, "done", labels=("completed", "ready-for-review"))
    client.create_issue(title="Not a task", body="a person's issue <!-- x -->", marker="<!-- x -->")
    claims = ClaimStore(client)
    claims.claim(held, worker="cc02", run_id="1", run_url="", lease=LEASE)
    won = claims.claim(done, worker="cc01", run_id="2", run_url="", lease=LEASE)
    claims.complete(won, pr_url="http://sandbox/acme/widgets/pull/9")

    status = StatusReader(client).read()

    tasks = by_task(status)
    assert set(tasks) == {"ready", "held", "done"}
    assert (tasks["ready"].number, tasks["ready"].state, tasks["ready"].worker, tasks["ready"].attempt) == (
        ready,
        TaskState.READY,
        "cc01",
        0,
    )
    assert (tasks["held"].state, tasks["held"].holder, tasks["held"].attempt) == (TaskState.IN_PROGRESS, "cc02", 1)
    assert (tasks["done"].state, tasks["done"].pr) == (TaskState.COMPLETED, "http://sandbox/acme/widgets/pull/9")
    assert status.holders() == {"cc02": [held]}
    assert status.counts()["completed"] == 1 and status.counts()["ready"] == 1
    assert not status.all_completed


def test_with_the_manager_login_only_the_managers_issues_are_tasks(client, sandbox):
    task_issue(client, "real")
    outsider = repo_client(sandbox, "outside-triager")
    task_issue(outsider, "forged")

    everyone = StatusReader(client).read()
    managed = StatusReader(client, manager_login="maintainer").read()

    assert set(by_task(everyone)) == {"real", "forged"}
    assert set(by_task(managed)) == {"real"}


def test_a_second_read_of_an_unchanged_queue_costs_only_the_two_listings(client):
    number = task_issue(client, "held", labels=("in-progress",))
    ClaimStore(client).claim(number, worker="cc01", run_id="1", run_url="", lease=LEASE)
    reader = StatusReader(client)

    first = reader.read()
    second = reader.read()

    assert first.requests == 3  # issues, claim refs, one claim commit
    assert second.requests == 2


def test_an_expired_lease_is_reported_and_no_longer_counts_as_held(client):
    number = task_issue(client, "stalled", labels=("in-progress",))
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    ClaimStore(client, clock=lambda: an_hour_ago).claim(number, worker="cc01", run_id="1", run_url="", lease=LEASE)

    status = StatusReader(client).read(now=an_hour_ago + timedelta(hours=1))

    assert status.expired() == [number]
    assert status.holders() == {}
    assert status.to_json()["tasks"][0]["lease_expired"] is True
    assert by_task(status)["stalled"].lease(status.at) == "expired 55m00s ago"


def test_status_json_from_the_command_line(client, sandbox, monkeypatch, capsys):
    task_issue(client, "only")
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("maintainer"))

    code = main(["status", "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["repo"] == "acme/widgets"
    assert data["counts"]["ready"] == 1
    assert [(t["task"], t["state"], t["worker"]) for t in data["tasks"]] == [("only", "ready", "cc01")]


@pytest.mark.parametrize(
    ("token", "repo", "cause"),
    [("ghp_" + "x" * 36, None, "rejected the token"), (None, "acme/nothing-here", "check the repository name")],
    ids=["bad-token", "wrong-repo"],
)
def test_github_refusals_exit_3_naming_the_cause(token, repo, cause, sandbox, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", token or sandbox.token("maintainer"))

    code = main(["status", "--repo", repo or sandbox.repo, "--api-url", sandbox.api_url])

    assert code == 3
    assert cause in capsys.readouterr().err


def test_watch_needs_a_positive_interval(sandbox, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("maintainer"))

    assert main(["status", "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--watch", "0"]) == 2


# -- rendering, without a sandbox -----------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def record(kind: ClaimKind, *, worker: str = "cc01", attempt: int = 1, pr: str | None = None) -> ClaimRecord:
    return ClaimRecord(
        kind=kind,
        issue=1,
        worker=worker,
        run_id="",
        run_url="",
        attempt=attempt,
        lease_expires_at=NOW + timedelta(seconds=290),
        nonce="n",
        at=NOW - timedelta(seconds=10),
        pr=pr,
    )


def snapshot(*tasks: TaskStatus) -> QueueStatus:
    return QueueStatus(repo="acme/widgets", at=NOW, tasks=tasks)


def task(number: int, state: TaskState, claim: ClaimRecord | None = None) -> TaskStatus:
    return TaskStatus(number, f"t{number}", f"Task {number}", state, "cc01", claim, "")


def test_table_aligns_columns_and_ends_with_the_totals():
    status = snapshot(
        task(1, TaskState.IN_PROGRESS, record(ClaimKind.RENEW)),
        task(12, TaskState.COMPLETED, record(ClaimKind.COMPLETE, pr="http://x/acme/widgets/pull/30")),
    )

    lines = render_table(status)

    assert lines[0].split() == ["#", "task", "state", "worker", "attempt", "lease", "PR"]
    assert lines[1].split() == ["#1", "t1", "in-progress", "cc01", "1", "10s", "old,", "4m50s", "left"]
    assert lines[2].split() == ["#12", "t12", "completed", "cc01", "1", "#30"]
    assert lines[1].index("in-progress") == lines[2].index("completed")
    assert lines[3] == "acme/widgets: 2 tasks (1 in-progress, 1 completed); cc01 holds #1"


def test_change_lines_report_only_tasks_whose_visible_state_moved():
    before = snapshot(task(1, TaskState.READY), task(2, TaskState.BLOCKED))
    after = snapshot(task(1, TaskState.IN_PROGRESS, record(ClaimKind.CLAIM, worker="cc02")), task(2, TaskState.BLOCKED))

    assert change_lines(before, after) == ["#1 t1: ready -> in-progress (cc02, attempt 1)"]
    assert change_lines(None, before) == ["#1 t1: ready (cc01)", "#2 t2: blocked (cc01)"]


def test_change_lines_name_the_states_a_task_passed_between_two_snapshots():
    done = record(ClaimKind.COMPLETE, worker="cc02", pr="http://x/acme/widgets/pull/16")
    parent = TaskStatus(3, "p", "Parent", TaskState.COMPLETED, None, None, "", is_parent=True)
    before = snapshot(task(1, TaskState.BLOCKED), task(2, TaskState.READY), replace(parent, state=TaskState.READY))
    after = snapshot(
        task(1, TaskState.COMPLETED, done), task(2, TaskState.IN_PROGRESS, record(ClaimKind.CLAIM)), parent
    )

    assert change_lines(before, after) == [
        "#1 t1: blocked -> ready -> in-progress -> completed (cc02, attempt 1, PR #16)",
        "#2 t2: ready -> in-progress (cc01, attempt 1)",
        "#3 p: ready -> completed",
    ]


def test_change_lines_show_a_merged_task_was_delivered_first():
    done = record(ClaimKind.COMPLETE, worker="cc02", pr="http://x/acme/widgets/pull/16")
    before = snapshot(task(1, TaskState.IN_PROGRESS, record(ClaimKind.CLAIM)), task(2, TaskState.COMPLETED, done))
    after = snapshot(task(1, TaskState.MERGED, done), task(2, TaskState.MERGED, done))

    assert change_lines(before, after) == [
        "#1 t1: in-progress -> completed -> merged (cc02, attempt 1, PR #16)",
        "#2 t2: completed -> merged (cc02, attempt 1, PR #16)",
    ]


def test_live_view_writes_log_lines_off_a_terminal_and_redraws_in_place_on_one():
    plain, terminal = io.StringIO(), io.StringIO()
    first = snapshot(task(1, TaskState.READY))
    second = snapshot(task(1, TaskState.COMPLETED, record(ClaimKind.COMPLETE, pr="http://x/pull/3")))
    for view in (LiveView(plain, terminal=False), LiveView(terminal, terminal=True)):
        view.show(first)
        view.show(second)

    assert plain.getvalue().splitlines() == [
        "#1 t1: ready (cc01)",
        "#1 t1: ready -> in-progress -> completed (cc01, attempt 1, PR #3)",
    ]
    frames = terminal.getvalue().split("\x1b[J")
    assert frames[1].startswith("\x1b[3F")  # back over the three lines of the first frame


def test_a_table_taller_than_the_screen_keeps_its_head_and_its_totals():
    lines = [f"line {n}" for n in range(50)]

    fitted = fit_height(lines, 10)

    assert len(fitted) == 9
    assert fitted[:7] == lines[:7] and fitted[-1] == "line 49" and fitted[7] == "… 42 more lines"
