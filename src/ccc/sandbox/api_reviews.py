"""Pull request reviews and their line comments: create (pending or submitted), submit, list, get.

A line comment must point at a line of the pull's diff (head against its merge base with base);
its `diff_hunk` is the hunk up to that line, as GitHub shows it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from ccc.sandbox import webhooks
from ccc.sandbox.api_issues import issue_row, reactions
from ccc.sandbox.api_pulls import pull_json, pull_row, pull_tips
from ccc.sandbox.api_repo_settings import check_actions_may_create_pulls
from ccc.sandbox.paging import paginate
from ccc.sandbox.records import node_id, now_iso, web_root
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed

EVENT_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
PENDING = "PENDING"
HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
OWN_PULL_REFUSALS = {
    "APPROVE": "Can not approve your own pull request",
    "REQUEST_CHANGES": "Can not request changes on your own pull request",
}


def unprocessable(message: str) -> ApiError:
    """The review endpoints' 422: a plain list of messages, not Validation Failed's objects."""
    return ApiError(422, "Unprocessable Entity", errors=[message])


# -- rendering --------------------------------------------------------------------------------------


def review_json(req: Request, review: sqlite3.Row, number: int) -> dict:
    """GitHub's pull-request-review object."""
    api, full = req.base_url, req.repo.full_name
    user = req.store.user_by_id(review["user_id"])
    html = f"{web_root(api)}/{full}/pull/{number}#pullrequestreview-{review['id']}"
    pull_url = f"{api}/repos/{full}/pulls/{number}"
    data = {
        "id": review["id"],
        "node_id": node_id("PRR", review["id"]),
        "user": user.to_json(api),
        "body": review["body"],
        "state": review["state"],
        "html_url": html,
        "pull_request_url": pull_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": review["commit_id"],
        "author_association": req.store.author_association(user, req.repo),
    }
    if review["submitted_at"] is not None:  # a pending review has no submitted_at
        data["submitted_at"] = review["submitted_at"]
    return data


def review_comment_json(req: Request, comment: sqlite3.Row, number: int) -> dict:
    """GitHub's pull-request-review-comment object (a single-line comment)."""
    api, full = req.base_url, req.repo.full_name
    user = req.store.user_by_id(comment["user_id"])
    url = f"{api}/repos/{full}/pulls/comments/{comment['id']}"
    html = f"{web_root(api)}/{full}/pull/{number}#discussion_r{comment['id']}"
    pull_url = f"{api}/repos/{full}/pulls/{number}"
    return {
        "url": url,
        "pull_request_review_id": comment["review_id"],
        "id": comment["id"],
        "node_id": node_id("PRRC", comment["id"]),
        "diff_hunk": comment["diff_hunk"],
        "path": comment["path"],
        "position": comment["position"],
        "original_position": comment["position"],
        "commit_id": comment["commit_id"],
        "original_commit_id": comment["commit_id"],
        "user": user.to_json(api),
        "body": comment["body"],
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": req.store.author_association(user, req.repo),
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
        "start_line": None,
        "original_start_line": None,
        "start_side": None,
        "line": comment["line"],
        "original_line": comment["line"],
        "side": comment["side"],
        "subject_type": "line",
        "reactions": reactions(url),
    }


# -- the diff a comment points into -----------------------------------------------------------------


@dataclass(frozen=True)
class LineComment:
    path: str
    line: int
    side: str
    body: str
    diff_hunk: str
    position: int  # lines below the file's first hunk header, as GitHub's `position` counts


def diff_hunk(git, base: str, head: str, path: str, line: int, side: str) -> tuple[str, int] | None:
    """(the hunk down to `line` on `side`, the line's position in the file's diff); None when the line is
    not part of the diff."""
    merge_base = git.run("merge-base", base, head, check=False).stdout.decode().strip() or base
    diff = git.run("diff", "-U3", merge_base, head, "--", path).stdout.decode(errors="replace")
    lines = diff.splitlines()
    start = next((i for i, text in enumerate(lines) if text.startswith("@@")), None)
    if start is None:
        return None
    hunk_start, old, new = start, 0, 0
    for index in range(start, len(lines)):
        text = lines[index]
        header = HUNK_HEADER.match(text)
        if header:
            hunk_start, old, new = index, int(header.group(1)), int(header.group(2))
            continue
        kind = text[:1]
        here = old if side == "LEFT" else new
        counts = kind in (" ", "-") if side == "LEFT" else kind in (" ", "+")
        if counts and here == line:
            return "\n".join(lines[hunk_start : index + 1]), index - start
        old += kind in (" ", "-")
        new += kind in (" ", "+")
    return None


