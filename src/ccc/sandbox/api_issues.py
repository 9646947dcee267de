"""Issues: list, create, get, update; their labels and assignees."""

from __future__ import annotations

import json
import sqlite3

from ccc.sandbox import issue_events, webhooks
from ccc.sandbox.api_labels import ensure_labels, find_label, label_json
from ccc.sandbox.paging import paginate
from ccc.sandbox.records import Repo, User, node_id, now_iso, parse_timestamp, web_root
from ccc.sandbox.routing import (
    PERMISSIONS,
    ApiError,
    Request,
    Response,
    forbidden,
    route,
    too_long,
    validation_failed,
)
from ccc.sandbox.store import Store

STATES = ("open", "closed")
STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")
SORT_COLUMNS = {"created": "created_at", "updated": "updated_at", "comments": "comments"}
# GitHub's caps on issue and pull-request texts.
MAX_TITLE_LENGTH = 256
MAX_BODY_LENGTH = 65536


# -- reading --------------------------------------------------------------------------------------


def issue_row(store: Store, repo: Repo, number: str | int) -> sqlite3.Row:
    """The issue (or pull request) with this number, or 404."""
    try:
        number = int(number)
    except ValueError:
        raise ApiError(404, "Not Found") from None
    found = store.row("SELECT * FROM issues WHERE repo_id = ? AND number = ?", repo.id, number)
    if found is None:
        raise ApiError(404, "Not Found")
    return found


def issue_labels(store: Store, issue_id: int) -> list[sqlite3.Row]:
    return store.rows(
        "SELECT labels.* FROM labels JOIN issue_labels ON labels.id = issue_labels.label_id "
        "WHERE issue_labels.issue_id = ? ORDER BY labels.name",
        issue_id,
    )


def issue_assignees(store: Store, issue_id: int) -> list[User]:
    rows = store.rows("SELECT user_id FROM issue_assignees WHERE issue_id = ? ORDER BY rowid", issue_id)
    return [store.user_by_id(r["user_id"]) for r in rows]


def issue_json(req: Request, issue: sqlite3.Row) -> dict:
    """GitHub's issue object (pull requests carry a `pull_request` key and `draft`)."""
    store, repo, api = req.store, req.repo, req.base_url
    number = issue["number"]
    url = f"{api}/repos/{repo.full_name}/issues/{number}"
    html_kind = "pull" if issue["is_pull"] else "issues"
    html = f"{web_root(api)}/{repo.full_name}/{html_kind}/{number}"
    author = store.user_by_id(issue["user_id"])
    assignees = [user.to_json(api) for user in issue_assignees(store, issue["id"])]
    closed_by = store.user_by_id(issue["closed_by_id"]) if issue["closed_by_id"] else None
    data = {
        "url": url,
        "repository_url": f"{api}/repos/{repo.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": html,
        "id": issue["id"],
        "node_id": issue_node_id(store, issue),
        "number": number,
        "title": issue["title"],
        "user": author.to_json(api),
        "labels": [label_json(req, label) for label in issue_labels(store, issue["id"])],
        "state": issue["state"],
        "locked": False,
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": None,
        "comments": issue["comments"],
        "created_at": issue["created_at"],
        "updated_at": issue["updated_at"],
        "closed_at": issue["closed_at"],
        "author_association": store.author_association(author, repo),
        "type": None,
        "active_lock_reason": None,
        "sub_issues_summary": sub_issues_summary(store, issue["id"]),
        "body": issue["body"],
        "closed_by": closed_by.to_json(api) if closed_by else None,
        "reactions": reactions(url),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": issue["state_reason"],
    }
    if issue["is_pull"]:
        pull = store.row(
            "SELECT draft, merged_at FROM pulls LEFT JOIN merges ON merges.pull_id = pulls.id WHERE issue_id = ?",
            issue["id"],
        )
        pull_url = f"{api}/repos/{repo.full_name}/pulls/{number}"
        data["draft"] = bool(pull["draft"])
        data["pull_request"] = {
            "url": pull_url,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": pull["merged_at"],
        }
    return data


def issue_node_id(store: Store, issue: sqlite3.Row) -> str:
    """A pull request's issue shows the pull request's node id, as on GitHub; an issue its own."""
    if issue["is_pull"]:
        return node_id("PR", store.row("SELECT id FROM pulls WHERE issue_id = ?", issue["id"])["id"])
    return node_id("I", issue["id"])


