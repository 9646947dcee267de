"""Merging pull requests: PUT/GET /pulls/N/merge and what a merge sets off on GitHub.

After a merge GitHub closes the issues the body links with a closing keyword (when the base is
the default branch), deletes the head branch if the repository says so, and retargets open pull
requests whose base was that branch to the merged pull's base.
"""

from __future__ import annotations

import re
import sqlite3

from ccc.sandbox import issue_events, merging, webhooks
from ccc.sandbox.api_issues import issue_json, issue_row, state_change, update_columns
from ccc.sandbox.api_pulls import branch_tip, pull_json, pull_row
from ccc.sandbox.api_repo_settings import repo_settings
from ccc.sandbox.merging import Person
from ccc.sandbox.records import now_iso
from ccc.sandbox.routing import ApiError, Request, route, validation_failed

# "fixes #12", "Closes: acme/widgets#3": GitHub's closing keywords, case-insensitive.
CLOSING_KEYWORD = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+(?:(?P<repo>[\w.-]+/[\w.-]+))?#(?P<number>\d+)\b",
    re.IGNORECASE,
)
METHOD_SETTINGS = {
    "merge": ("allow_merge_commit", "Merge commits are not allowed on this repository."),
    "squash": ("allow_squash_merge", "Squash merges are not allowed on this repository."),
    "rebase": ("allow_rebase_merge", "Rebase merges are not allowed on this repository."),
}
NOT_MERGEABLE = "Pull Request is not mergeable"


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", status=204)
def check_merged(req: Request, owner: str, repo: str, pull_number: str) -> None:
    pull = pull_row(req, issue_row(req.store, req.repo, pull_number))
    if req.store.row("SELECT 1 FROM merges WHERE pull_id = ?", pull["id"]) is None:
        raise ApiError(404, "Not Found")


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", permission="write")
def merge_pull(req: Request, owner: str, repo: str, pull_number: str) -> dict:
    data, store = req.json(), req.store
    method = data.get("merge_method", "merge")
    if method not in merging.MERGE_METHODS:
        raise validation_failed("PullRequest", "merge_method", "invalid")
    setting, refusal = METHOD_SETTINGS[method]
    if not repo_settings(req.store, req.repo)[setting]:
        raise ApiError(405, refusal)
    with store.tx():
        issue = issue_row(store, req.repo, pull_number)
        pull = pull_row(req, issue)
        head, base = branch_tip(req, pull["head_ref"]), branch_tip(req, pull["base_ref"])
        if issue["state"] != "open" or head is None or base is None:
            raise ApiError(405, NOT_MERGEABLE)
        if pull["draft"]:
            raise ApiError(405, "Pull Request is still a draft")
        if data.get("sha") not in (None, head):
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        sha = _merged_commit(req, issue, method, data, base, head)
        if sha is None:
            raise ApiError(405, NOT_MERGEABLE if method != "rebase" else "This branch can't be rebased")
        if not req.repo.git.update_ref(f"refs/heads/{pull['base_ref']}", sha, base):
            raise ApiError(405, "Base branch was modified. Review and try the merge again.")
        _record_merge(req, issue, pull, sha, head, base)
    return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


def _merged_commit(req: Request, issue: sqlite3.Row, method: str, data: dict, base: str, head: str) -> str | None:
    """The new tip of the base branch for this merge method; None when head does not merge cleanly."""
    git, number, title = req.repo.git, issue["number"], issue["title"]
    if method == "rebase":
        return merging.rebase_commits(git, base, head)
    if method == "squash":
        default_title = f"{title} (#{number})"
        listed = [git.commit(sha)["message"].strip() for sha in merging.commits_between(git, base, head)]
        message = _message(data, default_title, "\n\n".join(f"* {text}" for text in listed))
        return merging.squash_commit(git, base, head, message, Person.of(req.store.user_by_id(issue["user_id"])))
    head_ref = req.store.row("SELECT head_ref FROM pulls WHERE issue_id = ?", issue["id"])["head_ref"]
    message = _message(data, f"Merge pull request #{number} from {req.repo.owner}/{head_ref}", title)
    return merging.merge_commit(git, base, head, message, Person.of(req.user))