def line_comments(req: Request, data: dict, base: str, head: str) -> list[LineComment]:
    comments = data.get("comments") or []
    if not isinstance(comments, list):
        raise validation_failed("PullRequestReview", "comments", "invalid")
    found = []
    for item in comments:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not item.get("body"):
            raise validation_failed("PullRequestReviewComment", "comments", "invalid")
        side = item.get("side", "RIGHT")
        line = item.get("line")
        if side not in ("LEFT", "RIGHT") or not isinstance(line, int):
            raise unprocessable("Pull request review thread line must be part of the diff")
        located = diff_hunk(req.repo.git, base, head, item["path"], line, side)
        if located is None:
            raise unprocessable("Pull request review thread line must be part of the diff")
        found.append(LineComment(item["path"], line, side, item["body"], *located))
    return found


# -- routes -----------------------------------------------------------------------------------------


def _review_row(req: Request, pull: sqlite3.Row, review_id: str) -> sqlite3.Row:
    """The review, if it belongs to this pull and the caller may see it (a pending one: its author only)."""
    found = req.store.row(
        "SELECT * FROM reviews WHERE id = ? AND pull_id = ?", int(review_id) if review_id.isdigit() else -1, pull["id"]
    )
    if found is None or (found["submitted_at"] is None and found["user_id"] != req.user.id):
        raise ApiError(404, "Not Found")
    return found


def _check_event(req: Request, issue: sqlite3.Row, event: object, body: str, has_comments: bool) -> str:
    """The review state for `event`, after GitHub's rules for it."""
    if event not in EVENT_STATES:
        raise validation_failed("PullRequestReview", "event", "invalid")
    if issue["user_id"] == req.user.id and event in OWN_PULL_REFUSALS:
        raise unprocessable(OWN_PULL_REFUSALS[event])
    if event == "APPROVE":
        check_actions_may_create_pulls(req)  # the repository's "create and approve pull requests" setting
    if not body.strip() and (event == "REQUEST_CHANGES" or (event == "COMMENT" and not has_comments)):
        raise unprocessable("Body can't be blank")  # GitHub: body is required for these events
    return EVENT_STATES[event]


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", status=200)
def create_review(req: Request, owner: str, repo: str, pull_number: str) -> dict:
    data, store = req.json(), req.store
    body = data.get("body") or ""
    with store.tx():
        issue = issue_row(store, req.repo, pull_number)
        pull = pull_row(req, issue)
        head, base = pull_tips(req, pull, issue)
        comments = line_comments(req, data, base, head)
        event = data.get("event")
        state = PENDING if event is None else _check_event(req, issue, event, body, bool(comments))
        if state == PENDING and _pending_review(req, pull) is not None:
            raise unprocessable("User can only have one pending review per pull request")
        stamp = now_iso()
        cursor = store.db.execute(
            "INSERT INTO reviews (pull_id, user_id, state, body, commit_id, submitted_at) VALUES (?, ?, ?, ?, ?, ?)",
            (pull["id"], req.user.id, state, body, data.get("commit_id") or head, None if state == PENDING else stamp),
        )
        store.db.executemany(
            "INSERT INTO review_comments (review_id, pull_id, user_id, path, line, side, body, commit_id, diff_hunk,"
            " position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (cursor.lastrowid, pull["id"], req.user.id, c.path, c.line, c.side, c.body, head, c.diff_hunk)
                + (c.position, stamp, stamp)
                for c in comments
            ],
        )
        return _submitted(req, issue, store.row("SELECT * FROM reviews WHERE id = ?", cursor.lastrowid))


