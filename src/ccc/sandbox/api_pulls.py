"""Pull requests: create (checked against the real git refs), list (state, head, base), get.

A pull request is an issue row (shared number sequence) plus a `pulls` row with its branches.
"""

from __future__ import annotations

import sqlite3

from ccc.sandbox import issue_events, merging, webhooks
from ccc.sandbox.api_issues import (
    insert_issue,
    issue_assignees,
    issue_labels,
    issue_row,
    state_change,
    touch,
    update_columns,
    valid_body,
    valid_title,
)
from ccc.sandbox.api_labels import label_json
from ccc.sandbox.api_repo_settings import check_actions_may_create_pulls
from ccc.sandbox.paging import paginate
from ccc.sandbox.records import node_id, web_root
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed


def pull_row(req: Request, issue: sqlite3.Row) -> sqlite3.Row:
    found = req.store.row("SELECT * FROM pulls WHERE issue_id = ?", issue["id"])
    if found is None:
        raise ApiError(404, "Not Found")
    return found


def branch_tip(req: Request, branch: str) -> str | None:
    """The branch's current sha; all branches are read once per request (lists show many pulls)."""
    if "branch_tips" not in req.context:
        req.context["branch_tips"] = dict(req.repo.git.list_refs("refs/heads/"))
    return req.context["branch_tips"].get(f"refs/heads/{branch}")


def branch_json(req: Request, ref: str, sha: str) -> dict:
    repo, owner = req.repo, req.store.user_by_login(req.repo.owner)
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": owner.to_json(req.base_url),
        "repo": repo.to_json(req.base_url, owner),
    }


def pull_json(req: Request, issue: sqlite3.Row, *, detail: bool = False) -> dict:
    """GitHub's pull-request object; an open pull's head and base follow their branches.

    `detail` adds what GitHub computes only for a single pull request (mergeability, commit and
    diff counts); lists and fresh pulls answer `mergeable: null` as GitHub does until it has computed it.
    """
    store, repo, api = req.store, req.repo, req.base_url
    pull = pull_row(req, issue)
    number, full = issue["number"], repo.full_name
    url, html = f"{api}/repos/{full}/pulls/{number}", f"{web_root(api)}/{full}/pull/{number}"
    issue_url = f"{api}/repos/{full}/issues/{number}"
    head_sha, base_sha = pull_tips(req, pull, issue)
    author = store.user_by_id(issue["user_id"])
    assignees = [user.to_json(api) for user in issue_assignees(store, issue["id"])]
    links = {
        "self": url,
        "html": html,
        "issue": issue_url,
        "comments": f"{issue_url}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{api}/repos/{full}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{api}/repos/{full}/statuses/{head_sha}",
    }
    return {
        "url": url,
        "id": pull["id"],
        "node_id": node_id("PR", pull["id"]),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_url,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": number,
        "state": issue["state"],
        "locked": False,
        "title": issue["title"],
        "user": author.to_json(api),
        "body": issue["body"],
        "labels": [label_json(req, label) for label in issue_labels(store, issue["id"])],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": issue["created_at"],
        "updated_at": issue["updated_at"],
        "closed_at": issue["closed_at"],
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch_json(req, pull["head_ref"], head_sha),
        "base": branch_json(req, pull["base_ref"], base_sha),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": store.author_association(author, repo),
        "auto_merge": None,
        "draft": bool(pull["draft"]),
        **merge_state(req, pull, issue, head_sha, base_sha, detail=detail),
        "comments": issue["comments"],
        "review_comments": store.row(
            "SELECT COUNT(*) AS n FROM review_comments JOIN reviews ON reviews.id = review_comments.review_id "
            "WHERE review_comments.pull_id = ? AND reviews.submitted_at IS NOT NULL",
            pull["id"],
        )["n"],
        "maintainer_can_modify": False,
        **change_counts(req, head_sha, base_sha, detail=detail),
    }


def pull_tips(req: Request, pull: sqlite3.Row, issue: sqlite3.Row) -> tuple[str, str]:
    """(head sha, base sha): the branches' tips while the pull is open, else what they were when it closed."""
    if issue["state"] != "open":
        return pull["head_sha"], pull["base_sha"]
    return branch_tip(req, pull["head_ref"]) or pull["head_sha"], branch_tip(req, pull["base_ref"]) or pull["base_sha"]


