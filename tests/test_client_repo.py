"""The client layer against the sandbox: retries only where safe, reconciliation, rate limits, counting."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from ccc.client import RefWrite, RepoClient, RetryPolicy, connect
from ccc.client.budget import Budget
from ccc.errors import (
    ActionsMayNotOpenPullsError,
    AmbiguousWriteError,
    AuthError,
    BudgetSpent,
    RateLimitError,
    UnprocessableError,
)
from ccc.sandbox.process import SandboxProcess
from worker_support import create_issues, github

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: claim commits carry no files

ISSUES_ROUTE = "/repos/{owner}/{repo}/issues"


def make_client(sandbox, *, login="maintainer", sleeps=None, **kwargs) -> RepoClient:
    recorded = sleeps if sleeps is not None else []
    return connect(
        repo=sandbox.repo,
        api_url=sandbox.api_url,
        token=sandbox.token(login),
        sleep=recorded.append,
        **{"policy": RetryPolicy(backoff_seconds=0.0), **kwargs},
    )


def posts_to(sandbox, route: str) -> int:
    return sandbox.stats()["by_route"].get(f"POST {route}", 0)


def test_ambiguous_issue_create_is_read_back_not_duplicated(sandbox):
    client = make_client(sandbox)
    sandbox.faults(
        [
            {
                "kind": "commit_then_fail",
                "status": 502,
                "rate": 1.0,
                "methods": ["POST"],
                "route": ISSUES_ROUTE,
                "count": 1,
            }
        ]
    )
    issue = client.create_issue(
        title="Implement user authentication", body="JWT\n<!-- uid-1 -->", labels=["cc02"], marker="<!-- uid-1 -->"
    )
    assert issue is not None and issue.title == "Implement user authentication"
    assert [i.number for i in client.list_issues(state="all")] == [issue.number]
    assert posts_to(sandbox, ISSUES_ROUTE) == 1  # never replayed blindly


def test_failed_issue_create_is_retried_after_read_back_finds_nothing(sandbox):
    client = make_client(sandbox)
    sandbox.faults(
        [{"kind": "status", "status": 502, "rate": 1.0, "methods": ["POST"], "route": ISSUES_ROUTE, "count": 1}]
    )
    issue = client.create_issue(title="t", body="b <!-- uid-2 -->", marker="<!-- uid-2 -->")
    assert len(client.list_issues(state="all")) == 1 and issue.body.endswith("<!-- uid-2 -->")
    assert posts_to(sandbox, ISSUES_ROUTE) == 2


def test_comment_without_marker_reports_ambiguity_instead_of_replaying(sandbox):
    client = make_client(sandbox)
    issue = client.create_issue(title="t", body="<!-- m -->", marker="<!-- m -->")
    sandbox.faults(
        [
            {
                "kind": "commit_then_fail",
                "status": 503,
                "rate": 1.0,
                "methods": ["POST"],
                "route": "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                "count": 1,
            }
        ]
    )
    with pytest.raises(AmbiguousWriteError):
        client.create_comment(issue.number, "hello")
    assert len(client.list_comments(issue.number)) == 1


def test_reads_are_retried_after_server_errors_and_counted_per_attempt(sandbox):
    client = make_client(sandbox)
    sandbox.faults([{"kind": "status", "status": 502, "rate": 1.0, "methods": ["GET"], "count": 2}])
    assert client.list_issues() == []
    assert client.counter.by_operation() == {"list_issues": 3}


def test_secondary_rate_limit_waits_retry_after_then_replays(sandbox):
    sleeps: list[float] = []
    client = make_client(sandbox, sleeps=sleeps)
    sandbox.faults([{"kind": "secondary_limit", "retry_after": 7, "rate": 1.0, "methods": ["POST"], "count": 1}])
    issue = client.create_issue(title="t", body="<!-- s -->", marker="<!-- s -->")
    assert issue is not None and sleeps == [7.0]
    assert len(client.list_issues(state="all")) == 1


@pytest.mark.parametrize("kind", ["secondary_limit", "too_many_requests"])
def test_a_rate_limit_without_retry_after_waits_at_least_a_minute_then_doubles(sandbox, kind):
    """GitHub: without retry-after, wait at least one minute, then exponentially longer; see
    https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api"""
    sleeps: list[float] = []
    client = make_client(sandbox, sleeps=sleeps)
    sandbox.faults([{"kind": kind, "retry_after": 0, "count": 2}])
    assert client.list_issues() == []
    assert 60 <= sleeps[0] <= 75 and 120 <= sleeps[1] <= 150 and len(sleeps) == 2
    assert client.counter.total == 3


def test_too_many_requests_honours_retry_after(sandbox):
    sleeps: list[float] = []
    client = make_client(sandbox, sleeps=sleeps)
    sandbox.faults([{"kind": "too_many_requests", "retry_after": 5, "count": 1}])
    assert client.list_issues() == [] and sleeps == [5.0]


def test_a_secondary_limit_that_holds_stops_after_max_wait_with_the_time_to_try_again(sandbox):
    sleeps: list[float] = []
    client = make_client(sandbox, sleeps=sleeps, policy=RetryPolicy(max_rate_limit_wait_seconds=300), clock=lambda: 0)
    sandbox.faults([{"kind": "secondary_limit", "retry_after": 0, "methods": ["POST"]}])
    with pytest.raises(RateLimitError, match=r"try again after 1970-01-01 00:0\d:\d\d UTC.*--max-wait") as caught:
        client.create_issue(title="t", body="<!-- w -->", marker="<!-- w -->")
    assert caught.value.exit_code == 3 and len(sleeps) == 2 and sum(sleeps) <= 300
    assert posts_to(sandbox, ISSUES_ROUTE) == 3  # answered three times, then no endless loop


def test_max_requests_stops_the_run_before_the_request_that_would_overspend(sandbox):
    client = make_client(sandbox, budget=Budget(max_requests=2))
    client.list_issues()
    client.list_labels()
    with pytest.raises(BudgetSpent, match="--max-requests") as caught:
        client.list_issues()
    assert client.counter.total == 2 and caught.value.exit_code == 0


def test_the_rate_limit_reserve_is_never_spent(sandbox):
    client = make_client(sandbox, budget=Budget(reserve=4999))  # the sandbox grants 5,000 an hour
    client.list_issues()  # answered with 4,999 remaining: the reserve is reached
    with pytest.raises(BudgetSpent, match="--rate-limit-reserve") as caught:
        client.list_issues()
    assert caught.value.reset_at and client.counter.total == 1
    assert client.counter.snapshot()["rate_limit"]["end"]["remaining"] == 4999


def test_exhausted_rate_limit_fails_with_reset_time(tmp_path):

    with SandboxProcess.start(tmp_path / "sb", extra_args=["--rate-limit", "2"]) as sandbox:
        client = make_client(sandbox)
        client.list_issues()
        client.list_issues()
        with pytest.raises(RateLimitError, match=r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC") as caught:
            client.list_issues()
        assert caught.value.exit_code == 3


def test_bad_token_is_an_auth_error_that_does_not_echo_the_token(sandbox):
    client = connect(repo=sandbox.repo, api_url=sandbox.api_url, token="ghp_wrongwrongwrongwrongwrongwrongwrong")
    with pytest.raises(AuthError) as caught:
        client.list_issues()
    assert "ghp_wrong" not in str(caught.value) and "401" in str(caught.value)


def test_read_only_token_cannot_write(sandbox):
    client = make_client(sandbox, login="outside-reader")
    with pytest.raises(AuthError, match="403"):
        client.create_label("ccc/ready", "00ff00")


def test_conditional_poll_costs_nothing_when_unchanged(sandbox):
    client = make_client(sandbox)
    client.create_issue(title="t", body="<!-- p -->", labels=["cc01"], marker="<!-- p -->")
    first = client.poll_label("cc01", None)
    assert [issue.title for issue in first.issues()] == ["t"] and first.etag
    again = client.poll_label("cc01", first)
    assert again is first
    assert client.counter.snapshot()["charged"] == client.counter.total - 1


def test_a_changed_label_of_many_pages_costs_two_requests_and_the_view_follows_the_change(unlimited_sandbox):
    """The probe answers 200 when anything changed; only the issues updated since the watermark are read:
    https://docs.github.com/en/rest/issues/issues#list-repository-issues (since, sort=updated)."""
    # Timestamps have one-second resolution, as on GitHub, and `since` includes its second: the pauses keep
    # the bulk of the issues out of the watermark's second, as hours would in real use.
    sandbox = unlimited_sandbox
    created = create_issues(sandbox, 249)
    time.sleep(1.1)
    created += create_issues(sandbox, 1)
    client = make_client(sandbox, listing_slack=timedelta(0))  # the issues are seconds old: no re-reading them
    view = client.poll_label("cc01", None)
    assert len(view.issues()) == 250 and client.counter.total == 3  # a full listing: three pages
    time.sleep(1.1)
    repo = github(sandbox).get_repo(sandbox.repo)
    repo.get_issue(created[0]).edit(state="closed")  # leaves the view
    repo.get_issue(created[1]).remove_from_labels("cc01")  # leaves it too
    repo.get_issue(created[2]).edit(title="renamed")  # changes in place
    repo.create_issue(title="new", labels=["cc01"])  # joins

    before = client.counter.total
    after = client.poll_label("cc01", view)

    assert client.counter.total - before == 2, client.counter.by_operation()
    titles = {issue.number: issue.title for issue in after.issues()}
    assert created[0] not in titles and created[1] not in titles and titles[created[2]] == "renamed"
    assert "new" in titles.values() and len(titles) == 249
    assert client.poll_label("cc01", after) is after  # and now it is free again


