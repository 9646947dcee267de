"""Workflow triggers: repository_dispatch and workflow_dispatch, recorded as webhook events (see webhooks.py)."""

from __future__ import annotations

import json

from ccc.sandbox.records import now_iso
from ccc.sandbox.routing import Request, route, validation_failed


def record_event(req: Request, kind: str, payload: dict) -> None:
    req.store.execute(
        "INSERT INTO events (repo_id, type, payload, created_at) VALUES (?, ?, ?, ?)",
        req.repo.id,
        kind,
        json.dumps({**payload, "sender": req.user.login}),
        now_iso(),
    )


@route("POST", "/repos/{owner}/{repo}/dispatches", permission="write", status=204)
def create_repository_dispatch(req: Request, owner: str, repo: str) -> None:
    data = req.json()
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise validation_failed("RepositoryDispatch", "event_type", "missing_field")
    client_payload = data.get("client_payload") or {}
    payload = {"action": event_type, "branch": req.repo.default_branch, "client_payload": client_payload}
    record_event(req, "repository_dispatch", payload)


@route("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", permission="write", status=204)
def create_workflow_dispatch(req: Request, owner: str, repo: str, workflow_id: str) -> None:
    data = req.json()
    ref = data.get("ref")
    if not isinstance(ref, str) or not ref:
        raise validation_failed("WorkflowDispatch", "ref", "missing_field")
    # GitHub's payload names the workflow by its path; a numeric id is kept as given.
    workflow = workflow_id if workflow_id.isdigit() else f".github/workflows/{workflow_id}"
    record_event(req, "workflow_dispatch", {"inputs": data.get("inputs") or {}, "ref": ref, "workflow": workflow})
