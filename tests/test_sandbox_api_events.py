"""Workflow triggers: dispatches are answered 204 and recorded as events."""

from __future__ import annotations

from conftest import api_call, github_client


def test_repository_dispatch_is_recorded_with_its_payload(sandbox, github):
    assert github.get_repo("acme/widgets").create_repository_dispatch("ccc-tick", {"why": "test"}) is True
    [event] = sandbox.events()
    assert (event["type"], event["repo"]) == ("repository_dispatch", "acme/widgets")
    assert event["payload"] == {"event_type": "ccc-tick", "client_payload": {"why": "test"}, "sender": "maintainer"}
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
    assert event["payload"] == {
        "workflow": "worker.yml",
        "ref": "main",
        "inputs": {"task": "7"},
        "sender": "github-actions[bot]",
    }


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