def _pending_review(req: Request, pull: sqlite3.Row) -> sqlite3.Row | None:
    return req.store.row(
        "SELECT * FROM reviews WHERE pull_id = ? AND user_id = ? AND submitted_at IS NULL", pull["id"], req.user.id
    )


def _submitted(req: Request, issue: sqlite3.Row, review: sqlite3.Row) -> dict:
    """The review's JSON; a submitted review is a `pull_request_review` event."""
    shown = review_json(req, review, issue["number"])
    if review["submitted_at"] is not None:
        pull = pull_json(req, issue)
        review_payload = {**shown, "state": shown["state"].lower()}  # webhooks spell the state in lower case
        webhooks.emit(
            req, "pull_request_review", {"action": "submitted", "review": review_payload, "pull_request": pull}
        )
    return shown


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/events")
def submit_review(req: Request, owner: str, repo: str, pull_number: str, review_id: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        issue = issue_row(store, req.repo, pull_number)
        review = _review_row(req, pull_row(req, issue), review_id)
        if review["submitted_at"] is not None:
            raise unprocessable("Can not submit a non-pending review")
        has_comments = store.row("SELECT 1 FROM review_comments WHERE review_id = ?", review["id"]) is not None
        body = data.get("body") or review["body"]
        state = _check_event(req, issue, data.get("event"), body, has_comments)
        store.db.execute(
            "UPDATE reviews SET state = ?, body = ?, submitted_at = ? WHERE id = ?",
            (state, body, now_iso(), review["id"]),
        )
        return _submitted(req, issue, store.row("SELECT * FROM reviews WHERE id = ?", review["id"]))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(req: Request, owner: str, repo: str, pull_number: str) -> Response:
    issue = issue_row(req.store, req.repo, pull_number)
    reviews = req.store.rows(
        "SELECT * FROM reviews WHERE pull_id = ? AND (submitted_at IS NOT NULL OR user_id = ?) ORDER BY id",
        pull_row(req, issue)["id"],
        req.user.id,
    )
    return paginate(req, reviews, lambda review: review_json(req, review, issue["number"]))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}")
def get_review(req: Request, owner: str, repo: str, pull_number: str, review_id: str) -> dict:
    issue = issue_row(req.store, req.repo, pull_number)
    return review_json(req, _review_row(req, pull_row(req, issue), review_id), issue["number"])


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments")
def list_review_comments(req: Request, owner: str, repo: str, pull_number: str, review_id: str) -> Response:
    issue = issue_row(req.store, req.repo, pull_number)
    review = _review_row(req, pull_row(req, issue), review_id)
    comments = req.store.rows("SELECT * FROM review_comments WHERE review_id = ? ORDER BY id", review["id"])
    return paginate(req, comments, lambda comment: review_comment_json(req, comment, issue["number"]))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments")
def list_pull_comments(req: Request, owner: str, repo: str, pull_number: str) -> Response:
    issue = issue_row(req.store, req.repo, pull_number)
    comments = req.store.rows(
        "SELECT review_comments.* FROM review_comments JOIN reviews ON reviews.id = review_comments.review_id "
        "WHERE review_comments.pull_id = ? AND reviews.submitted_at IS NOT NULL ORDER BY review_comments.id",
        pull_row(req, issue)["id"],
    )
    return paginate(req, comments, lambda comment: review_comment_json(req, comment, issue["number"]))


@route("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}")
def get_pull_comment(req: Request, owner: str, repo: str, comment_id: str) -> dict:
    found = req.store.row(
        "SELECT review_comments.*, issues.number FROM review_comments "
        "JOIN reviews ON reviews.id = review_comments.review_id "
        "JOIN pulls ON pulls.id = review_comments.pull_id JOIN issues ON issues.id = pulls.issue_id "
        "WHERE review_comments.id = ? AND issues.repo_id = ? AND reviews.submitted_at IS NOT NULL",
        int(comment_id) if comment_id.isdigit() else -1,
        req.repo.id,
    )
    if found is None:
        raise ApiError(404, "Not Found")
    return review_comment_json(req, found, found["number"])