def merge_state(req: Request, pull: sqlite3.Row, issue: sqlite3.Row, head: str, base: str, *, detail: bool) -> dict:
    """merged/mergeable/merge_commit_sha as GitHub shows them; mergeability is real git's answer."""
    merge = req.store.row("SELECT * FROM merges WHERE pull_id = ?", pull["id"])
    if merge is not None:
        merger = req.store.user_by_id(merge["user_id"]).to_json(req.base_url)
        done = {"merged_at": merge["merged_at"], "merge_commit_sha": merge["sha"], "merged": True}
        return {**done, "mergeable": None, "rebaseable": None, "mergeable_state": "unknown", "merged_by": merger}
    state = {"merged_at": None, "merge_commit_sha": None, "merged": False, "merged_by": None}
    if not detail or issue["state"] != "open":
        return {**state, "mergeable": None, "rebaseable": None, "mergeable_state": "unknown"}
    mergeable = merging.merged_tree(req.repo.git, base, head) is not None
    if mergeable:
        state["merge_commit_sha"] = merging.trial_merge_commit(req.repo.git, base, head)
    mergeable_state = "draft" if pull["draft"] else ("clean" if mergeable else "dirty")
    return {**state, "mergeable": mergeable, "rebaseable": mergeable, "mergeable_state": mergeable_state}


def change_counts(req: Request, head: str, base: str, *, detail: bool) -> dict:
    if not detail:
        return {"commits": 1, "additions": 0, "deletions": 0, "changed_files": 0}
    additions, deletions, files = merging.diff_stats(req.repo.git, base, head)
    commits = len(merging.commits_between(req.repo.git, base, head))
    return {"commits": commits, "additions": additions, "deletions": deletions, "changed_files": files}


def _branch_name(req: Request, value: object, field_name: str) -> str:
    """`branch` or `owner:branch` (this repository's owner only: forks are not modelled)."""
    if not isinstance(value, str) or not value:
        raise validation_failed("PullRequest", field_name, "missing_field")
    owner, _, branch = value.rpartition(":")
    if owner and owner.lower() != req.repo.owner.lower():
        raise validation_failed("PullRequest", field_name, "invalid")
    return branch


def custom_validation_error(message: str) -> ApiError:
    return ApiError(
        422, "Validation Failed", errors=[{"resource": "PullRequest", "code": "custom", "message": message}]
    )


def pull_already_exists(req: Request, head: str) -> ApiError:
    return custom_validation_error(f"A pull request already exists for {req.repo.owner}:{head}.")


def _open_pull_for_head(req: Request, head: str) -> bool:
    found = req.store.row(
        "SELECT 1 FROM pulls JOIN issues ON issues.id = pulls.issue_id "
        "WHERE issues.repo_id = ? AND issues.state = 'open' AND pulls.head_ref = ?",
        req.repo.id,
        head,
    )
    return found is not None


