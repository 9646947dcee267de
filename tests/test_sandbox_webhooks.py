"""Webhook events: every write records what GitHub would trigger Actions with, in GitHub's payload shapes.

The payloads are validated with octokit's published JSON schemas of GitHub's webhooks
(`@octokit/webhooks-schemas`, pinned in tools/webhooks-schemas/, installed by `make webhook-schemas`).

- Webhook events and payloads (issues, issue_comment, pull_request incl. closed with merged,
  synchronize, edited with `changes`; pull_request_review submitted; push; repository_dispatch):
  https://docs.github.com/en/webhooks/webhook-events-and-payloads
- Events that trigger workflows (what act is given as the event):
  https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from conftest import api_call, github_client
from sandbox_git import Clone

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(os.environ.get("CCC_WEBHOOK_SCHEMAS_DIR") or ROOT / ".cache/webhooks-schemas")
SCHEMA_FILE = SCHEMAS / "node_modules/@octokit/webhooks-schemas/schema.json"


@cache
def definitions() -> dict:
    found = copy.deepcopy(json.loads(SCHEMA_FILE.read_text())["definitions"])
    # The schema describes deliveries to GitHub Apps, which always name the installation; the sandbox
    # models the repository's own webhooks and Actions, where `installation` is absent.
    for definition in found.values():
        if "installation" in definition.get("required", []):
            definition["required"].remove("installation")
    return found


def validate(event: dict) -> None:
    """Check one recorded event against octokit's schema for its type and action."""
    key = f"{event['type']}${event['action'] if event['type'] not in WITHOUT_ACTION else 'event'}"
    assert key in definitions(), f"octokit has no schema {key}"
    validator = jsonschema.Draft7Validator({"definitions": definitions(), "$ref": f"#/definitions/{key}"})
    errors = sorted(validator.iter_errors(event["payload"]), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{key} {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])


WITHOUT_ACTION = ("push", "repository_dispatch", "workflow_dispatch")

# `make test` installs the schemas and names them; only a bare pytest run without them skips, never CI.
pytestmark = pytest.mark.skipif(
    not SCHEMA_FILE.exists() and not os.environ.get("CI"),
    reason="run `make webhook-schemas` (or set CCC_WEBHOOK_SCHEMAS_DIR) for octokit's webhook schemas",
)


def kinds(events: list[dict]) -> list[tuple[str, str | None]]:
    return [(event["type"], event["action"]) for event in events]


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def test_an_issues_life_is_recorded_as_issues_and_issue_comment_events(sandbox, repo):
    issue = repo.create_issue("Broken", body="it breaks")
    issue.edit(title="Broken widget")
    issue.add_to_labels("bug")
    issue.remove_from_labels("bug")
    issue.add_to_assignees("maintainer")
    issue.create_comment("looking")
    issue.edit(state="closed")
    issue.edit(state="open")

    events = sandbox.events()
    assert kinds(events) == [
        ("issues", "opened"),
        ("issues", "edited"),
        ("issues", "labeled"),
        ("issues", "unlabeled"),
        ("issues", "assigned"),
        ("issue_comment", "created"),
        ("issues", "closed"),
        ("issues", "reopened"),
    ]
    for event in events:
        validate(event)
    edited, labeled, assigned = events[1]["payload"], events[2]["payload"], events[4]["payload"]
    assert edited["changes"] == {"title": {"from": "Broken"}}
    assert (labeled["label"]["name"], assigned["assignee"]["login"]) == ("bug", "maintainer")
    assert events[5]["payload"]["comment"]["body"] == "looking"
    assert events[6]["payload"]["issue"]["state"] == "closed"
    assert {event["payload"]["sender"]["login"] for event in events} == {"maintainer"}


