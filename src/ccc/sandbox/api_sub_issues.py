"""Sub-issues: add (by the child's id, not its number), remove, list in order."""

from __future__ import annotations

import sqlite3

from ccc.sandbox.api_issues import issue_json, issue_row
from ccc.sandbox.paging import paginate
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed


def _sub_issue(req: Request, data: dict) -> sqlite3.Row:
    sub_id = data.get("sub_issue_id")
    if not isinstance(sub_id, int) or isinstance(sub_id, bool):
        raise validation_failed("Issue", "sub_issue_id", "invalid")
    # Sub-issues of other repositories are not modelled: the sandbox keeps them in one repository.
    child = req.store.row("SELECT * FROM issues WHERE id = ? AND repo_id = ?", sub_id, req.repo.id)
    if child is None:
        raise ApiError(404, "Not Found")
    return child


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues", permission="triage", status=201)
def add_sub_issue(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        parent = issue_row(store, req.repo, issue_number)
        child = _sub_issue(req, data)
        if child["id"] == parent["id"]:
            raise validation_failed("Issue", "sub_issue_id", "invalid", message="An issue cannot be its own sub-issue")
        current = store.row("SELECT parent_id FROM sub_issues WHERE child_id = ?", child["id"])
        if current is not None and not data.get("replace_parent"):
            raise validation_failed("Issue", "sub_issue_id", "invalid", message="Sub-issue already has a parent issue")
        position = store.row(
            "SELECT COALESCE(MAX(position), 0) + 1 AS next FROM sub_issues WHERE parent_id = ?", parent["id"]
        )["next"]
        store.db.execute(
            "INSERT OR REPLACE INTO sub_issues (parent_id, child_id, position) VALUES (?, ?, ?)",
            (parent["id"], child["id"], position),
        )
        return issue_json(req, parent)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue", permission="triage")
def remove_sub_issue(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        parent = issue_row(store, req.repo, issue_number)
        child = _sub_issue(req, data)
        removed = store.db.execute(
            "DELETE FROM sub_issues WHERE parent_id = ? AND child_id = ?", (parent["id"], child["id"])
        ).rowcount
        if not removed:
            raise ApiError(404, "Not Found")
        return issue_json(req, child)


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues")
def list_sub_issues(req: Request, owner: str, repo: str, issue_number: str) -> Response:
    store = req.store
    parent = issue_row(store, req.repo, issue_number)
    children = store.rows(
        "SELECT issues.* FROM sub_issues JOIN issues ON issues.id = sub_issues.child_id "
        "WHERE sub_issues.parent_id = ? ORDER BY sub_issues.position",
        parent["id"],
    )
    return paginate(req, children, lambda issue: issue_json(req, issue))
