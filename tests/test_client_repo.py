"""The client layer against the sandbox: retries only where safe, reconciliation, rate limits, counting."""

from __future__ import annotations

import pytest

from ccc.client import RepoClient, RetryPolicy, connect
from ccc.errors import AmbiguousWriteError, AuthError, RateLimitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: claim commits carry no files

ISSUES_ROUTE = "/repos/{owner}/{repo}/issues"


def make_client(sandbox, *, login="maintainer", sleeps=None, **kwargs) -> RepoClient:
    recorded = sleeps if sleeps is not None else []
    return connect(
        repo=sandbox.repo,
        api_url=sandbox.api_url,
        token=sandbox.token(login),
        policy=RetryPolicy(backoff_seconds=0.0),
        sleep=recorded.append,
        **kwargs,
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


def test_exhausted_rate_limit_fails_with_reset_time(tmp_path):
    from ccc.sandbox.process import SandboxProcess

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
    first = client.poll_issues(labels=["cc01"], etag=None)
    assert len(first.issues) == 1 and first.etag
    again = client.poll_issues(labels=["cc01"], etag=first.etag)
    assert again.not_modified and again.etag == first.etag
    assert client.counter.snapshot()["charged"] == client.counter.total - 1


def test_ref_create_and_fast_forward_are_compare_and_set(sandbox):
    client = make_client(sandbox)
    from datetime import datetime, timezone

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = client.create_commit(message="claim a", tree=EMPTY_TREE, parents=[], when=when)
    other = client.create_commit(message="claim b", tree=EMPTY_TREE, parents=[], when=when)
    assert client.create_ref("refs/ccc/claims/1", first) is True
    assert client.create_ref("refs/ccc/claims/1", other) is False
    child = client.create_commit(message="renew a", tree=EMPTY_TREE, parents=[first], when=when)
    assert client.update_ref("refs/ccc/claims/1", other) is False  # not a fast forward
    assert client.update_ref("refs/ccc/claims/1", child) is True
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
    assert client.create_ref("refs/ccc/claims/9", sha) is True


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
