"""The worker end to end against the sandbox: real PyGithub, real git, scripted agents."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from ccc.errors import InputError
from ccc.isolation.confine import IsolationSettings
from ccc.protocol.claims import ClaimKind
from ccc.protocol.markers import TaskMarker, with_task_marker
from ccc.render import render
from ccc.sandbox.process import SandboxProcess
from ccc.worker.result import Status
from ccc.worker.run import run
from worker_support import (
    agent,
    branches,
    claims,
    client,
    comments_of,
    github,
    labels_of,
    push_branch,
    settings,
    show_file,
)

# Requests from claim to completed: the poll and the author's permission lookup come before the claim;
# heartbeats are excluded by a lease longer than the task.
BEFORE_CLAIM = ("poll_issues", "permission")
LIFECYCLE_BUDGET = 12


@pytest.fixture
def repo(sandbox):
    return github(sandbox).get_repo(sandbox.repo)


def new_issue(repo, title="Add a greeting", body="target: hello.txt", labels=("cc01",)):
    return repo.create_issue(title=title, body=body, labels=list(labels)).number


def lifecycle_requests(result) -> int:
    return sum(n for op, n in result.requests["by_operation"].items() if op not in BEFORE_CLAIM)


# -- delivering ----------------------------------------------------------------------------------


def test_a_ready_issue_is_delivered_as_one_pr_with_the_original_comment_formats(sandbox, repo, tmp_path):
    number = new_issue(repo)
    result = run(settings(sandbox, tmp_path, test_command="test -f hello.txt"))

    assert result.status is Status.DELIVERED and result.exit_code == 0
    task = result.tasks[0]
    assert (task.issue, task.attempt, task.tests) == (number, 1, "passed")
    assert labels_of(repo, number) == {"cc01", "completed", "ready-for-review"}
    claim_comment, progress, done = comments_of(repo, number)
    assert claim_comment.startswith("Task claimed by CC01\nStarted: ")
    # The agent's "#1" is shown, but defused: agent text references no issue (see ccc.untrusted).
    assert progress.startswith("Progress Update:\n- Read the task for #\u200b1\n- Wrote hello.txt")
    assert done.startswith(f"Task completed!\nPR: #{task.pr}\nAll tests passing")
    pulls = list(repo.get_pulls(state="all"))
    assert [p.number for p in pulls] == [task.pr]
    assert pulls[0].head.ref == task.branch == "ccc/1-add-a-greeting" and pulls[0].base.ref == "main"
    assert pulls[0].body.startswith(f"Closes #{number}")
    assert show_file(sandbox, task.branch, "hello.txt") == "worked on #1\n"
    assert claims(sandbox).read(number).kind is ClaimKind.COMPLETE


def test_a_full_lifecycle_costs_at_most_twelve_requests(sandbox, repo, tmp_path):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, command="echo hi > hello.txt"))  # reports no progress
    assert result.status is Status.DELIVERED
    assert lifecycle_requests(result) <= LIFECYCLE_BUDGET, result.requests
    assert result.requests["by_operation"] == {
        "poll_issues": 1,
        "permission": 1,
        "create_commit": 2,  # the claim, the completion
        "create_ref": 1,
        "get_issue": 1,  # is the task still wanted, before the push (the fence itself is git's: no request)
        "add_labels": 2,  # in-progress; completed + ready-for-review
        "create_comment": 2,  # claimed; completed
        "create_pull": 1,
        "update_ref": 1,
        "remove_label": 1,
    }


def test_an_idle_once_poll_costs_one_request_and_exits_zero(sandbox, tmp_path):
    result = run(settings(sandbox, tmp_path))
    assert result.status is Status.IDLE and result.exit_code == 0
    assert result.requests["total"] == 1


def test_idle_loop_polls_are_conditional_and_free(sandbox, tmp_path):
    result = run(settings(sandbox, tmp_path, loop=True, interval=0, max_idle_polls=3), sleep=lambda _: None)
    assert result.polls == 3 and result.requests["total"] == 3 and result.requests["charged"] == 1


def test_priority_then_age_decides_which_issue_is_taken(sandbox, repo, tmp_path):
    new_issue(repo, title="old low", labels=("cc01", "priority-low"))
    new_issue(repo, title="old normal")
    high = new_issue(repo, title="new high", labels=("cc01", "priority-high"))
    result = run(settings(sandbox, tmp_path, dry_run=True))
    assert result.status is Status.DRY_RUN and result.candidates == [high, 2, 1]
    assert run(settings(sandbox, tmp_path)).tasks[0].issue == high


def test_dry_run_writes_nothing(sandbox, repo, tmp_path):
    new_issue(repo)
    dry_run = settings(sandbox, tmp_path, dry_run=True, command=None)
    sandbox.reset_stats()
    result = run(dry_run)
    assert result.candidates == [1] and sandbox.stats()["writes"] == 0
    assert labels_of(repo, 1) == {"cc01"}


def test_an_open_pr_for_the_branch_is_reused(sandbox, repo, tmp_path):
    number = new_issue(repo)
    push_branch(sandbox, tmp_path, "ccc/1-add-a-greeting", "earlier.txt")
    earlier = repo.create_pull(base="main", head="ccc/1-add-a-greeting", title="earlier", body="")
    result = run(settings(sandbox, tmp_path))
    assert result.tasks[0].pr == earlier.number
    assert len(list(repo.get_pulls(state="all"))) == 1
    assert labels_of(repo, number) >= {"completed"}


def test_assignee_and_pool_label_are_served(sandbox, repo, tmp_path):
    number = new_issue(repo, labels=("shared",))
    result = run(settings(sandbox, tmp_path, pool="shared", assignee="maintainer"))
    assert result.tasks[0].issue == number
    assert [a.login for a in repo.get_issue(number).assignees] == ["maintainer"]


def test_draft_prs_and_a_separate_pr_token(sandbox, repo, tmp_path):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, draft=True, pr_token=sandbox.token("maintainer")))
    pull = repo.get_pull(result.tasks[0].pr)
    assert pull.draft and pull.user.login == "maintainer"


# -- failing ---------------------------------------------------------------------------------------


def test_a_failing_agent_releases_the_task_and_comments_the_log_tail(sandbox, repo, tmp_path):
    number = new_issue(repo)
    result = run(settings(sandbox, tmp_path, command=agent("--exit", "3")))

    assert result.status is Status.FAILED and result.exit_code == 1
    task = result.tasks[0]
    assert "exited with status 3" in task.reason and not task.final
    assert labels_of(repo, number) == {"cc01"}  # ready again, not in-progress
    failure = comments_of(repo, number)[-1]
    assert failure.startswith("Task attempt failed: the agent exited with status 3")
    assert "agent finished #1 with status 3" in failure and "will be retried" in failure
    assert task.branch in branches(sandbox)  # kept for inspection
    record = claims(sandbox).read(number)
    assert record.kind is ClaimKind.RELEASE and record.attempt == 1


def test_the_last_allowed_attempt_labels_the_task_failed(sandbox, repo, tmp_path):
    number = new_issue(repo)
    failing = settings(sandbox, tmp_path, command=agent("--exit", "1"), max_attempts=2)
    assert not run(failing).tasks[0].final
    last = run(failing).tasks[0]
    assert last.final and last.attempt == 2
    assert labels_of(repo, number) == {"cc01", "failed"}
    assert "No attempts left" in comments_of(repo, number)[-1]
    assert claims(sandbox).read(number).kind is ClaimKind.FAIL
    assert run(failing).status is Status.IDLE  # failed tasks are not taken again


def test_an_agent_that_changes_nothing_fails_the_attempt(sandbox, repo, tmp_path):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, command=agent("--no-change")))
    assert result.tasks[0].reason == "the agent made no changes"
    assert list(repo.get_pulls(state="all")) == []


def test_failing_tests_fail_the_attempt(sandbox, repo, tmp_path):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, test_command="echo 2 tests failed; exit 4"))
    assert result.tasks[0].reason == "the test command exited with status 4"
    assert "2 tests failed" in comments_of(repo, 1)[-1]


def test_a_timeout_kills_the_agent_and_fails_the_attempt(sandbox, repo, tmp_path):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, command=agent("--sleep", "60"), timeout=timedelta(seconds=1)))
    assert "timed out" in result.tasks[0].reason


def test_a_lost_lease_stops_the_agent_and_publishes_nothing(sandbox, repo, tmp_path):
    number = new_issue(repo)
    outcome = {}
    lease = timedelta(seconds=3)
    worker = threading.Thread(
        target=lambda: outcome.update(
            result=run(settings(sandbox, tmp_path, command=agent("--sleep", "30"), lease=lease))
        )
    )
    worker.start()
    held = claims(sandbox)
    while len(comments_of(repo, number)) < 2:  # claimed, and the agent's first progress line is on the issue
        time.sleep(0.05)
    # A successor whose clock says the lease ran out takes the task over.
    future = claims(sandbox, clock=lambda: held.clock() + timedelta(hours=1))
    successor = future.claim(number, worker="cc09", run_id="", run_url="", lease=timedelta(hours=2))
    assert successor is not None
    comments_before = comments_of(repo, number)
    worker.join(timeout=60)

    result = outcome["result"]
    assert result.status is Status.LEASE_LOST and result.exit_code == 1
    assert comments_of(repo, number) == comments_before  # no failure, no completion comment
    assert labels_of(repo, number) == {"cc01", "in-progress"}  # the successor's state is left alone
    assert list(repo.get_pulls(state="all")) == []
    assert branches(sandbox) == ["main"]
    assert claims(sandbox).read(number).worker == "cc09"


def run_in_thread(sandbox, tmp_path, **overrides) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(result=run(settings(sandbox, tmp_path, **overrides))))
    worker.start()
    return worker, outcome


@pytest.mark.parametrize("withdraw", ["close", "unlabel"])
def test_a_task_withdrawn_while_the_agent_works_is_cancelled_at_the_next_heartbeat(sandbox, repo, tmp_path, withdraw):
    number = new_issue(repo)
    worker, outcome = run_in_thread(
        sandbox, tmp_path, command=agent("--sleep", "30"), lease=timedelta(seconds=3)
    )  # heartbeats every second
    while len(comments_of(repo, number)) < 2:  # claimed, and the agent is at work
        time.sleep(0.05)
    issue = repo.get_issue(number)
    issue.edit(state="closed", state_reason="not_planned") if withdraw == "close" else issue.remove_from_labels("cc01")
    worker.join(timeout=60)

    result = outcome["result"]
    assert result.status is Status.CANCELLED and result.exit_code == 0, result.tasks[0].reason
    assert list(repo.get_pulls(state="all")) == [] and branches(sandbox) == ["main"]
    record = claims(sandbox).read(number)
    assert record.kind is ClaimKind.RELEASE and record.reason.startswith("cancelled: ")
    cancelled = [c for c in comments_of(repo, number) if c.startswith("Task cancelled")]
    assert len(cancelled) == 1
    assert "in-progress" not in labels_of(repo, number) and "completed" not in labels_of(repo, number)


def test_a_task_closed_before_the_push_is_not_delivered(sandbox, repo, tmp_path):
    number = new_issue(repo)
    # A lease of 5 minutes: no heartbeat beats, so the check before the push is what notices.
    worker, outcome = run_in_thread(sandbox, tmp_path, command="echo hi > hello.txt; sleep 1")
    while len(comments_of(repo, number)) < 1:  # claimed
        time.sleep(0.05)
    repo.get_issue(number).edit(state="closed", state_reason="not_planned")
    worker.join(timeout=60)
    assert outcome["result"].status is Status.CANCELLED
    assert list(repo.get_pulls(state="all")) == [] and branches(sandbox) == ["main"]


def test_an_in_progress_task_whose_lease_expired_is_taken_over(sandbox, repo, tmp_path):
    number = new_issue(repo, labels=("cc01", "in-progress"))
    past = claims(sandbox, clock=lambda: claims(sandbox).clock() - timedelta(hours=1))
    assert past.claim(number, worker="ghost", run_id="", run_url="", lease=timedelta(minutes=5))
    result = run(settings(sandbox, tmp_path))
    assert result.status is Status.DELIVERED and result.tasks[0].attempt == 2
    assert [(r.kind, r.worker) for r in claims(sandbox).history(number)][-3:] == [
        (ClaimKind.TAKEOVER, "cc01"),
        (ClaimKind.RENEW, "cc01"),  # the push, fenced by moving the claim with it
        (ClaimKind.COMPLETE, "cc01"),
    ]


def test_an_in_progress_task_with_a_live_lease_is_left_alone(sandbox, repo, tmp_path):
    number = new_issue(repo, labels=("cc01", "in-progress"))
    claims(sandbox).claim(number, worker="cc02", run_id="", run_url="", lease=timedelta(minutes=5))
    assert run(settings(sandbox, tmp_path)).status is Status.IDLE


def test_a_rate_limited_worker_exits_cleanly_with_the_reset_time(tmp_path):
    # The bot may make 3 requests an hour: the poll, the claim commit, then the limit.
    with SandboxProcess.start(tmp_path / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "3"]) as box:
        new_issue(github(box).get_repo(box.repo))
        result = run(settings(box, tmp_path / "work", trusted_authors=("maintainer",)), client=client(box))
    assert result.status is Status.RATE_LIMITED and result.exit_code == 0
    assert result.reset_at and result.reset_at > time.time()
    assert "resets at" in result.message


# -- trust, dependencies, hostile content --------------------------------------------------------


def test_issues_by_untrusted_authors_are_left_alone(sandbox, tmp_path):
    # GitHub drops the labels of an issue opened without push access; a triager may label it afterwards.
    github(sandbox, "outside-triager").get_repo(sandbox.repo).create_issue(title="please").add_to_labels("cc01")
    result = run(settings(sandbox, tmp_path))
    assert result.status is Status.IDLE
    assert result.requests["by_operation"] == {"poll_issues": 1, "permission": 1}


def test_dependencies_gate_tasks_and_completion_unblocks_dependents(sandbox, repo, tmp_path):
    first = new_issue(repo, title="first")
    marker = TaskMarker(id="second", manifest="tasks.yml", hash="h", deps=(first,))
    second = new_issue(repo, title="second", body=with_task_marker("target: b.txt", marker), labels=("cc01", "blocked"))
    waiting = new_issue(repo, title="third", body=with_task_marker("target: c.txt", marker))
    first_marker = TaskMarker(id="first", manifest="tasks.yml", hash="h")
    repo.get_issue(first).edit(body=with_task_marker("target: a.txt", first_marker))

    assert run(settings(sandbox, tmp_path, dry_run=True, command=None)).candidates == [first]
    assert run(settings(sandbox, tmp_path)).tasks[0].issue == first
    assert labels_of(repo, second) == {"cc01"}  # unblocked by the worker that completed its dependency
    assert run(settings(sandbox, tmp_path, dry_run=True, command=None)).candidates == [second, waiting]


def test_heartbeats_renew_the_lease_while_a_long_agent_works(sandbox, repo, tmp_path):
    number = new_issue(repo)
    result = run(settings(sandbox, tmp_path, command=agent("--sleep", "2.5"), lease=timedelta(seconds=1.5)))
    assert result.status is Status.DELIVERED
    kinds = [r.kind for r in claims(sandbox).history(number)]
    assert kinds[0] is ClaimKind.CLAIM and kinds[-1] is ClaimKind.COMPLETE
    assert kinds.count(ClaimKind.RENEW) >= 2 and ClaimKind.TAKEOVER not in kinds


def test_progress_is_one_comment_edited_at_most_once_per_interval(sandbox, repo, tmp_path):
    number = new_issue(repo)
    lines = 'for i in 1 2 3 4 5; do echo "step $i" >> "$CCC_PROGRESS_FILE"; sleep 0.2; done; echo x > f.txt'
    result = run(settings(sandbox, tmp_path, command=lines, progress_interval=3600))
    progress = [body for body in comments_of(repo, number) if body.startswith("Progress Update:")]
    assert len(progress) == 1 and all(f"- step {i}" in progress[0] for i in range(1, 6))
    # The first line creates the comment; the interval holds back edits until the agent's final flush.
    assert result.requests["by_operation"]["update_comment"] == 1


def test_a_final_claim_on_an_in_progress_issue_gets_its_labels_settled(sandbox, repo, tmp_path):
    number = new_issue(repo, labels=("cc01", "in-progress"))
    store = claims(sandbox)
    store.complete(store.claim(number, worker="cc02", run_id="", run_url="", lease=timedelta(minutes=5)), pr_url="u")
    assert run(settings(sandbox, tmp_path)).status is Status.IDLE
    assert labels_of(repo, number) == {"cc01", "completed", "ready-for-review"}


def test_templates_can_be_overridden(sandbox, repo, tmp_path):
    number = new_issue(repo, title="Custom {{ title }}")
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "worker_claim_comment.md.j2").write_text("Mine: {{ worker }} {{ marker }}\n")
    prompt = tmp_path / "prompt.j2"
    prompt.write_text("TITLE={{ issue.title }}\ntarget: custom.txt\n")
    command = 'cp "$CCC_PROMPT_FILE" prompt.txt'
    result = run(settings(sandbox, tmp_path / "w", command=command, template_dir=overrides, prompt_template=prompt))
    assert comments_of(repo, number)[0].startswith("Mine: cc01 <!-- ccc:claim")
    assert show_file(sandbox, result.tasks[0].branch, "prompt.txt") == "TITLE=Custom {{ title }}\ntarget: custom.txt\n"


def test_a_git_failure_releases_the_task_with_a_masked_reason(sandbox, repo, tmp_path):
    number = new_issue(repo)
    unreachable = settings(sandbox, tmp_path, git_url="http://127.0.0.1:9", base_branch="main")
    result = run(unreachable)
    assert result.status is Status.FAILED and result.tasks[0].reason.startswith("git ")
    assert labels_of(repo, number) == {"cc01"} and claims(sandbox).read(number).kind is ClaimKind.RELEASE
    assert sandbox.token("github-actions[bot]") not in comments_of(repo, number)[-1]


# -- isolation -----------------------------------------------------------------------------------


def test_without_a_working_bubblewrap_the_worker_stops_before_claiming(sandbox, repo, tmp_path, monkeypatch):
    number = new_issue(repo)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bwrap-here"))
    with pytest.raises(InputError, match="apt-get install -y bubblewrap"):
        run(settings(sandbox, tmp_path))
    assert labels_of(repo, number) == {"cc01"} and comments_of(repo, number) == []
    assert claims(sandbox).read(number) is None


def test_isolation_none_is_logged_loudly_and_shown_in_the_job_summary(sandbox, repo, tmp_path, caplog):
    new_issue(repo)
    result = run(settings(sandbox, tmp_path, isolation=IsolationSettings(mode="none")))
    assert result.status is Status.DELIVERED and result.isolation == "none"
    assert "ISOLATION IS OFF" in caplog.text
    assert "**Isolation was off**" in render("worker_summary.md.j2", result=result.to_json())


# -- budgets -------------------------------------------------------------------------------------


BUDGETS = [({"max_requests": 1}, "--max-requests"), ({"rate_limit_reserve": 4999}, "--rate-limit-reserve")]


@pytest.mark.parametrize(("budget", "flag"), BUDGETS)
def test_a_spent_run_budget_stops_between_tasks_naming_the_flag(sandbox, repo, tmp_path, budget, flag):
    first, second = new_issue(repo, title="First"), new_issue(repo, title="Second")
    result = run(settings(sandbox, tmp_path, max_tasks=0, loop=True, interval=0, **budget))

    assert result.status is Status.BUDGET_SPENT and result.exit_code == 0 and flag in result.message
    assert [task.issue for task in result.tasks] == [first]  # the claimed task was finished, not abandoned
    assert labels_of(repo, first) >= {"completed"} and labels_of(repo, second) == {"cc01"}
    assert result.requests["rate_limit"]["end"]["remaining"] < result.requests["rate_limit"]["start"]["remaining"]
