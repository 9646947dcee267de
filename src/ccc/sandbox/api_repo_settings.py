"""Repository settings: what PATCH /repos/{o}/{r} changes (merge methods, branch deletion; the route
lives with the repository in api_users) and GET/PUT .../actions/permissions/workflow (what the
Actions token may do)."""

from __future__ import annotations

from ccc.sandbox.records import Repo
from ccc.sandbox.routing import ApiError, Request, Response, route, validation_failed
from ccc.sandbox.store import Store

# PATCH /repos/{o}/{r} fields the sandbox keeps, with GitHub's defaults for a new repository.
REPO_DEFAULTS = {
    "delete_branch_on_merge": False,
    "allow_merge_commit": True,
    "allow_squash_merge": True,
    "allow_rebase_merge": True,
}
WORKFLOW_PERMISSIONS = ("read", "write")
# Rendered when the Actions token opens or approves a pull request while the repository forbids it.
ACTIONS_MAY_NOT_CREATE_PULLS = "GitHub Actions is not permitted to create or approve pull requests."


def repo_settings(store: Store, repo: Repo) -> dict:
    """The repository's settings: its saved ones over the defaults (the profile decides the Actions one)."""
    defaults = {
        **REPO_DEFAULTS,
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": store.actions_create_pulls_default,
    }
    return {**defaults, **store.get_json(f"settings:{repo.id}", {})}


def save_settings(store: Store, repo: Repo, changes: dict) -> None:
    with store.tx():
        store.put_json(f"settings:{repo.id}", {**store.get_json(f"settings:{repo.id}", {}), **changes})


def check_actions_may_create_pulls(req: Request) -> None:
    """403 when the Actions token (a Bot) creates or approves a pull request and the setting is off."""
    if req.user.type == "Bot" and not repo_settings(req.store, req.repo)["can_approve_pull_request_reviews"]:
        raise ApiError(403, ACTIONS_MAY_NOT_CREATE_PULLS)


def booleans(data: dict, names) -> dict:
    changes = {name: data[name] for name in names if name in data}
    for name, value in changes.items():
        if not isinstance(value, bool):
            raise ApiError(422, f"Invalid request.\n\nFor 'properties/{name}', {value!r} is not a boolean.")
    return changes


@route("GET", "/repos/{owner}/{repo}/actions/permissions/workflow", permission="admin")
def get_workflow_permissions(req: Request, owner: str, repo: str) -> dict:
    settings = repo_settings(req.store, req.repo)
    return {name: settings[name] for name in ("default_workflow_permissions", "can_approve_pull_request_reviews")}


@route("PUT", "/repos/{owner}/{repo}/actions/permissions/workflow", permission="admin", status=204)
def set_workflow_permissions(req: Request, owner: str, repo: str) -> Response:
    data = req.json()
    changes = booleans(data, ("can_approve_pull_request_reviews",))
    if "default_workflow_permissions" in data:
        if data["default_workflow_permissions"] not in WORKFLOW_PERMISSIONS:
            raise validation_failed("Repository", "default_workflow_permissions", "invalid")
        changes["default_workflow_permissions"] = data["default_workflow_permissions"]
    save_settings(req.store, req.repo, changes)
    return Response(204)
