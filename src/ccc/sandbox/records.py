"""Records the store hands out (users, repositories) and GitHub's formats for times, ids, tokens and URLs."""

from __future__ import annotations

import base64
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ccc.sandbox.routing import PERMISSIONS


def now_iso(at: float | None = None) -> str:
    """GitHub's timestamp format: 2011-01-26T19:01:12Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))


def parse_timestamp(value: str) -> str | None:
    """An ISO 8601 time from a query (`Z` or an offset) in our stored form; None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return now_iso(parsed.timestamp())


def node_id(prefix: str, number: int) -> str:
    return prefix + "_" + base64.b64encode(f"sandbox:{prefix}:{number}".encode()).decode().rstrip("=")


def new_token(kind: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return kind + "_" + "".join(secrets.choice(alphabet) for _ in range(36))


def web_root(api_url: str) -> str:
    """html_url root: the API root without its /api/v3 suffix."""
    return api_url.removesuffix("/api/v3")


@dataclass(frozen=True)
class User:
    id: int
    login: str
    type: str  # User, Bot or Organization
    permission: str  # the token's permission on every repository (its own ones: admin)
    token: str | None

    def to_json(self, api_url: str) -> dict:
        """GitHub's simple-user object."""
        api, login = f"{api_url}/users/{self.login}", self.login
        html = (
            f"{web_root(api_url)}/apps/{login.removesuffix('[bot]')}"
            if self.type == "Bot"
            else (f"{web_root(api_url)}/{login}")
        )
        return {
            "login": login,
            "id": self.id,
            "node_id": node_id("U", self.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": self.type,
            "user_view_type": "public",
            "site_admin": False,
        }


@dataclass(frozen=True)
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    created_at: str
    git_path: Path

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def git(self):
        from ccc.sandbox.gitrepo import GitRepo  # the git layer is imported only where it is used

        return GitRepo(self.git_path)

    def to_json(self, api_url: str, owner: User, permission: str | None = None) -> dict:
        """GitHub's full-repository object; `permissions` is shown for the token's own level."""
        api, html = f"{api_url}/repos/{self.full_name}", f"{web_root(api_url)}/{self.full_name}"
        data = {
            "id": self.id,
            "node_id": node_id("R", self.id),
            "name": self.name,
            "full_name": self.full_name,
            "owner": owner.to_json(api_url),
            "private": True,
            "html_url": html,
            "description": None,
            "fork": False,
            "url": api,
            "homepage": None,
            "language": None,
            "clone_url": f"{html}.git",
            "git_url": f"{html.replace('http', 'git', 1)}.git",
            "ssh_url": f"git@{html.split('//', 1)[1].split('/', 1)[0]}:{self.full_name}.git",
            "svn_url": html,
            "mirror_url": None,
            "size": 0,
            "default_branch": self.default_branch,
            "forks_count": 0,
            "forks": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "open_issues_count": 0,
            "open_issues": 0,
            "subscribers_count": 0,
            "network_count": 0,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private",
            "is_template": False,
            "topics": [],
            "license": None,
            "allow_forking": False,
            "web_commit_signoff_required": False,
            "pushed_at": self.created_at,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }
        data.update(_repo_urls(api))
        if permission is not None:
            data["permissions"] = permission_flags(permission)
        return data


def permission_flags(level: str) -> dict[str, bool]:
    """GitHub's `permissions` object: which of the classic roles a permission level includes."""
    rank = PERMISSIONS.index(level)
    flags = (("admin", "admin"), ("maintain", "maintain"), ("push", "write"), ("triage", "triage"), ("pull", "read"))
    return {name: rank >= PERMISSIONS.index(needed) for name, needed in flags}


def _repo_urls(api: str) -> dict:
    templated = {
        "archive_url": "/{archive_format}{/ref}",
        "assignees_url": "/assignees{/user}",
        "blobs_url": "/git/blobs{/sha}",
        "branches_url": "/branches{/branch}",
        "collaborators_url": "/collaborators{/collaborator}",
        "comments_url": "/comments{/number}",
        "commits_url": "/commits{/sha}",
        "compare_url": "/compare/{base}...{head}",
        "contents_url": "/contents/{+path}",
        "contributors_url": "/contributors",
        "deployments_url": "/deployments",
        "downloads_url": "/downloads",
        "events_url": "/events",
        "forks_url": "/forks",
        "git_commits_url": "/git/commits{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "issue_comment_url": "/issues/comments{/number}",
        "issue_events_url": "/issues/events{/number}",
        "issues_url": "/issues{/number}",
        "keys_url": "/keys{/key_id}",
        "labels_url": "/labels{/name}",
        "languages_url": "/languages",
        "merges_url": "/merges",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "pulls_url": "/pulls{/number}",
        "releases_url": "/releases{/id}",
        "stargazers_url": "/stargazers",
        "statuses_url": "/statuses/{sha}",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "tags_url": "/tags",
        "teams_url": "/teams",
        "trees_url": "/git/trees{/sha}",
        "hooks_url": "/hooks",
    }
    return {key: api + suffix for key, suffix in templated.items()}
