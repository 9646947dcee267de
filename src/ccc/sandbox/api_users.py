"""Users, repositories, collaborator permissions and the rate-limit overview."""

from __future__ import annotations

from ccc.sandbox.api_repo_settings import REPO_DEFAULTS, booleans, repo_settings, save_settings
from ccc.sandbox.records import permission_flags
from ccc.sandbox.routing import ApiError, Request, route, validation_failed

MERGE_METHODS = ("allow_merge_commit", "allow_squash_merge", "allow_rebase_merge")

# The legacy `permission` field of the collaborator-permission answer knows only these four levels.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


@route("GET", "/user", resource="core")
def get_authenticated_user(req: Request) -> dict:
    if req.user.type == "Bot":
        # Installation tokens have no user behind them; GitHub refuses this endpoint for them.
        raise ApiError(403, "Resource not accessible by integration")
    data = req.user.to_json(req.base_url)
    data.update(
        {
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "notification_email": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "plan": {"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
        }
    )
    return data


@route("GET", "/repos/{owner}/{repo}")
def get_repository(req: Request, owner: str, repo: str) -> dict:
    """The full repository, with the merge settings PATCH /repos/{o}/{r} changes."""
    store = req.store
    data = req.repo.to_json(req.base_url, store.user_by_login(req.repo.owner), store.permission(req.user, req.repo))
    settings = repo_settings(store, req.repo)
    data.update({name: settings[name] for name in REPO_DEFAULTS})
    return data


@route("PATCH", "/repos/{owner}/{repo}", permission="admin")
def update_repository(req: Request, owner: str, repo: str) -> dict:
    """The settings the sandbox keeps (merge methods, delete_branch_on_merge); other fields are ignored."""
    changes = booleans(req.json(), REPO_DEFAULTS)
    merged = {**repo_settings(req.store, req.repo), **changes}
    if not any(merged[name] for name in MERGE_METHODS):
        raise validation_failed("Repository", "merge_commit_allowed", "invalid")  # one method must stay on
    save_settings(req.store, req.repo, changes)
    return get_repository(req, owner, repo)


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_collaborator_permission(req: Request, owner: str, repo: str, username: str) -> dict:
    store = req.store
    user = store.user_by_login(username)
    if user is None or user.type == "Organization":
        raise ApiError(404, "Not Found")
    level = store.permission(user, req.repo)
    collaborator = user.to_json(req.base_url)
    collaborator["permissions"] = permission_flags(level)
    collaborator["role_name"] = level
    return {"permission": LEGACY_PERMISSION[level], "role_name": level, "user": collaborator}


@route("GET", "/rate_limit")
def get_rate_limit(req: Request) -> dict:
    core = req.context["rate_limit"]  # filled by the server for this token, before counting anything
    idle = {"limit": core["limit"], "used": 0, "remaining": core["limit"], "reset": core["reset"]}
    resources = {
        "core": core,
        "search": dict(idle, limit=30, remaining=30),
        "graphql": idle,
        "integration_manifest": idle,
        "code_search": dict(idle, limit=10, remaining=10),
    }
    return {"resources": resources, "rate": core}
