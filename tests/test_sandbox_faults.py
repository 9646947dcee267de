"""Injected faults: each kind, rule matching (methods, route, count, rate, seed), stale reads."""

from __future__ import annotations

import http.client
import urllib.error

import pytest
from github import GithubException

from ccc.sandbox.process import SandboxError
from conftest import api_call

ISSUES = "/repos/acme/widgets/issues"
ISSUES_ROUTE = "/repos/{owner}/{repo}/issues"


def test_status_fault_answers_without_running_the_handler_and_honours_count(sandbox, github):
    sandbox.faults([{"kind": "status", "status": 503, "methods": ["POST"], "count": 1}])
    repo = github.get_repo("acme/widgets")
    with pytest.raises(GithubException) as caught:
        repo.create_issue("lost")
    assert caught.value.status == 503
    assert repo.create_issue("kept").number == 1
    assert sandbox.control("GET", "faults")["rules"][0]["applied"] == 1


def test_commit_then_fail_keeps_the_write_but_answers_502(sandbox, github):
    sandbox.faults([{"kind": "commit_then_fail", "route": ISSUES_ROUTE, "methods": ["POST"], "count": 1}])
    repo = github.get_repo("acme/widgets")
    with pytest.raises(GithubException) as caught:
        repo.create_issue("ambiguous")
    assert caught.value.status == 502
    assert [issue.title for issue in repo.get_issues()] == ["ambiguous"]
    assert sandbox.stats()["by_route"][f"POST {ISSUES_ROUTE}"] == 1


def test_reset_closes_the_connection_without_an_answer(sandbox):
    sandbox.faults([{"kind": "reset", "methods": ["GET"], "count": 1}])
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        api_call(sandbox, "GET", ISSUES)
    assert api_call(sandbox, "GET", ISSUES).status == 200


def test_sever_lets_n_writes_through_then_drops_every_request(sandbox):
    sandbox.faults([{"kind": "sever", "after_writes": 2}])
    assert api_call(sandbox, "POST", ISSUES, body={"title": "one"}).status == 201
    assert api_call(sandbox, "GET", ISSUES).status == 200  # reads between the writes let through pass
    assert api_call(sandbox, "POST", ISSUES, body={"title": "two"}).status == 201
    for method, body in (("GET", None), ("POST", {"title": "three"})):
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            api_call(sandbox, method, ISSUES, body=body)
    assert sandbox.control("GET", "faults")["rules"][0]["applied"] == 2
    sandbox.clear_faults()
    assert [issue["title"] for issue in api_call(sandbox, "GET", ISSUES).body] == ["two", "one"]


def test_too_many_requests_answers_429_with_retry_after(sandbox):
    sandbox.faults([{"kind": "too_many_requests", "retry_after": 3, "count": 1}])
    answer = api_call(sandbox, "GET", ISSUES)
    assert (answer.status, answer.headers["retry-after"]) == (429, "3")


def test_secondary_limit_fault_answers_403_with_retry_after(sandbox):
    sandbox.faults([{"kind": "secondary_limit", "retry_after": 5, "methods": ["POST"]}])
    answer = api_call(sandbox, "POST", ISSUES, body={"title": "x"})
    assert (answer.status, answer.headers["retry-after"]) == (403, "5")
    assert answer.body["message"].startswith("You have exceeded a secondary rate limit")
    assert api_call(sandbox, "GET", ISSUES).body == []


def test_latency_fault_delays_but_still_answers(sandbox):
    sandbox.faults([{"kind": "latency", "ms": 20, "count": 2}])
    assert [api_call(sandbox, "GET", ISSUES).status for _ in range(3)] == [200, 200, 200]
    assert sandbox.control("GET", "faults")["rules"][0]["applied"] == 2


def test_route_may_be_a_template_or_a_path_regex(sandbox):
    sandbox.faults([{"kind": "status", "route": r"/labels$"}])
    assert api_call(sandbox, "GET", "/repos/acme/widgets/labels").status == 502
    assert api_call(sandbox, "GET", ISSUES).status == 200
    sandbox.faults([{"kind": "status", "route": ISSUES_ROUTE}])
    assert api_call(sandbox, "GET", ISSUES).status == 502
    assert api_call(sandbox, "GET", "/repos/acme/widgets/labels").status == 200


def test_rate_picks_the_same_requests_for_the_same_seed(sandbox):
    def pattern() -> list[int]:
        sandbox.faults([{"kind": "status", "rate": 0.5}], seed=7)
        return [api_call(sandbox, "GET", ISSUES).status for _ in range(12)]

    first = pattern()
    assert first == pattern()
    assert 200 in first and 502 in first


def test_stale_reads_answer_from_an_older_snapshot(sandbox, github):
    repo = github.get_repo("acme/widgets")
    repo.create_issue("before")
    sandbox.faults([{"kind": "stale_reads", "seconds": 30}])
    repo.create_issue("after")
    assert [issue["title"] for issue in api_call(sandbox, "GET", ISSUES).body] == ["before"]
    assert api_call(sandbox, "GET", f"{ISSUES}/2").body["title"] == "after"  # single objects stay fresh
    sandbox.clear_faults()
    assert [issue["title"] for issue in api_call(sandbox, "GET", ISSUES).body] == ["after", "before"]


def test_unknown_fault_kind_is_refused(sandbox):
    with pytest.raises(SandboxError, match="422"):
        sandbox.faults([{"kind": "meteor"}])


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "status", "status": 999},
        {"kind": "latency", "ms": "slow"},
        {"kind": "status", "route": "("},
        {"kind": "reset", "methods": [1]},
    ],
)
def test_rule_with_a_bad_value_is_refused_and_nothing_changes(sandbox, rule):
    with pytest.raises(SandboxError, match="422"):
        sandbox.faults([rule])
    assert sandbox.control("GET", "faults")["rules"] == []
