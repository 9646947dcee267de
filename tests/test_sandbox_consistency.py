"""Replication lag: writes reach the primary at once, reads may come from a replica that trails it.

GitHub's REST reads are eventually consistent: a ref read right after it was created can answer
404 ("the ref has been created but not yet propagated", PyGithub maintainers in
https://github.com/PyGithub/PyGithub/issues/2759; see also cli/cli#4907), and a list read after a
write may miss it. The sandbox models this per request with a seeded random source.
"""

from __future__ import annotations

import pytest

from ccc.sandbox.process import SandboxError
from conftest import api_call

REPO = "/repos/acme/widgets"
# GitHub-sized lag: longer than any of these tests takes, so every replicated read is stale.
SECONDS = 30


def _main_sha(sandbox) -> str:
    return api_call(sandbox, "GET", f"{REPO}/git/ref/heads/main").body["object"]["sha"]


def test_a_ref_created_under_lag_is_missing_on_the_replica_but_the_write_took_effect(sandbox):
    sha = _main_sha(sandbox)
    sandbox.lag(SECONDS)
    created = api_call(sandbox, "POST", f"{REPO}/git/refs", body={"ref": "refs/heads/fresh", "sha": sha})
    assert created.status == 201
    assert api_call(sandbox, "GET", f"{REPO}/git/ref/heads/fresh").status == 404
    assert api_call(sandbox, "GET", f"{REPO}/git/matching-refs/heads/fresh").body == []
    # The primary has it: creating it again is refused.
    again = api_call(sandbox, "POST", f"{REPO}/git/refs", body={"ref": "refs/heads/fresh", "sha": sha})
    assert (again.status, again.body["message"]) == (422, "Reference already exists")
    sandbox.lag(0)
    assert api_call(sandbox, "GET", f"{REPO}/git/ref/heads/fresh").body["object"]["sha"] == sha


def test_a_moved_ref_reads_at_its_old_sha_and_a_new_commit_is_unknown_to_the_replica(sandbox):
    old = _main_sha(sandbox)
    tree = api_call(sandbox, "GET", f"{REPO}/git/commits/{old}").body["tree"]["sha"]
    sandbox.lag(SECONDS)
    commit = api_call(sandbox, "POST", f"{REPO}/git/commits", body={"message": "m", "tree": tree, "parents": [old]})
    assert api_call(sandbox, "PATCH", f"{REPO}/git/refs/heads/main", body={"sha": commit.body["sha"]}).status == 200
    assert _main_sha(sandbox) == old
    assert api_call(sandbox, "GET", f"{REPO}/git/commits/{commit.body['sha']}").status == 404


def test_issues_lists_and_single_issues_lag_too(sandbox):
    api_call(sandbox, "POST", f"{REPO}/issues", body={"title": "before"})
    sandbox.lag(SECONDS)
    api_call(sandbox, "PATCH", f"{REPO}/issues/1", body={"title": "renamed"})
    api_call(sandbox, "POST", f"{REPO}/issues", body={"title": "after"})
    assert [issue["title"] for issue in api_call(sandbox, "GET", f"{REPO}/issues").body] == ["before"]
    assert api_call(sandbox, "GET", f"{REPO}/issues/1").body["title"] == "before"
    assert api_call(sandbox, "GET", f"{REPO}/issues/2").status == 404


def test_a_pushed_branch_reaches_the_replica_late(sandbox, tmp_path):
    import subprocess

    sandbox.lag(SECONDS)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "HEAD:refs/heads/pushed"], check=True)
    assert api_call(sandbox, "GET", f"{REPO}/git/ref/heads/pushed").status == 404
    sandbox.lag(0)
    assert api_call(sandbox, "GET", f"{REPO}/git/ref/heads/pushed").status == 200


def test_rate_serves_a_seeded_share_of_reads_from_the_replica(sandbox):
    api_call(sandbox, "POST", f"{REPO}/issues", body={"title": "before"})

    def pattern() -> list[int]:
        sandbox.lag(SECONDS, rate=0.5, seed=3)
        api_call(sandbox, "PATCH", f"{REPO}/issues/1", body={"title": "renamed"})
        titles = [api_call(sandbox, "GET", f"{REPO}/issues/1").body["title"] for _ in range(12)]
        api_call(sandbox, "PATCH", f"{REPO}/issues/1", body={"title": "before"})
        return titles

    first = pattern()
    assert first == pattern()
    assert {"before", "renamed"} == set(first)


def test_lag_zero_is_always_fresh_and_the_repository_itself_never_lags(sandbox):
    sandbox.lag(0)
    api_call(sandbox, "POST", f"{REPO}/issues", body={"title": "now"})
    assert api_call(sandbox, "GET", f"{REPO}/issues/1").body["title"] == "now"
    assert sandbox.control("GET", "lag") == {"lag": 0.0, "rate": 1.0, "seed": 0}


@pytest.mark.parametrize("body", [{"lag": -1}, {"lag": 1, "rate": 2}, {"lag": "soon"}])
def test_a_bad_lag_is_refused(sandbox, body):
    with pytest.raises(SandboxError, match="422"):
        sandbox.control("POST", "lag", body)