def test_a_pull_requests_life_from_push_to_merge_is_recorded(sandbox, repo, tmp_path):
    # Set up as ccc asks (the realistic sandbox, like GitHub, starts with Actions' pull requests off).
    allow = {"can_approve_pull_request_reviews": True}
    api_call(sandbox, "PUT", "/repos/acme/widgets/actions/permissions/workflow", body=allow)
    repo.create_issue("Add a feature")
    clone = Clone(sandbox, tmp_path / "work")
    first = clone.branch("feature", {"feature.txt": "one\n"})
    pull = repo.create_pull(title="Feature", body="Fixes #1", head="feature", base="main")
    second = clone.commit({"feature.txt": "two\n"}, "second", push="feature")
    repo.get_issue(pull.number).add_to_labels("enhancement")
    pull.edit(title="Feature, finished")
    github_client(sandbox, "github-actions[bot]").get_repo("acme/widgets").get_pull(2).create_review(
        body="ok", event="APPROVE"
    )
    pull.merge()

    events = sandbox.events()
    assert kinds(events) == [
        ("issues", "opened"),
        ("push", None),
        ("pull_request", "opened"),
        ("push", None),
        ("pull_request", "synchronize"),
        ("pull_request", "labeled"),
        ("pull_request", "edited"),
        ("pull_request_review", "submitted"),
        ("push", None),
        ("pull_request", "closed"),
        ("issues", "closed"),
    ]
    for event in events:
        validate(event)
    created, update, merged_push = (events[i]["payload"] for i in (1, 3, 8))
    assert (created["created"], created["ref"], created["after"]) == (True, "refs/heads/feature", first)
    assert [commit["id"] for commit in created["commits"]] == [first]
    assert created["head_commit"]["added"] == ["feature.txt"]
    assert (update["before"], update["after"], update["forced"]) == (first, second, False)
    assert update["head_commit"]["modified"] == ["feature.txt"]
    assert events[4]["payload"]["before"] == first and events[4]["payload"]["after"] == second
    assert events[6]["payload"]["changes"] == {"title": {"from": "Feature"}}
    assert events[7]["payload"]["review"]["state"] == "approved"  # lower case in webhooks, unlike the REST API
    assert merged_push["ref"] == "refs/heads/main"
    closed = events[9]["payload"]["pull_request"]
    assert (closed["merged"], closed["state"], closed["merge_commit_sha"]) == (True, "closed", merged_push["after"])
    assert events[10]["payload"]["issue"]["state_reason"] == "completed"


def test_dispatches_are_recorded_as_githubs_payloads(sandbox, repo):
    repo.create_repository_dispatch("ccc-work", {"workers": ["cc01"]})
    api_call(
        sandbox,
        "POST",
        "/repos/acme/widgets/actions/workflows/worker.yml/dispatches",
        body={"ref": "main", "inputs": {"task": "7"}},
    )

    for event in sandbox.events():
        validate(event)
    assert kinds(sandbox.events("repository_dispatch")) == [("repository_dispatch", "ccc-work")]


def test_the_newest_event_of_a_kind_is_written_as_an_event_file_for_act(sandbox, repo, tmp_path):
    repo.create_issue("first")
    repo.create_issue("second").create_comment("hello")

    written = sandbox.write_event(tmp_path / "event.json", "issues", "opened")

    assert json.loads((tmp_path / "event.json").read_text()) == written
    assert written["issue"]["title"] == "second"
    assert [event["type"] for event in sandbox.events("issue_comment")] == ["issue_comment"]
    with pytest.raises(Exception, match="no pull_request event"):
        sandbox.write_event(tmp_path / "none.json", "pull_request")


def test_refs_written_through_the_git_data_api_are_pushes_and_claim_refs_are_not(sandbox, repo):
    main = repo.get_git_ref("heads/main").object.sha
    tip = repo.get_git_commit(main)
    newer = repo.create_git_commit("via the API", tip.tree, [tip])
    repo.create_git_ref("refs/heads/api-branch", main)
    repo.get_git_ref("heads/api-branch").edit(newer.sha)
    repo.create_git_ref("refs/ccc/claims/1", newer.sha)
    repo.get_git_ref("heads/api-branch").delete()

    pushes = sandbox.events("push")
    assert [(p["created"], p["deleted"], p["before"], p["after"]) for p in (e["payload"] for e in pushes)] == [
        (True, False, "0" * 40, main),
        (False, False, main, newer.sha),
        (False, True, newer.sha, "0" * 40),
    ]
    for event in pushes:
        validate(event)
