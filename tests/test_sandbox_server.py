"""The sandbox server through the real PyGithub client: serving, auth, permissions, limits, ETags, concurrency."""

from __future__ import annotations

import base64
import json
import signal
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from github import Auth, BadCredentialsException, Github, GithubException, RateLimitExceededException

from ccc.sandbox.process import SandboxProcess
from conftest import api_call, github_client, github_schema

ISSUES = "/repos/acme/widgets/issues"


def test_serve_writes_the_ready_line_to_sandbox_json(sandbox):
    on_disk = json.loads((sandbox.data_dir / "sandbox.json").read_text())
    assert on_disk == sandbox.info
    assert sandbox.api_url.endswith("/api/v3")
    assert sandbox.control_url == sandbox.git_url + "/_sandbox"
    assert sandbox.repo == "acme/widgets"
    assert sandbox.token("maintainer").startswith("ghp_") and len(sandbox.token("maintainer")) == 40
    assert sandbox.token("github-actions[bot]").startswith("ghs_")
    assert {login: t["permission"] for login, t in sandbox.info["tokens"].items()} == {
        "maintainer": "admin",
        "github-actions[bot]": "write",
        "outside-triager": "triage",
        "outside-reader": "read",
    }


def test_unknown_token_is_bad_credentials(sandbox):
    client = Github(base_url=sandbox.api_url, auth=Auth.Token("ghp_" + "x" * 36), retry=None)
    with pytest.raises(BadCredentialsException) as caught:
        client.get_repo("acme/widgets")
    assert caught.value.status == 401
    assert caught.value.data["message"] == "Bad credentials"
    github_schema("BasicError").model_validate(caught.value.data)


def test_request_without_token_requires_authentication(sandbox):
    answer = api_call(sandbox, "GET", ISSUES, login=None)
    assert answer.status == 401
    assert answer.body["message"] == "Requires authentication"


def test_unknown_route_and_unknown_repo_are_not_found(sandbox, github):
    assert api_call(sandbox, "GET", "/no/such/thing").status == 404
    with pytest.raises(GithubException) as caught:
        github.get_repo("acme/nothing-here")
    assert caught.value.status == 404
    assert caught.value.data["message"] == "Not Found"
    github_schema("BasicError").model_validate(caught.value.data)