def test_ref_create_and_fast_forward_are_compare_and_set(sandbox):
    client = make_client(sandbox)
    from datetime import datetime, timezone

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = client.create_commit(message="claim a", tree=EMPTY_TREE, parents=[], when=when)
    other = client.create_commit(message="claim b", tree=EMPTY_TREE, parents=[], when=when)
    assert client.create_ref("refs/ccc/claims/1", first) is RefWrite.DONE
    assert client.create_ref("refs/ccc/claims/1", other) is RefWrite.TAKEN
    child = client.create_commit(message="renew a", tree=EMPTY_TREE, parents=[first], when=when)
    assert client.update_ref("refs/ccc/claims/1", other) is RefWrite.TAKEN  # not a fast forward
    assert client.update_ref("refs/ccc/claims/1", child) is RefWrite.DONE
    assert client.update_ref("refs/ccc/claims/1", child) is RefWrite.DONE  # a replay changes nothing
    assert client.update_ref("refs/ccc/claims/2", child) is RefWrite.ABSENT
    assert client.get_ref("refs/ccc/claims/1").sha == child
    assert client.create_commit(message="renew a", tree=EMPTY_TREE, parents=[first], when=when) == child


def test_ambiguous_ref_create_that_applied_counts_as_won(sandbox):
    client = make_client(sandbox)
    from datetime import datetime, timezone

    sha = client.create_commit(message="c", tree=EMPTY_TREE, parents=[], when=datetime.now(timezone.utc))
    sandbox.faults(
        [
            {
                "kind": "commit_then_fail",
                "status": 502,
                "rate": 1.0,
                "methods": ["POST"],
                "route": "/repos/{owner}/{repo}/git/refs",
                "count": 1,
            }
        ]
    )
    assert client.create_ref("refs/ccc/claims/9", sha) is RefWrite.DONE


