"""Self-hosted runners, as GET /repos/{owner}/{repo}/actions/runners lists them (admin only).

https://docs.github.com/rest/actions/self-hosted-runners#list-self-hosted-runners-for-a-repository
"""

from __future__ import annotations

from conftest import api_call


def test_runners_are_listed_with_their_labels_status_and_githubs_shape(sandbox):
    runners = [{"name": "box-1", "labels": ["cc01"]}, {"name": "box-2", "labels": ["cc02"], "online": False}]
    sandbox.control("PUT", "runners", {"repo": sandbox.repo, "runners": runners})

    answer = api_call(sandbox, "GET", f"/repos/{sandbox.repo}/actions/runners")

    assert answer.status == 200 and answer.body["total_count"] == 2
    first, second = answer.body["runners"]
    assert (first["name"], first["status"], second["status"]) == ("box-1", "online", "offline")
    assert [label["name"] for label in first["labels"]] == ["self-hosted", "Linux", "X64", "cc01"]
    assert {label["type"] for label in first["labels"]} == {"read-only", "custom"}


def test_listing_runners_needs_admin(sandbox):
    assert api_call(sandbox, "GET", f"/repos/{sandbox.repo}/actions/runners", login="github-actions[bot]").status == 403