@route("POST", "/repos/{owner}/{repo}/pulls", permission="write", status=201)
def create_pull(req: Request, owner: str, repo: str) -> dict:
    check_actions_may_create_pulls(req)
    data, store, git = req.json(), req.store, req.repo.git
    title, body = valid_title(data.get("title"), "PullRequest"), valid_body(data.get("body"), "PullRequest")
    head, base = _branch_name(req, data.get("head"), "head"), _branch_name(req, data.get("base"), "base")
    head_sha, base_sha = git.resolve(f"refs/heads/{head}"), git.resolve(f"refs/heads/{base}")
    if head_sha is None:
        raise validation_failed("PullRequest", "head", "invalid")
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    if not git.share_history(head_sha, base_sha):
        raise custom_validation_error(f"The {head} branch has no history in common with {base}")
    if git.is_ancestor(head_sha, base_sha):
        raise custom_validation_error(f"No commits between {base} and {head}")
    with store.tx():
        if _open_pull_for_head(req, head):
            raise pull_already_exists(req, head)
        issue_id = insert_issue(req, title, body, is_pull=True)
        store.db.execute(
            "INSERT INTO pulls (issue_id, head_ref, head_sha, base_ref, base_sha, draft) VALUES (?, ?, ?, ?, ?, ?)",
            (issue_id, head, head_sha, base, base_sha, int(bool(data.get("draft")))),
        )
        created = pull_json(req, store.row("SELECT * FROM issues WHERE id = ?", issue_id))
        webhooks.emit(req, "pull_request", {"action": "opened", "number": created["number"], "pull_request": created})
        return created


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(req: Request, owner: str, repo: str) -> Response:
    sql = ["SELECT issues.* FROM issues JOIN pulls ON pulls.issue_id = issues.id WHERE issues.repo_id = ?"]
    params: list = [req.repo.id]
    state = req.arg("state", "open")
    if state not in ("open", "closed", "all"):
        raise validation_failed("PullRequest", "state", "invalid")
    if state != "all":
        sql.append("AND issues.state = ?")
        params.append(state)
    if ":" in (req.arg("head") or ""):  # GitHub ignores a head without its `user:` (not a filter then)
        head_owner, _, head = req.arg("head").rpartition(":")
        # GitHub answers an empty list (not an error) for a head in another owner's fork.
        sql.append("AND pulls.head_ref = ? AND ? = ?")
        params += [head, head_owner.lower(), req.repo.owner.lower()]
    if req.arg("base"):
        sql.append("AND pulls.base_ref = ?")
        params.append(req.arg("base"))
    direction = req.arg("direction", "desc")
    if direction not in ("asc", "desc"):
        raise validation_failed("PullRequest", "direction", "invalid")
    sql.append(f"ORDER BY issues.number {direction}")
    pulls = req.store.rows(" ".join(sql), *params)
    return paginate(req, pulls, lambda issue: pull_json(req, issue))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(req: Request, owner: str, repo: str, pull_number: str) -> dict:
    return pull_json(req, issue_row(req.store, req.repo, pull_number), detail=True)


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", permission="write")
def update_pull(req: Request, owner: str, repo: str, pull_number: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        issue = issue_row(store, req.repo, pull_number)
        pull, before = pull_row(req, issue), pull_json(req, issue)
        changes = state_change(req, issue, {"state": data["state"]} if "state" in data else {})
        changes.pop("state_reason", None)  # pull requests have no state reason
        if changes.get("state") == "open":
            _check_reopen(req, pull)
        if "title" in data:
            changes["title"] = valid_title(data["title"], "PullRequest")
        if "body" in data:
            changes["body"] = data["body"]
        if changes.get("state") == "closed":  # a closed pull keeps the tips it had
            store.db.execute(
                "UPDATE pulls SET head_sha = ?, base_sha = ? WHERE id = ?",
                (before["head"]["sha"], before["base"]["sha"], pull["id"]),
            )
        update_columns(store, issue["id"], changes)
        issue_events.columns_changed(store, issue, req.user.id, changes)
        if "base" in data:
            _change_base(req, pull, issue, data["base"])
        touch(store, issue["id"])
        return webhooks.changed(req, before, pull_json(req, issue_row(store, req.repo, pull_number)))


def _check_reopen(req: Request, pull: sqlite3.Row) -> None:
    """GitHub reopens a pull only if it was not merged, its head still exists and no other pull is open for it."""
    merged = req.store.row("SELECT 1 FROM merges WHERE pull_id = ?", pull["id"])
    if merged or branch_tip(req, pull["head_ref"]) is None:
        raise validation_failed("PullRequest", "state", "invalid")
    if _open_pull_for_head(req, pull["head_ref"]):
        raise pull_already_exists(req, pull["head_ref"])


def _change_base(req: Request, pull: sqlite3.Row, issue: sqlite3.Row, value: object) -> None:
    if issue["state"] != "open":
        raise custom_validation_error("Cannot change the base branch of a closed pull request.")
    base = _branch_name(req, value, "base")
    base_sha = req.repo.git.resolve(f"refs/heads/{base}")
    if base_sha is None:
        raise validation_failed("PullRequest", "base", "invalid")
    req.store.db.execute("UPDATE pulls SET base_ref = ?, base_sha = ? WHERE id = ?", (base, base_sha, pull["id"]))
