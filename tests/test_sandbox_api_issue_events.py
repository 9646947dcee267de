"""Issue events (https://docs.github.com/en/rest/issues/events): who labelled, assigned, renamed,
closed, reopened or merged an issue, per issue and for the whole repository, in GitHub's shapes."""

from __future__ import annotations

import pytest

from ccc.sandbox import issue_events
from ccc.sandbox.store import Store
from conftest import api_call, github_client, github_schema

REPO = "/repos/acme/widgets"


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def _events(sandbox, number: int) -> list[dict]:
    return api_call(sandbox, "GET", f"{REPO}/issues/{number}/events").body


def test_labeled_and_unlabeled_name_the_actor_and_the_label(sandbox, repo):
    issue = repo.create_issue("routed", labels=["bug"])
    bot = github_client(sandbox, "github-actions[bot]").get_repo("acme/widgets").get_issue(issue.number)
    bot.add_to_labels("ccc/worker/cc01")
    bot.remove_from_labels("bug")
    events = _events(sandbox, issue.number)
    assert [(e["event"], e["actor"]["login"], e["label"]["name"]) for e in events] == [
        ("labeled", "maintainer", "bug"),
        ("labeled", "github-actions[bot]", "ccc/worker/cc01"),
        ("unlabeled", "github-actions[bot]", "bug"),
    ]
    for event in events:
        github_schema(f"{event['event'].capitalize()}IssueEvent").model_validate(event)


def test_assigned_renamed_closed_and_reopened_are_recorded(sandbox, repo):
    issue = repo.create_issue("first name")
    issue.edit(title="second name", assignees=["maintainer"])
    issue.edit(state="closed", state_reason="not_planned")
    issue.edit(state="open")
    events = _events(sandbox, issue.number)
    assert [e["event"] for e in events] == ["renamed", "assigned", "closed", "reopened"]
    renamed, assigned, closed, reopened = events
    assert renamed["rename"] == {"from": "first name", "to": "second name"}
    assert (assigned["assignee"]["login"], assigned["assigner"]["login"]) == ("maintainer", "maintainer")
    assert (closed["state_reason"], closed["commit_id"]) == ("not_planned", None)
    github_schema("RenamedIssueEvent").model_validate(renamed)
    github_schema("AssignedIssueEvent").model_validate(assigned)
    github_schema("StateChangeIssueEvent").model_validate(closed)
    github_schema("StateChangeIssueEvent").model_validate(reopened)


def test_repository_events_are_newest_first_with_their_issue(sandbox, repo):
    repo.create_issue("one", labels=["bug"])
    repo.create_issue("two", labels=["question"])
    events = api_call(sandbox, "GET", f"{REPO}/issues/events").body
    assert [(e["issue"]["number"], e["label"]["name"]) for e in events] == [(2, "question"), (1, "bug")]
    for event in events:
        github_schema("IssueEvent").model_validate(event)
    single = api_call(sandbox, "GET", f"{REPO}/issues/events/{events[0]['id']}")
    assert single.body["id"] == events[0]["id"]
    assert api_call(sandbox, "GET", f"{REPO}/issues/events/1").status == 404


def test_event_ids_are_large_and_unrelated_to_issue_numbers(sandbox, repo):
    repo.create_issue("one", labels=["bug"])
    assert _events(sandbox, 1)[0]["id"] > 10**10


def test_merged_hook_records_merged_then_closed_with_the_commit(sandbox, tmp_path):
    """For the merging part of the sandbox: GitHub records `merged` and `closed`, both naming the merge commit."""
    api_call(sandbox, "POST", f"{REPO}/issues", body={"title": "stands in for a pull request"})
    store = Store(sandbox.data_dir)
    try:
        issue = store.row("SELECT * FROM issues WHERE number = 1")
        actor = store.user_by_login("maintainer")
        issue_events.merged(store, issue, actor.id, "a" * 40)
    finally:
        store.close()
    events = _events(sandbox, 1)
    assert [(e["event"], e["commit_id"]) for e in events] == [("merged", "a" * 40), ("closed", "a" * 40)]
    github_schema("StateChangeIssueEvent").model_validate(events[0])
