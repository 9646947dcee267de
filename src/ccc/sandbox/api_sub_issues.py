"""Sub-issues: add (by the child's id, not its number), remove, list in order.

GitHub's limits: 100 sub-issues per parent, eight levels of nesting, and no cycles.
"""

from __future__ import annotations

import sqlite3

from ccc.sandbox.api_issues import issue_json, issue_row
from ccc.sandbox.paging import paginate
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed
from ccc.sandbox.store import Store

MAX_SUB_ISSUES = 100
MAX_LEVELS = 8


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
        _check_limits(store, parent["id"], child["id"])
        position = store.row(
            "SELECT COALESCE(MAX(position), 0) + 1 AS next FROM sub_issues WHERE parent_id = ?", parent["id"]
        )["next"]
        store.db.execute(
            "INSERT OR REPLACE INTO sub_issues (parent_id, child_id, position) VALUES (?, ?, ?)",
            (parent["id"], child["id"], position),
        )
        return issue_json(req, parent)


def _check_limits(store: Store, parent_id: int, child_id: int) -> None:
    """422 when the link would make a cycle, a 101st sub-issue or a ninth level."""
    ancestors = _ancestors(store, parent_id)
    if child_id in ancestors:
        raise _refused("An issue cannot be a sub-issue of its own sub-issue")
    count = store.row("SELECT COUNT(*) AS n FROM sub_issues WHERE parent_id = ?", parent_id)["n"]
    if count >= MAX_SUB_ISSUES:
        raise _refused(f"Parent issue cannot have more than {MAX_SUB_ISSUES} sub-issues")
    if len(ancestors) + 1 + _height(store, child_id) > MAX_LEVELS:
        raise _refused(f"Sub-issues cannot be nested more than {MAX_LEVELS} levels deep")


def _refused(message: str) -> ApiError:
    return validation_failed("Issue", "sub_issue_id", "invalid", message=message)


def _ancestors(store: Store, issue_id: int) -> list[int]:
    """The issue's parent, grandparent, … (ids), nearest first."""
    found = []
    row = store.row("SELECT parent_id FROM sub_issues WHERE child_id = ?", issue_id)
    while row is not None and row["parent_id"] not in found:
        found.append(row["parent_id"])
        row = store.row("SELECT parent_id FROM sub_issues WHERE child_id = ?", row["parent_id"])
    return found


def _height(store: Store, issue_id: int) -> int:
    """Levels of sub-issues below the issue (0 for none)."""
    children = [row["child_id"] for row in store.rows("SELECT child_id FROM sub_issues WHERE parent_id = ?", issue_id)]
    return 1 + max(_height(store, child) for child in children) if children else 0


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
