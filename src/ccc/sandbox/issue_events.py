"""Recording issue events (labeled, unlabeled, assigned, unassigned, renamed, closed, reopened, merged).

Handlers call these inside their write transaction; GET .../issues/events answers from the table
(see api_issue_events). The `reviews` part of the sandbox calls `merged` when a pull request merges.
"""

from __future__ import annotations

import json
import sqlite3

from ccc.sandbox.records import now_iso
from ccc.sandbox.store import Store

# GitHub's event ids are large (tens of billions) and unrelated to anything else's ids.
FIRST_EVENT_ID = 15_000_000_001


def record(store: Store, issue: sqlite3.Row, actor_id: int, event: str, **details) -> None:
    """One event on an issue or pull request; `details` are the event's own fields (label, rename…)."""
    commit_id = details.pop("commit_id", None)
    store.execute(
        "INSERT INTO issue_events (id, repo_id, issue_id, event, actor_id, commit_id, details, created_at) "
        "VALUES ((SELECT COALESCE(MAX(id), ?) + 1 FROM issue_events), ?, ?, ?, ?, ?, ?, ?)",
        FIRST_EVENT_ID - 1,
        issue["repo_id"],
        issue["id"],
        event,
        actor_id,
        commit_id,
        json.dumps(details),
        now_iso(),
    )


def labels_changed(store: Store, issue: sqlite3.Row, actor_id: int, before: list, after: list) -> None:
    """`labeled`/`unlabeled` for each label (rows with name and color) that came or went."""
    before_ids, after_ids = {label["id"] for label in before}, {label["id"] for label in after}
    for label in after:
        if label["id"] not in before_ids:
            record(store, issue, actor_id, "labeled", label={"name": label["name"], "color": label["color"]})
    for label in before:
        if label["id"] not in after_ids:
            record(store, issue, actor_id, "unlabeled", label={"name": label["name"], "color": label["color"]})


def assignees_changed(store: Store, issue: sqlite3.Row, actor_id: int, before: list, after: list) -> None:
    """`assigned`/`unassigned` for each user (records with an id) who came or went."""
    before_ids, after_ids = {user.id for user in before}, {user.id for user in after}
    for user in after:
        if user.id not in before_ids:
            record(store, issue, actor_id, "assigned", assignee_id=user.id)
    for user in before:
        if user.id not in after_ids:
            record(store, issue, actor_id, "unassigned", assignee_id=user.id)


def columns_changed(store: Store, issue: sqlite3.Row, actor_id: int, changes: dict) -> None:
    """`renamed`, `closed` and `reopened` for an update of the issue's columns."""
    if "title" in changes and changes["title"] != issue["title"]:
        record(store, issue, actor_id, "renamed", rename={"from": issue["title"], "to": changes["title"]})
    if changes.get("state") == "closed":
        record(store, issue, actor_id, "closed", state_reason=changes.get("state_reason"))
    elif changes.get("state") == "open":
        record(store, issue, actor_id, "reopened", state_reason="reopened")


def merged(store: Store, issue: sqlite3.Row, actor_id: int, commit_sha: str) -> None:
    """A pull request merged: GitHub records `merged` and then `closed`, both with the merge commit."""
    record(store, issue, actor_id, "merged", commit_id=commit_sha)
    record(store, issue, actor_id, "closed", commit_id=commit_sha, state_reason=None)
