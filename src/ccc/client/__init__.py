"""The GitHub client layer: the only code that imports PyGithub.

`connect()` builds a `RepoClient` from settings or the Actions environment (GITHUB_API_URL,
GITHUB_TOKEN, GITHUB_REPOSITORY).
"""

from __future__ import annotations

import os

from ccc.client.budget import Budget
from ccc.client.listing import LabelView
from ccc.client.models import Comment, GitCommit, Issue, Label, PullRequest, Ref, RefWrite
from ccc.client.policy import RetryPolicy
from ccc.client.repo import DEFAULT_API_URL, RepoClient
from ccc.client.transport import RateLimit, RequestCounter

__all__ = [
    "Budget",
    "Comment",
    "GitCommit",
    "Issue",
    "Label",
    "LabelView",
    "PullRequest",
    "Ref",
    "RateLimit",
    "RefWrite",
    "RepoClient",
    "RequestCounter",
    "RetryPolicy",
    "connect",
]


def connect(
    *,
    repo: str | None = None,
    api_url: str | None = None,
    token: str | None = None,
    token_env: str = "GITHUB_TOKEN",
    **kwargs,
) -> RepoClient:
    """A client for one repository; explicit values win over the environment."""
    return RepoClient(
        token=token or os.environ.get(token_env, ""),
        repo=repo or os.environ.get("GITHUB_REPOSITORY", ""),
        api_url=api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        **kwargs,
    )
