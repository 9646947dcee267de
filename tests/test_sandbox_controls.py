"""The /_sandbox/ controls: stats, stats reset, repository creation, full reset."""

from __future__ import annotations

import pytest

from ccc.sandbox.process import SandboxError
from conftest import api_call


def test_stats_count_api_requests_by_route_token_and_status(sandbox, github):
    repo = github.get_repo("acme/widgets")
    repo.create_issue("counted")
    api_call(sandbox, "GET", "/repos/acme/widgets/issues", login="outside-reader")
    api_call(sandbox, "GET", "/repos/acme/widgets/issues/99")
    stats = sandbox.stats()
    assert stats["total"] == 4
    assert stats["writes"] == 1
    assert stats["by_route"] == {
        "GET /repos/{owner}/{repo}": 1,
        "POST /repos/{owner}/{repo}/issues": 1,
        "GET /repos/{owner}/{repo}/issues": 1,
        "GET /repos/{owner}/{repo}/issues/{issue_number}": 1,
    }
    assert stats["by_token"] == {"maintainer": 3, "outside-reader": 1}
    assert stats["by_status"] == {"200": 2, "201": 1, "404": 1}
    assert stats["rate_limit_used"] == {"maintainer": 3, "outside-reader": 1}


def test_stats_reset_starts_counting_again(sandbox):
    api_call(sandbox, "GET", "/repos/acme/widgets")
    sandbox.reset_stats()
    assert sandbox.stats() == {
        "total": 0,
        "by_route": {},
        "by_token": {},
        "by_status": {},
        "writes": 0,
        "rate_limit_used": {},
    }


def test_created_repository_has_main_with_an_initial_commit(sandbox, github):
    sandbox.create_repo("acme/gadgets")
    repo = github.get_repo("acme/gadgets")
    assert repo.get_branch("main").commit.commit.message == "Initial commit"
    assert "acme/gadgets" in sandbox.info["repos"]
    assert sandbox.control("GET", "info")["repos"] == ["acme/widgets", "acme/gadgets"]


def test_malformed_repository_name_is_refused(sandbox):
    with pytest.raises(SandboxError, match="422"):
        sandbox.create_repo("no-slash")


def test_reset_empties_everything_but_keeps_tokens(sandbox, github):
    github.get_repo("acme/widgets").create_issue("gone after reset")
    sandbox.create_repo("acme/extra")
    sandbox.faults([{"kind": "latency", "ms": 1}])
    sandbox.reset()
    repo = github.get_repo("acme/widgets")
    assert list(repo.get_issues(state="all")) == []
    assert repo.create_issue("numbering restarts").number == 1
    assert sandbox.control("GET", "info")["repos"] == ["acme/widgets"]
    assert sandbox.control("GET", "faults")["rules"] == []
    assert sandbox.control("GET", "info")["tokens"] == sandbox.info["tokens"]


def test_unknown_control_is_not_found(sandbox):
    with pytest.raises(SandboxError, match="404"):
        sandbox.control("GET", "nothing")
