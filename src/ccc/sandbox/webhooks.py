"""Webhook events: what GitHub would trigger Actions with after each write, in GitHub's payload shapes.

Handlers call `emit` (or `changed`, which works out the events from two renderings of one issue or
pull request); the payload is stored without `repository` and `sender`, which `events_json` adds
when the events are read (as GET /_sandbox/events), in the shapes of GitHub's webhook schemas.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from ccc.sandbox.api_events import record_event
from ccc.sandbox.records import Repo, web_root
from ccc.sandbox.routing import Request
from ccc.sandbox.store import Store

MAX_PUSH_COMMITS = 20  # GitHub lists at most 20 commits in a push payload
# Keys of the REST API's objects that webhook payloads do not carry (octokit's webhook schemas), by a key
# that tells the kind of object: users, issues, labels, repositories.
REST_ONLY_KEYS = (
    ("login", ("user_view_type",)),
    ("repository_url", ("sub_issues_summary", "type", "closed_by")),
    ("color", ("archived_at", "archived_by")),
    ("full_name", ("network_count", "subscribers_count")),
)
FULL_PULL_ONLY_KEYS = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def emit(req: Request, name: str, payload: dict) -> None:
    """Record the event `name` with its payload (repository and sender are added when it is read)."""
    record_event(req, name, payload)


def opened(req: Request, issue: dict) -> dict:
    emit(req, "issues", {"action": "opened", "issue": issue})
    return issue


def commented(req: Request, issue: dict, comment: dict) -> dict:
    emit(req, "issue_comment", {"action": "created", "issue": issue, "comment": comment})
    return comment


def changed(req: Request, before: dict, after: dict) -> dict:
    """Emit the events GitHub sends for the change from `before` to `after` (two renderings of one issue
    or pull request, in either API shape); returns `after` so a handler can end with it."""
    name, subject = _subject(req, after)
    for action, extra in _actions(before, after):
        emit(req, name, {"action": action, **subject, **extra})
    return after


def _subject(req: Request, after: dict) -> tuple[str, dict]:
    """The event name and the object a payload is about; a pull request changed through the issues API
    is still a `pull_request` event."""
    if "head" in after:
        return "pull_request", {"number": after["number"], "pull_request": after}
    if "pull_request" in after:
        from ccc.sandbox.api_issues import issue_row  # the pull layer imports this module
        from ccc.sandbox.api_pulls import pull_json

        pull = pull_json(req, issue_row(req.store, req.repo, after["number"]))
        return "pull_request", {"number": after["number"], "pull_request": pull}
    return "issues", {"issue": after}


def _actions(before: dict, after: dict) -> list[tuple[str, dict]]:
    """(action, extra payload keys) for each difference, in the order GitHub sends them."""
    actions: list[tuple[str, dict]] = []
    changes = {key: {"from": before[key] or ""} for key in ("title", "body") if before[key] != after[key]}
    if "base" in after and before["base"]["ref"] != after["base"]["ref"]:
        changes["base"] = {"ref": {"from": before["base"]["ref"]}, "sha": {"from": before["base"]["sha"]}}
    if changes:
        actions.append(("edited", {"changes": changes}))
    if before["state"] != after["state"]:
        actions.append(("closed" if after["state"] == "closed" else "reopened", {}))
    actions += _set_changes(before["labels"], after["labels"], "name", "labeled", "unlabeled", "label")
    actions += _set_changes(before["assignees"], after["assignees"], "login", "assigned", "unassigned", "assignee")
    return actions


def _set_changes(old: list, new: list, key: str, added: str, removed: str, field: str) -> list[tuple[str, dict]]:
    old_keys, new_keys = {item[key] for item in old}, {item[key] for item in new}
    return [(added, {field: item}) for item in new if item[key] not in old_keys] + [
        (removed, {field: item}) for item in old if item[key] not in new_keys
    ]


# -- pushes -----------------------------------------------------------------------------------------


def pushed(req: Request, repo: Repo, before: dict[str, str], after: dict[str, str]) -> None:
    """Emit `push` for every branch or tag that moved, and `synchronize` for open pull requests whose
    head branch moved. (A git request carries the web root as its base URL; payloads need the API's.)"""
    req = replace(req, repo=repo, base_url=web_root(req.base_url) + "/api/v3", context={})
    for ref in sorted(set(before) | set(after)):
        old, new = before.get(ref), after.get(ref)
        if old != new and ref.startswith(("refs/heads/", "refs/tags/")):
            emit(req, "push", push_payload(req, repo, ref, old, new))
            if ref.startswith("refs/heads/") and new:
                _synchronize(req, ref.removeprefix("refs/heads/"), old, new)


def ref_changed(req: Request, ref: str, old: str | None, new: str | None) -> None:
    """A ref written through the git data API: GitHub sends the same events as for a push."""
    pushed(req, req.repo, {ref: old} if old else {}, {ref: new} if new else {})


def push_payload(req: Request, repo: Repo, ref: str, old: str | None, new: str | None) -> dict:
    from ccc.sandbox.gitrepo import ZERO_SHA

    git, html = repo.git, f"{web_root(req.base_url)}/{repo.full_name}"
    shas = _pushed_commits(git, old, new)
    commits = [_commit_json(git, html, sha) for sha in shas[-MAX_PUSH_COMMITS:]]
    return {
        "ref": ref,
        "before": old or ZERO_SHA,
        "after": new or ZERO_SHA,
        "created": old is None,
        "deleted": new is None,
        "forced": bool(old and new and not git.is_ancestor(old, new)),
        "base_ref": None,
        "compare": f"{html}/compare/{(old or ZERO_SHA)[:12]}...{(new or ZERO_SHA)[:12]}",
        "commits": commits,
        "head_commit": _commit_json(git, html, new) if new else None,
        "pusher": {"name": req.user.login, "email": f"{req.user.id}+{req.user.login}@users.noreply.github.com"},
    }


def _pushed_commits(git, old: str | None, new: str | None) -> list[str]:
    """Commits new on the ref, oldest first (for a new ref: those on no other branch)."""
    if new is None:
        return []
    if old is not None:
        exclude = [f"^{old}"]
    else:
        exclude = [f"^{sha}" for name, sha in git.list_refs("refs/heads/") if sha != new]
    listing = git.run("rev-list", "--reverse", new, *exclude).stdout.decode()
    return listing.split()


def _commit_json(git, html: str, sha: str) -> dict:
    commit = git.commit(sha)
    if commit is None:  # an annotated tag: GitHub describes the commit it points to
        sha = git.run("rev-parse", f"{sha}^{{commit}}").stdout.decode().strip()
        commit = git.commit(sha)
    files = git.run("diff-tree", "--no-commit-id", "--name-status", "-r", "--root", sha).stdout.decode()
    status = [line.split("\t", 1) for line in files.splitlines() if line]
    return {
        "id": sha,
        "tree_id": commit["tree"],
        "distinct": True,
        "message": commit["message"].rstrip("\n"),
        "timestamp": commit["committer"]["date"],
        "url": f"{html}/commit/{sha}",
        "author": {key: commit["author"][key] for key in ("name", "email")},
        "committer": {key: commit["committer"][key] for key in ("name", "email")},
        "added": [path for kind, path in status if kind == "A"],
        "removed": [path for kind, path in status if kind == "D"],
        "modified": [path for kind, path in status if kind not in ("A", "D")],
    }


def _synchronize(req: Request, branch: str, old: str | None, new: str) -> None:
    from ccc.sandbox.api_pulls import pull_json  # the pull layer imports this module

    rows = req.store.rows(
        "SELECT issues.* FROM issues JOIN pulls ON pulls.issue_id = issues.id "
        "WHERE issues.repo_id = ? AND issues.state = 'open' AND pulls.head_ref = ?",
        req.repo.id,
        branch,
    )
    req.context.pop("branch_tips", None)  # the branch just moved
    for issue in rows:
        payload = {"action": "synchronize", "number": issue["number"], "before": old, "after": new}
        emit(req, "pull_request", {**payload, "pull_request": pull_json(req, issue)})


# -- reading ----------------------------------------------------------------------------------------


def events_json(store: Store, api_url: str, name: str | None = None) -> list[dict]:
    """Recorded events, oldest first, each {id, type, action, repo, payload, time}, as GET /_sandbox/events
    shows them; `name` keeps only events of that type."""
    sql = "SELECT * FROM events" + (" WHERE type = ?" if name else "") + " ORDER BY id"
    rows = store.rows(sql, *([name] if name else []))
    repos: dict[int, dict] = {}
    return [_event_json(store, api_url, row, repos) for row in rows]


def _event_json(store: Store, api_url: str, row: sqlite3.Row, repos: dict[int, dict]) -> dict:
    if row["repo_id"] not in repos:
        repo = store.repo_by_id(row["repo_id"])
        repos[row["repo_id"]] = repo.to_json(api_url, store.user_by_login(repo.owner))
    stored = json.loads(row["payload"])
    sender = store.user_by_login(stored.pop("sender"))
    payload = _webhook_shape({**stored, "repository": repos[row["repo_id"]], "sender": sender.to_json(api_url)})
    if row["type"] == "pull_request_review":
        payload["pull_request"] = {k: v for k, v in payload["pull_request"].items() if k not in FULL_PULL_ONLY_KEYS}
    return {
        "id": row["id"],
        "type": row["type"],
        "action": payload.get("action"),
        "repo": repos[row["repo_id"]]["full_name"],
        "payload": payload,
        "time": row["created_at"],
    }


def _webhook_shape(value):
    """REST objects as webhook payloads carry them: without the REST-only keys, and repositories with
    `custom_properties`."""
    if isinstance(value, list):
        return [_webhook_shape(item) for item in value]
    if not isinstance(value, dict):
        return value
    dropped = {key for marker, keys in REST_ONLY_KEYS if marker in value for key in keys}
    shaped = {key: _webhook_shape(item) for key, item in value.items() if key not in dropped}
    if "full_name" in shaped:
        shaped.setdefault("custom_properties", {})
    return shaped