def test_malformed_json_is_problems_parsing_json(sandbox):
    answer = api_call(sandbox, "POST", ISSUES, raw=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.body["message"] == "Problems parsing JSON"


def test_validation_failed_body_matches_github_schema(sandbox):
    answer = api_call(sandbox, "POST", "/repos/acme/widgets/labels", body={"name": "x", "color": "red"})
    assert answer.status == 422
    assert answer.body["message"] == "Validation Failed"
    assert answer.body["errors"] == [{"resource": "Label", "field": "color", "code": "invalid"}]
    github_schema("ValidationError").model_validate(answer.body)


# -- permissions ----------------------------------------------------------------------------------


def test_read_token_can_read_but_not_write(sandbox, github):
    github.get_repo("acme/widgets").create_issue("visible to readers")
    reader = github_client(sandbox, "outside-reader").get_repo("acme/widgets")
    assert [issue.title for issue in reader.get_issues()] == ["visible to readers"]
    for write in (  # (readers may open issues, as on GitHub: see test_sandbox_api_issues)
        lambda: reader.create_label("no", "ffffff"),
        lambda: reader.get_issue(1).create_comment("no"),
        lambda: reader.get_issue(1).add_to_labels("x"),
    ):
        with pytest.raises(GithubException) as caught:
            write()
        assert caught.value.status == 403
        assert caught.value.data["message"] == "Resource not accessible by personal access token"
    assert sandbox.stats()["by_status"]["403"] == 3


def test_triage_token_can_label_assign_and_comment_but_not_create_refs_or_pulls(sandbox, github):
    main_sha = github.get_repo("acme/widgets").get_branch("main").commit.sha
    triager = github_client(sandbox, "outside-triager").get_repo("acme/widgets")
    issue = triager.create_issue("triaged")
    issue.add_to_labels("bug", "needs-info")
    issue.add_to_assignees("outside-triager")
    issue.create_comment("looking")
    assert [label.name for label in triager.get_issue(issue.number).labels] == ["bug", "needs-info"]
    with pytest.raises(GithubException) as ref_error:
        triager.create_git_ref("refs/heads/triage", main_sha)
    with pytest.raises(GithubException) as pull_error:
        triager.create_pull(title="t", body="", head="main", base="main")
    assert ref_error.value.status == pull_error.value.status == 403


def test_integration_token_lacking_permission_gets_the_integration_message(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", tokens={"reader-app[bot]": "read"}) as sandbox:
        assert sandbox.token("reader-app[bot]").startswith("ghs_")
        labels = "/repos/acme/widgets/labels"
        answer = api_call(sandbox, "POST", labels, login="reader-app[bot]", body={"name": "no", "color": "ffffff"})
    assert answer.status == 403
    assert answer.body["message"] == "Resource not accessible by integration"


def test_token_without_access_sees_repositories_as_not_found(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", tokens={"stranger": "none"}) as sandbox:
        answer = api_call(sandbox, "GET", "/repos/acme/widgets", login="stranger")
    assert answer.status == 404


# -- rate limits and conditional requests ---------------------------------------------------------


def test_every_api_answer_carries_rate_limit_headers(sandbox):
    answer = api_call(sandbox, "GET", ISSUES)
    assert answer.headers["x-ratelimit-limit"] == "5000"
    assert answer.headers["x-ratelimit-used"] == "1"
    assert answer.headers["x-ratelimit-remaining"] == "4999"
    assert answer.headers["x-ratelimit-resource"] == "core"
    assert int(answer.headers["x-ratelimit-reset"]) > 0


def test_spent_rate_limit_answers_403_with_github_message(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", extra_args=["--rate-limit", "2"]) as sandbox:
        client = github_client(sandbox)
        repo = client.get_repo("acme/widgets")
        repo.get_issues().totalCount  # noqa: B018 - spends the second unit
        with pytest.raises(RateLimitExceededException) as caught:
            repo.get_labels().totalCount  # noqa: B018
        answer = api_call(sandbox, "GET", ISSUES)
        used = sandbox.stats()["rate_limit_used"]["maintainer"]
    assert caught.value.status == 403
    assert caught.value.data["message"].startswith("API rate limit exceeded for user ID ")
    assert answer.headers["x-ratelimit-remaining"] == "0"
    assert used == 2


def test_rate_limit_endpoint_costs_nothing(sandbox, github):
    before = github.get_rate_limit().resources.core
    after = github.get_rate_limit().resources.core
    assert before.remaining == after.remaining == 5000
    assert sandbox.stats()["rate_limit_used"] == {}


def test_matching_if_none_match_answers_empty_304_that_costs_nothing(sandbox):
    first = api_call(sandbox, "GET", ISSUES)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    again = api_call(sandbox, "GET", ISSUES, headers={"If-None-Match": etag})
    assert (again.status, again.body) == (304, None)
    assert again.headers["x-ratelimit-used"] == "1"
    api_call(sandbox, "POST", ISSUES, body={"title": "change"})
    changed = api_call(sandbox, "GET", ISSUES, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag


def test_secondary_limit_refuses_fast_writes_with_retry_after(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", extra_args=["--secondary-limit", "2"]) as sandbox:
        statuses = [api_call(sandbox, "POST", ISSUES, body={"title": f"t{n}"}).status for n in range(2)]
        refused = api_call(sandbox, "POST", ISSUES, body={"title": "third"})
        read = api_call(sandbox, "GET", ISSUES)
    assert statuses == [201, 201]
    assert refused.status == 403
    assert refused.body["message"].startswith("You have exceeded a secondary rate limit")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert read.status == 200 and len(read.body) == 2


# -- concurrency and persistence ------------------------------------------------------------------


def test_32_concurrent_clients_get_unique_numbers_and_lose_no_label(sandbox, github):
    repo = github.get_repo("acme/widgets")
    target = repo.create_issue("shared")

    def work(n: int) -> int:
        mine = github_client(sandbox).get_repo("acme/widgets")
        mine.get_issue(target.number).add_to_labels(f"l{n}")
        return mine.create_issue(f"concurrent {n}").number

    with ThreadPoolExecutor(max_workers=32) as pool:
        numbers = list(pool.map(work, range(32)))
    assert sorted(numbers) == list(range(2, 34))
    assert {label.name for label in repo.get_issue(target.number).labels} == {f"l{n}" for n in range(32)}


def test_restart_keeps_issues_tokens_and_counters(sandbox, github):
    github.get_repo("acme/widgets").create_issue("survives")
    tokens, total = sandbox.info["tokens"], sandbox.stats()["total"]
    sandbox.restart()
    assert sandbox.info["tokens"] == tokens
    assert [issue.title for issue in github.get_repo("acme/widgets").get_issues()] == ["survives"]
    assert sandbox.stats()["total"] == total + 2
    assert github.get_rate_limit().resources.core.used == total + 2


def test_sigterm_stops_the_server_cleanly(tmp_path):
    sandbox = SandboxProcess.start(tmp_path / "sb")
    sandbox.proc.send_signal(signal.SIGTERM)
    assert sandbox.proc.wait(timeout=15) == 0
    sandbox.stop()


# -- git over HTTP authentication ------------------------------------------------------------------


def _git_refs(sandbox, authorization: str | None) -> int:
    url = f"{sandbox.git_url}/acme/widgets.git/info/refs?service=git-upload-pack"
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        assert error.code != 401 or error.headers["WWW-Authenticate"] == 'Basic realm="GitHub"'
        return error.code


def test_git_http_needs_a_valid_token_as_basic_password_and_is_not_counted(sandbox):
    def basic(password: str) -> str:
        return "Basic " + base64.b64encode(f"x-access-token:{password}".encode()).decode()

    assert _git_refs(sandbox, None) == 401
    assert _git_refs(sandbox, basic("ghp_wrong")) == 401
    assert _git_refs(sandbox, basic(sandbox.token("outside-reader"))) == 200
    assert sandbox.stats()["total"] == 0
