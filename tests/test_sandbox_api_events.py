"""Workflow triggers: dispatches are answered 204 and recorded as events in GitHub's webhook shapes.

- Create a repository dispatch event: https://docs.github.com/en/rest/repos/repos#create-a-repository-dispatch-event
- Its webhook payload (action = event_type, branch, client_payload):
  https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository_dispatch
- workflow_dispatch payload (inputs, ref, workflow path):
  https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_dispatch
"""

from __future__ import annotations

from conftest import api_call, github_client


def test_repository_dispatch_is_recorded_with_its_payload(sandbox, github):
    assert github.get_repo("acme/widgets").create_repository_dispatch("ccc-tick", {"why": "test"}) is True
    [event] = sandbox.events()
    assert (event["type"], event["action"], event["repo"]) == ("repository_dispatch", "ccc-tick", "acme/widgets")
    payload = event["payload"]
    assert (payload["action"], payload["branch"], payload["client_payload"]) == ("ccc-tick", "main", {"why": "test"})
    assert (payload["sender"]["login"], payload["repository"]["full_name"]) == ("maintainer", "acme/widgets")
    assert event["time"].endswith("Z")


def test_workflow_dispatch_is_recorded_with_ref_and_inputs(sandbox):
    answer = api_call(
        sandbox,
        "POST",
        "/repos/acme/widgets/actions/workflows/worker.yml/dispatches",
        login="github-actions[bot]",
        body={"ref": "main", "inputs": {"task": "7"}},
    )
    assert (answer.status, answer.body) == (204, None)
    [event] = sandbox.events()
    assert event["type"] == "workflow_dispatch"
    payload = event["payload"]
    assert (payload["workflow"], payload["ref"], payload["inputs"]) == (
        ".github/workflows/worker.yml",
        "main",
        {"task": "7"},
    )
    assert payload["sender"]["login"] == "github-actions[bot]"


def test_dispatch_without_event_type_or_ref_is_validation_failed(sandbox):
    assert api_call(sandbox, "POST", "/repos/acme/widgets/dispatches", body={}).status == 422
    assert api_call(sandbox, "POST", "/repos/acme/widgets/actions/workflows/1/dispatches", body={}).status == 422
    assert sandbox.events() == []


def test_dispatch_needs_write_permission(sandbox):
    # PyGithub reports a refused dispatch as False rather than raising.
    assert github_client(sandbox, "outside-triager").get_repo("acme/widgets").create_repository_dispatch("x") is False
    answer = api_call(
        sandbox, "POST", "/repos/acme/widgets/dispatches", login="outside-reader", body={"event_type": "x"}
    )
    assert answer.status == 403
    assert sandbox.events() == []