def test_dry_run_counts_writes_but_sends_none(sandbox):
    client = make_client(sandbox, dry_run=True)
    sandbox.reset_stats()
    assert client.create_issue(title="t", body="<!-- d -->", marker="<!-- d -->") is None
    client.add_labels(1, ["x"])
    assert client.counter.writes == 2
    assert sandbox.stats()["writes"] == 0


def push_branch(sandbox, tmp_path, branch: str) -> None:
    import subprocess

    work = tmp_path / "w"
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(work)], check=True)
    (work / "f.txt").write_text(branch)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "checkout", "-qb", branch], check=True)
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    subprocess.run([*git, "push", "-q", "origin", branch], check=True)


def test_pull_request_create_is_idempotent_per_head(sandbox, tmp_path):
    push_branch(sandbox, tmp_path, "ccc/1-x")
    client = make_client(sandbox)
    first = client.create_pull(head="ccc/1-x", base="main", title="x", body="Closes #1")
    second = client.create_pull(head="ccc/1-x", base="main", title="x", body="Closes #1")
    assert first.number == second.number and first.head_ref == "ccc/1-x"


def test_pull_request_create_that_failed_before_applying_is_retried(sandbox, tmp_path):
    push_branch(sandbox, tmp_path, "ccc/2-y")
    client = make_client(sandbox)
    sandbox.faults(
        [
            {
                "kind": "status",
                "status": 502,
                "rate": 1.0,
                "methods": ["POST"],
                "route": "/repos/{owner}/{repo}/pulls",
                "count": 1,
            }
        ]
    )
    pull = client.create_pull(head="ccc/2-y", base="main", title="y", body="Closes #2")
    assert pull.head_ref == "ccc/2-y"
    assert posts_to(sandbox, "/repos/{owner}/{repo}/pulls") == 2


def test_actions_token_refused_a_pull_request_gets_its_own_error_naming_both_fixes(sandbox):
    """The realistic profile starts with "Allow GitHub Actions to create and approve pull requests" off."""
    from datetime import datetime, timezone

    maintainer = make_client(sandbox)
    main = maintainer.branch_sha("main")
    commit = maintainer.create_commit(message="work", tree=EMPTY_TREE, parents=[main], when=datetime.now(timezone.utc))
    maintainer.create_ref("refs/heads/ccc/3-z", commit)
    bot = make_client(sandbox, login="github-actions[bot]")
    with pytest.raises(ActionsMayNotOpenPullsError) as caught:
        bot.create_pull(head="ccc/3-z", base="main", title="z", body="Closes #3")
    assert "Allow GitHub Actions to create and approve pull requests" in caught.value.message
    assert "pr-token" in caught.value.message
    assert caught.value.exit_code == 3


def test_sub_issue_refusal_is_reported_and_relinking_the_same_child_is_fine(sandbox):
    client = make_client(sandbox)
    first, second, child = (
        client.create_issue(title=f"t{n}", body=f"<!-- s{n} -->", marker=f"<!-- s{n} -->") for n in range(3)
    )
    client.add_sub_issue(first.number, child.id)
    client.add_sub_issue(first.number, child.id)  # a replay: already linked here
    with pytest.raises(UnprocessableError, match=f"#{second.number}: GitHub refused to link a sub-issue"):
        client.add_sub_issue(second.number, child.id)  # it has another parent
    assert [issue.number for issue in client.list_sub_issues(first.number)] == [child.number]
