"""Issue comments: list (since, pagination), create, get, update, delete."""

from __future__ import annotations

import sqlite3

from ccc.sandbox import webhooks
from ccc.sandbox.api_issues import issue_json, issue_row, reactions, since, touch, valid_body
from ccc.sandbox.paging import paginate
from ccc.sandbox.records import node_id, now_iso, web_root
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed


def comment_json(req: Request, comment: sqlite3.Row) -> dict:
    """GitHub's issue-comment object."""
    store, repo, api = req.store, req.repo, req.base_url
    author = store.user_by_id(comment["user_id"])
    number = store.row("SELECT number FROM issues WHERE id = ?", comment["issue_id"])["number"]
    url = f"{api}/repos/{repo.full_name}/issues/comments/{comment['id']}"
    return {
        "url": url,
        "html_url": f"{web_root(api)}/{repo.full_name}/issues/{number}#issuecomment-{comment['id']}",
        "issue_url": f"{api}/repos/{repo.full_name}/issues/{number}",
        "id": comment["id"],
        "node_id": node_id("IC", comment["id"]),
        "user": author.to_json(api),
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "author_association": store.author_association(author, repo),
        "body": comment["body"],
        "reactions": reactions(url),
        "performed_via_github_app": None,
    }


def comment_row(req: Request, comment_id: str) -> sqlite3.Row:
    """The comment with this id in this repository, or 404."""
    found = req.store.row(
        "SELECT comments.* FROM comments JOIN issues ON issues.id = comments.issue_id "
        "WHERE comments.id = ? AND issues.repo_id = ?",
        int(comment_id) if comment_id.isdigit() else -1,
        req.repo.id,
    )
    if found is None:
        raise ApiError(404, "Not Found")
    return found


def _body(data: dict) -> str:
    body = data.get("body")
    if body is None:
        raise validation_failed("IssueComment", "body", "missing_field")
    if not isinstance(body, str) or not body.strip():
        raise validation_failed("IssueComment", "body", "invalid")
    return valid_body(body, "IssueComment")


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(req: Request, owner: str, repo: str, issue_number: str) -> Response:
    issue = issue_row(req.store, req.repo, issue_number)
    sql, params = "SELECT * FROM comments WHERE issue_id = ?", [issue["id"]]
    if req.arg("since"):
        sql, params = sql + " AND updated_at >= ?", params + [since(req)]
    comments = req.store.rows(sql + " ORDER BY id", *params)
    return paginate(req, comments, lambda comment: comment_json(req, comment))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", permission="triage", status=201)
def create_comment(req: Request, owner: str, repo: str, issue_number: str) -> dict:
    body, store, stamp = _body(req.json()), req.store, now_iso()
    with store.tx():
        issue = issue_row(store, req.repo, issue_number)
        cursor = store.db.execute(
            "INSERT INTO comments (issue_id, user_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (issue["id"], req.user.id, body, stamp, stamp),
        )
        store.db.execute("UPDATE issues SET comments = comments + 1 WHERE id = ?", (issue["id"],))
        touch(store, issue["id"])
        created = comment_json(req, store.row("SELECT * FROM comments WHERE id = ?", cursor.lastrowid))
        return webhooks.commented(req, issue_json(req, issue_row(store, req.repo, issue_number)), created)


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(req: Request, owner: str, repo: str, comment_id: str) -> dict:
    return comment_json(req, comment_row(req, comment_id))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", permission="triage")
def update_comment(req: Request, owner: str, repo: str, comment_id: str) -> dict:
    body, store = _body(req.json()), req.store
    with store.tx():
        comment = comment_row(req, comment_id)
        store.db.execute("UPDATE comments SET body = ?, updated_at = ? WHERE id = ?", (body, now_iso(), comment["id"]))
        return comment_json(req, store.row("SELECT * FROM comments WHERE id = ?", comment["id"]))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", permission="triage", status=204)
def delete_comment(req: Request, owner: str, repo: str, comment_id: str) -> None:
    store = req.store
    with store.tx():
        comment = comment_row(req, comment_id)
        store.db.execute("DELETE FROM comments WHERE id = ?", (comment["id"],))
        store.db.execute("UPDATE issues SET comments = comments - 1 WHERE id = ?", (comment["issue_id"],))
