"""Workflow triggers: repository_dispatch and workflow_dispatch, recorded as events for tests to read."""

from __future__ import annotations

import json

from ccc.sandbox.records import now_iso
from ccc.sandbox.routing import Request, route, validation_failed
from ccc.sandbox.store import Store


def record_event(req: Request, kind: str, payload: dict) -> None:
    req.store.execute(
        "INSERT INTO events (repo_id, type, payload, created_at) VALUES (?, ?, ?, ?)",
        req.repo.id,
        kind,
        json.dumps({**payload, "sender": req.user.login}),
        now_iso(),
    )


def events_json(store: Store) -> list[dict]:
    """Every recorded event, oldest first, as GET /_sandbox/events shows them."""
    rows = store.rows(
        "SELECT events.*, repos.owner, repos.name FROM events "
        "JOIN repos ON repos.id = events.repo_id ORDER BY events.id"
    )
    return [
        {
            "id": row["id"],
            "type": row["type"],
            "repo": f"{row['owner']}/{row['name']}",
            "payload": json.loads(row["payload"]),
            "time": row["created_at"],
        }
        for row in rows
    ]


@route("POST", "/repos/{owner}/{repo}/dispatches", permission="write", status=204)
def create_repository_dispatch(req: Request, owner: str, repo: str) -> None:
    data = req.json()
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise validation_failed("RepositoryDispatch", "event_type", "missing_field")
    record_event(
        req, "repository_dispatch", {"event_type": event_type, "client_payload": data.get("client_payload") or {}}
    )


@route("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", permission="write", status=204)
def create_workflow_dispatch(req: Request, owner: str, repo: str, workflow_id: str) -> None:
    data = req.json()
    ref = data.get("ref")
    if not isinstance(ref, str) or not ref:
        raise validation_failed("WorkflowDispatch", "ref", "missing_field")
    record_event(req, "workflow_dispatch", {"workflow": workflow_id, "ref": ref, "inputs": data.get("inputs") or {}})