def reactions(url: str) -> dict:
    counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0)
    return {"url": f"{url}/reactions", "total_count": 0, **counts}


def sub_issues_summary(store: Store, issue_id: int) -> dict:
    counts = store.row(
        "SELECT COUNT(*) AS total, COALESCE(SUM(issues.state = 'closed'), 0) AS completed "
        "FROM sub_issues JOIN issues ON issues.id = sub_issues.child_id "
        "WHERE sub_issues.parent_id = ?",
        issue_id,
    )
    total, completed = counts["total"], counts["completed"]
    return {"total": total, "completed": completed, "percent_completed": completed * 100 // total if total else 0}


# -- writing helpers ------------------------------------------------------------------------------


def assignable_users(req: Request, logins: list, *, strict: bool) -> list[User]:
    """Users that may be assigned: people with access to the repository (not bots or organisations).

    `strict` answers 422 for an unknown login (issue create/update); otherwise it is skipped, as
    POST /assignees does.
    """
    users = []
    for login in logins:
        user = req.store.user_by_login(login) if isinstance(login, str) else None
        if user is None or user.type != "User" or req.store.permission(user, req.repo) == "none":
            if strict:
                raise validation_failed("Issue", "assignees", "invalid", value=login)
            continue
        if user not in users:
            users.append(user)
    return users


def set_labels(req: Request, issue: sqlite3.Row, names: list, *, replace: bool) -> None:
    """Add (or with `replace`, set) the issue's labels; records labeled/unlabeled events."""
    store = req.store
    labels = ensure_labels(store, req.repo, names)
    with store.tx():
        before = issue_labels(store, issue["id"])
        if replace:
            store.db.execute("DELETE FROM issue_labels WHERE issue_id = ?", (issue["id"],))
        store.db.executemany(
            "INSERT OR IGNORE INTO issue_labels (issue_id, label_id) VALUES (?, ?)",
            [(issue["id"], label["id"]) for label in labels],
        )
        issue_events.labels_changed(store, issue, req.user.id, before, issue_labels(store, issue["id"]))


def set_assignees(req: Request, issue: sqlite3.Row, users: list[User], *, replace: bool) -> None:
    """Add (or with `replace`, set) the issue's assignees; records assigned/unassigned events."""
    store = req.store
    with store.tx():
        before = issue_assignees(store, issue["id"])
        if replace:
            store.db.execute("DELETE FROM issue_assignees WHERE issue_id = ?", (issue["id"],))
        store.db.executemany(
            "INSERT OR IGNORE INTO issue_assignees (issue_id, user_id) VALUES (?, ?)",
            [(issue["id"], user.id) for user in users],
        )
        issue_events.assignees_changed(store, issue, req.user.id, before, issue_assignees(store, issue["id"]))


def update_columns(store: Store, issue_id: int, changes: dict) -> None:
    """Write changed issue columns (names come from our code, never from the request)."""
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        store.execute(f"UPDATE issues SET {assignments} WHERE id = ?", *changes.values(), issue_id)  # noqa: S608


def touch(store: Store, issue_id: int) -> None:
    store.execute("UPDATE issues SET updated_at = ? WHERE id = ?", now_iso(), issue_id)


def label_names(req: Request) -> list:
    """Label names from a body that is a list, {"labels": [...]}, with strings or {"name": ...} items."""
    try:
        data = json.loads(req.body or b"[]")
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None
    if isinstance(data, dict):
        data = data.get("labels", [])
    if not isinstance(data, list):
        raise validation_failed("Label", "labels", "invalid")
    return names_of(data)


def names_of(labels: list) -> list:
    """Labels may be given as names or as {"name": ...} objects."""
    return [item.get("name") if isinstance(item, dict) else item for item in labels]


def string_list(data: dict, key: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise validation_failed("Issue", key, "invalid")
    return value


def assignee_logins(data: dict) -> list:
    """`assignees`, plus the older single `assignee` field GitHub still accepts."""
    return string_list(data, "assignees") + ([data["assignee"]] if data.get("assignee") else [])


def insert_issue(req: Request, title: str, body: str | None, *, is_pull: bool = False) -> int:
    """Insert an issue or PR with the repository's next number; returns its id. Call inside a transaction."""
    store, stamp = req.store, now_iso()
    number = store.next_number(req.repo)
    cursor = store.db.execute(
        "INSERT INTO issues (repo_id, number, title, body, user_id, is_pull, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (req.repo.id, number, title, body, req.user.id, int(is_pull), stamp, stamp),
    )
    return cursor.lastrowid


def since(req: Request) -> str:
    """The `since` query parameter as a stored timestamp; 422 when it is not ISO 8601."""
    stamp = parse_timestamp(req.arg("since"))
    if stamp is None:
        raise validation_failed("Query", "since", "invalid")
    return stamp


def valid_title(value: object, resource: str = "Issue") -> str:
    if value is None:
        raise validation_failed(resource, "title", "missing_field")
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise validation_failed(resource, "title", "invalid")
    too_long(resource, "title", str(value), MAX_TITLE_LENGTH)
    return str(value)


def valid_body(value: object, resource: str = "Issue") -> str | None:
    too_long(resource, "body", value, MAX_BODY_LENGTH)
    return value


def has_permission(req: Request, level: str) -> bool:
    return PERMISSIONS.index(req.store.permission(req.user, req.repo)) >= PERMISSIONS.index(level)


# -- routes ---------------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(req: Request, owner: str, repo: str) -> Response:
    sql, params = ["SELECT issues.* FROM issues WHERE repo_id = ?"], [req.repo.id]
    state = req.arg("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("Issue", "state", "invalid")
    if state != "all":
        sql.append("AND state = ?")
        params.append(state)
    sql, params = _filter_people(req, sql, params)
    for name in filter(None, (name.strip() for name in (req.arg("labels") or "").split(","))):
        sql.append(
            "AND id IN (SELECT issue_id FROM issue_labels JOIN labels ON labels.id = label_id "
            "WHERE labels.repo_id = ? AND labels.name = ?)"
        )
        params += [req.repo.id, name]
    if req.arg("since"):
        sql.append("AND updated_at >= ?")
        params.append(since(req))
    column = SORT_COLUMNS.get(req.arg("sort", "created"))
    direction = req.arg("direction", "desc")
    if column is None or direction not in ("asc", "desc"):
        raise validation_failed("Issue", "sort" if column is None else "direction", "invalid")
    sql.append(f"ORDER BY {column} {direction}, number {direction}")
    issues = req.store.rows(" ".join(sql), *params)
    return paginate(req, issues, lambda issue: issue_json(req, issue))


def _filter_people(req: Request, sql: list, params: list) -> tuple[list, list]:
    assignee, creator = req.arg("assignee"), req.arg("creator")
    if assignee == "none":
        sql.append("AND id NOT IN (SELECT issue_id FROM issue_assignees)")
    elif assignee == "*":
        sql.append("AND id IN (SELECT issue_id FROM issue_assignees)")
    elif assignee:
        sql.append(
            "AND id IN (SELECT issue_id FROM issue_assignees JOIN users ON users.id = user_id WHERE users.login = ?)"
        )
        params.append(assignee)
    if creator:
        sql.append("AND user_id IN (SELECT id FROM users WHERE login = ?)")
        params.append(creator)
    return sql, params


@route("POST", "/repos/{owner}/{repo}/issues", permission="read", status=201)
def create_issue(req: Request, owner: str, repo: str) -> dict:
    """Anyone who can read may open an issue; labels and assignees of those without push access
    are silently dropped, as GitHub does."""
    data, store = req.json(), req.store
    title, body = valid_title(data.get("title")), valid_body(data.get("body"))
    pusher = has_permission(req, "write")
    assignees = assignable_users(req, assignee_logins(data), strict=True) if pusher else []
    labels = names_of(string_list(data, "labels")) if pusher else []
    with store.tx():
        issue_id = insert_issue(req, title, body)
        issue = store.row("SELECT * FROM issues WHERE id = ?", issue_id)
        set_labels(req, issue, labels, replace=True)
        set_assignees(req, issue, assignees, replace=True)
        return webhooks.opened(req, issue_json(req, issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    return issue_json(req, issue_row(req.store, req.repo, issue_number))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", permission="triage")
def update_issue(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        changes = text_changes(req, issue, data)
        changes.update(state_change(req, issue, data))
        issue_events.columns_changed(store, issue, req.user.id, changes)
        update_columns(store, issue["id"], changes)
        if "labels" in data:
            set_labels(req, issue, names_of(string_list(data, "labels")), replace=True)
        if "assignees" in data or "assignee" in data:
            set_assignees(req, issue, assignable_users(req, assignee_logins(data), strict=True), replace=True)
        touch(store, issue["id"])
        return webhooks.changed(
            req, before, issue_json(req, store.row("SELECT * FROM issues WHERE id = ?", issue["id"]))
        )


def text_changes(req: Request, issue: sqlite3.Row, data: dict) -> dict:
    """Title and body changes; someone else's issue needs write access (triage may only label and close)."""
    changes = {}
    if "title" in data:
        changes["title"] = valid_title(data["title"])
    if "body" in data:
        changes["body"] = valid_body(data["body"])
    if changes and issue["user_id"] != req.user.id and not has_permission(req, "write"):
        raise forbidden(req.user)
    return changes


def state_change(req: Request, issue: sqlite3.Row, data: dict) -> dict:
    """Columns that change with `state`/`state_reason`: closing stamps closed_at/closed_by, reopening clears."""
    state, reason = data.get("state", issue["state"]), data.get("state_reason")
    if state not in STATES:
        raise validation_failed("Issue", "state", "invalid")
    if reason is not None and reason not in STATE_REASONS:
        raise validation_failed("Issue", "state_reason", "invalid")
    if state == "closed" and issue["state"] == "open":
        return {
            "state": "closed",
            "state_reason": reason or "completed",
            "closed_at": now_iso(),
            "closed_by_id": req.user.id,
        }
    if state == "open" and issue["state"] == "closed":
        return {"state": "open", "state_reason": "reopened", "closed_at": None, "closed_by_id": None}
    return {}  # GitHub ignores a state_reason that comes without a change of state


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_issue_labels(req: Request, owner: str, repo: str, issue_number: str) -> Response:
    issue = issue_row(req.store, req.repo, issue_number)
    return paginate(req, issue_labels(req.store, issue["id"]), lambda label: label_json(req, label))


def _change_labels(req: Request, issue_number: str, *, replace: bool) -> list:
    names, store = label_names(req), req.store
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        set_labels(req, issue, names, replace=replace)
        touch(store, issue["id"])
        webhooks.changed(req, before, issue_json(req, issue_row(store, req.repo, issue_number)))
        return [label_json(req, label) for label in issue_labels(store, issue["id"])]


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", permission="triage")
def add_issue_labels(req: Request, owner: str, repo: str, issue_number: str) -> list:
    return _change_labels(req, issue_number, replace=False)


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels", permission="triage")
def set_issue_labels(req: Request, owner: str, repo: str, issue_number: str) -> list:
    return _change_labels(req, issue_number, replace=True)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name:path}", permission="triage")
def remove_issue_label(req: Request, owner: str, repo: str, issue_number: str, name: str) -> list:
    store = req.store
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        label = find_label(store, req.repo, name)
        removed = (
            label is not None
            and store.db.execute(
                "DELETE FROM issue_labels WHERE issue_id = ? AND label_id = ?", (issue["id"], label["id"])
            ).rowcount
        )
        if not removed:
            raise ApiError(404, "Label does not exist")
        issue_events.labels_changed(store, issue, req.user.id, [label], [])
        touch(store, issue["id"])
        webhooks.changed(req, before, issue_json(req, issue_row(store, req.repo, issue_number)))
        return [label_json(req, label) for label in issue_labels(store, issue["id"])]


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels", permission="triage", status=204)
def remove_all_issue_labels(req: Request, owner: str, repo: str, issue_number: str) -> None:
    store = req.store
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        set_labels(req, issue, [], replace=True)
        touch(store, issue["id"])
        webhooks.changed(req, before, issue_json(req, issue_row(store, req.repo, issue_number)))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees", permission="triage", status=201)
def add_assignees(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    data, store = req.json(), req.store
    users = assignable_users(req, string_list(data, "assignees"), strict=False)
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        set_assignees(req, issue, users, replace=False)
        touch(store, issue["id"])
        return webhooks.changed(
            req, before, issue_json(req, store.row("SELECT * FROM issues WHERE id = ?", issue["id"]))
        )


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/assignees", permission="triage")
def remove_assignees(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    data, store = req.json(), req.store
    logins = string_list(data, "assignees")
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        before = issue_json(req, issue)
        kept = [user for user in issue_assignees(store, issue["id"]) if user.login not in logins]
        set_assignees(req, issue, kept, replace=True)
        touch(store, issue["id"])
        return webhooks.changed(
            req, before, issue_json(req, store.row("SELECT * FROM issues WHERE id = ?", issue["id"]))
        )