def _message(data: dict, default_title: str, default_body: str) -> str:
    title = data.get("commit_title") or default_title
    body = data.get("commit_message", default_body)
    return f"{title}\n\n{body}\n" if body else f"{title}\n"


def _record_merge(req: Request, issue: sqlite3.Row, pull: sqlite3.Row, sha: str, head: str, base: str) -> None:
    """Everything a merge changes besides the base branch, with the events GitHub sends for it."""
    store, push = req.store, webhooks.push_payload(req, req.repo, f"refs/heads/{pull['base_ref']}", base, sha)
    store.db.execute("UPDATE pulls SET head_sha = ?, base_sha = ? WHERE id = ?", (head, base, pull["id"]))
    store.db.execute(
        "INSERT INTO merges (pull_id, sha, user_id, merged_at) VALUES (?, ?, ?, ?)",
        (pull["id"], sha, req.user.id, now_iso()),
    )
    update_columns(store, issue["id"], state_change(req, issue, {"state": "closed"}) | {"state_reason": None})
    issue_events.merged(store, issue, req.user.id, sha)
    req.context.pop("branch_tips", None)  # the base branch moved
    webhooks.emit(req, "push", push)
    closed = pull_json(req, issue_row(store, req.repo, issue["number"]))
    webhooks.emit(req, "pull_request", {"action": "closed", "number": issue["number"], "pull_request": closed})
    if pull["base_ref"] == req.repo.default_branch:
        _close_linked_issues(req, issue)
    if repo_settings(store, req.repo)["delete_branch_on_merge"]:
        _delete_head(req, pull, head)


def _close_linked_issues(req: Request, pull_issue: sqlite3.Row) -> None:
    for number in linked_issue_numbers(pull_issue["body"] or "", req.repo.full_name):
        found = req.store.row("SELECT * FROM issues WHERE repo_id = ? AND number = ?", req.repo.id, number)
        if found is None or found["is_pull"] or found["state"] != "open":
            continue
        before, changes = (
            issue_json(req, found),
            state_change(req, found, {"state": "closed", "state_reason": "completed"}),
        )
        update_columns(req.store, found["id"], changes)
        issue_events.columns_changed(req.store, found, req.user.id, changes)
        webhooks.changed(req, before, issue_json(req, issue_row(req.store, req.repo, number)))


def linked_issue_numbers(body: str, full_name: str) -> list[int]:
    """Issue numbers of this repository that a closing keyword in `body` names, in order, once each."""
    numbers: list[int] = []
    for found in CLOSING_KEYWORD.finditer(body):
        same_repo = found.group("repo") is None or found.group("repo").lower() == full_name.lower()
        if same_repo and int(found.group("number")) not in numbers:
            numbers.append(int(found.group("number")))
    return numbers


def _delete_head(req: Request, pull: sqlite3.Row, head: str) -> None:
    """Delete the merged head branch and retarget open pulls that were based on it (as GitHub does)."""
    ref = f"refs/heads/{pull['head_ref']}"
    deletion = webhooks.push_payload(req, req.repo, ref, head, None)
    if not req.repo.git.delete_ref(ref, head):
        return  # the branch moved after the merge: GitHub keeps it then
    req.context.pop("branch_tips", None)
    webhooks.emit(req, "push", deletion)
    based = req.store.rows(
        "SELECT issues.* FROM issues JOIN pulls ON pulls.issue_id = issues.id "
        "WHERE issues.repo_id = ? AND issues.state = 'open' AND pulls.base_ref = ?",
        req.repo.id,
        pull["head_ref"],
    )
    for issue in based:
        before = pull_json(req, issue)
        req.store.db.execute("UPDATE pulls SET base_ref = ? WHERE issue_id = ?", (pull["base_ref"], issue["id"]))
        webhooks.changed(req, before, pull_json(req, issue))
