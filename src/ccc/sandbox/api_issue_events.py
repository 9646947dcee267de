"""Issue events: GET .../issues/{n}/events and the repository's .../issues/events (who labelled, closed…)."""

from __future__ import annotations

import json
import sqlite3

from ccc.sandbox.api_issues import issue_json, issue_row
from ccc.sandbox.paging import paginate
from ccc.sandbox.records import node_id
from ccc.sandbox.routing import ApiError, Request, Response, route


def event_json(req: Request, event: sqlite3.Row, *, with_issue: bool) -> dict:
    """GitHub's issue-event object; the repository-wide list also embeds the issue."""
    store, api, full = req.store, req.base_url, req.repo.full_name
    details = json.loads(event["details"])
    data = {
        "id": event["id"],
        "node_id": node_id(EVENT_NODE_PREFIX.get(event["event"], "IE"), event["id"]),
        "url": f"{api}/repos/{full}/issues/events/{event['id']}",
        "actor": store.user_by_id(event["actor_id"]).to_json(api),
        "event": event["event"],
        "commit_id": event["commit_id"],
        "commit_url": f"{api}/repos/{full}/commits/{event['commit_id']}" if event["commit_id"] else None,
        "created_at": event["created_at"],
        "performed_via_github_app": None,
    }
    if "assignee_id" in details:
        data["assignee"] = store.user_by_id(details.pop("assignee_id")).to_json(api)
        data["assigner"] = data["actor"]
    data.update(details)
    if with_issue:
        data["issue"] = issue_json(req, store.row("SELECT * FROM issues WHERE id = ?", event["issue_id"]))
    return data


# GitHub's node id prefixes of the event types the sandbox records.
EVENT_NODE_PREFIX = {
    "labeled": "LE",
    "unlabeled": "UNLE",
    "assigned": "AE",
    "unassigned": "UAE",
    "renamed": "RTE",
    "closed": "CE",
    "reopened": "REE",
    "merged": "ME",
}


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events")
def list_issue_events(req: Request, owner: str, repo: str, issue_number: str) -> Response:
    issue = issue_row(req.store, req.repo, issue_number)
    events = req.store.rows("SELECT * FROM issue_events WHERE issue_id = ? ORDER BY id", issue["id"])
    return paginate(req, events, lambda event: event_json(req, event, with_issue=False))


@route("GET", "/repos/{owner}/{repo}/issues/events")
def list_repo_issue_events(req: Request, owner: str, repo: str) -> Response:
    """Newest first, as GitHub lists them."""
    events = req.store.rows("SELECT * FROM issue_events WHERE repo_id = ? ORDER BY id DESC", req.repo.id)
    return paginate(req, events, lambda event: event_json(req, event, with_issue=True))


@route("GET", "/repos/{owner}/{repo}/issues/events/{event_id}")
def get_issue_event(req: Request, owner: str, repo: str, event_id: str) -> dict:
    wanted = int(event_id) if event_id.isdigit() else -1
    event = req.store.row("SELECT * FROM issue_events WHERE id = ? AND repo_id = ?", wanted, req.repo.id)
    if event is None:
        raise ApiError(404, "Not Found")
    return event_json(req, event, with_issue=True)
