"""Where GitHub is and who we are there: repository, API URL, git URL and token, resolved once.

Every command (manager, worker, status, doctor) resolves its connection here, from its flags and one
environment mapping, so `GITHUB_*` and `CCC_*` variables mean the same thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ccc.errors import InputError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"
_REPO = re.compile(r"[\w.-]+/[\w.-]+")


@dataclass(frozen=True)
class Connection:
    repo: str  # OWNER/NAME
    api_url: str  # REST root, e.g. https://api.github.com or https://HOST/api/v3
    git_url: str  # git server root, e.g. https://github.com or https://HOST
    token: str = field(repr=False)
    token_env: str = DEFAULT_TOKEN_ENV  # where the token came from, for messages

    @classmethod
    def resolve(
        cls,
        env: Mapping[str, str],
        *,
        repo: str | None = None,
        api_url: str | None = None,
        git_url: str | None = None,
        token_env: str = DEFAULT_TOKEN_ENV,
    ) -> Connection:
        """Flags win over the environment; the git server follows the API URL unless given.

        GITHUB_SERVER_URL is the runner's git server and is used only with the runner's GITHUB_API_URL:
        an explicit --api-url elsewhere (GitHub Enterprise, the sandbox) brings its own git server.
        """
        token = env.get(token_env, "")
        if not token:
            raise InputError(f"no GitHub token: set {token_env} (or point --token-env at the variable holding it)")
        repo = repo or env.get("GITHUB_REPOSITORY", "")
        if not _REPO.fullmatch(repo):
            raise InputError(f"the repository must be OWNER/NAME, got {repo!r}: pass --repo or set GITHUB_REPOSITORY")
        runner_server = env.get("GITHUB_SERVER_URL") if not api_url else None
        api_url = (api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        git_url = (git_url or runner_server or git_server_for(api_url)).rstrip("/")
        return cls(repo=repo, api_url=api_url, git_url=git_url, token=token, token_env=token_env)

    @property
    def remote_url(self) -> str:
        return f"{self.git_url}/{self.repo}.git"

    def client(self, **options):
        """A `RepoClient` on this repository (options: dry_run, pacing, counter…)."""
        from ccc.client import RepoClient  # PyGithub is imported only by commands that talk to GitHub

        return RepoClient(token=self.token, repo=self.repo, api_url=self.api_url, **options)


def git_server_for(api_url: str) -> str:
    """The git server behind a REST root: api.github.com → github.com, https://HOST/api/v3 → https://HOST."""
    parts = urlsplit(api_url.rstrip("/"))
    if parts.netloc == "api.github.com":
        return "https://github.com"
    path = parts.path.removesuffix("/api/v3")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
