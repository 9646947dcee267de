"""Plain, immutable views of GitHub objects, built from response JSON (never lazily completed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Issue:
    number: int
    id: int
    node_id: str
    title: str
    body: str
    state: str
    state_reason: str | None
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    author: str
    author_type: str
    author_association: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    html_url: str
    is_pull_request: bool
    comments: int
    sub_issues_total: int = 0  # linked sub-issues, from `sub_issues_summary` (no extra request)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Issue:
        user = data.get("user") or {}
        return cls(
            number=data["number"],
            id=data["id"],
            node_id=data.get("node_id", ""),
            title=data.get("title") or "",
            body=data.get("body") or "",
            state=data["state"],
            state_reason=data.get("state_reason"),
            labels=tuple(label["name"] for label in data.get("labels") or ()),
            assignees=tuple(a["login"] for a in data.get("assignees") or ()),
            author=user.get("login", ""),
            author_type=user.get("type", "User"),
            author_association=data.get("author_association", "NONE"),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            closed_at=parse_time(data.get("closed_at")),
            html_url=data.get("html_url", ""),
            is_pull_request="pull_request" in data,
            comments=data.get("comments", 0),
            sub_issues_total=(data.get("sub_issues_summary") or {}).get("total", 0),
        )

    def has_label(self, name: str) -> bool:
        return name in self.labels


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime
    html_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comment:
        return cls(
            id=data["id"],
            body=data.get("body") or "",
            author=(data.get("user") or {}).get("login", ""),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            html_url=data.get("html_url", ""),
        )


@dataclass(frozen=True)
class PullRequest:
    number: int
    html_url: str
    state: str
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=data["number"],
            html_url=data.get("html_url", ""),
            state=data["state"],
            head_ref=data["head"]["ref"],
            head_sha=data["head"]["sha"],
            base_ref=data["base"]["ref"],
            draft=bool(data.get("draft")),
        )


class RefWrite(str, Enum):
    """How a compare-and-set write of a ref ended, as GitHub's primary answered it (never a replica's read)."""

    DONE = "done"  # the ref points at the sha we wrote
    TAKEN = "taken"  # refused for good: the ref exists and points elsewhere (not a fast forward)
    ABSENT = "absent"  # refused: there is no such ref
    UNKNOWN = "unknown"  # GitHub kept failing: the ref may or may not have moved


@dataclass(frozen=True)
class Ref:
    name: str  # full name, refs/...
    sha: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ref:
        return cls(name=data["ref"], sha=data["object"]["sha"])


@dataclass(frozen=True)
class GitCommit:
    sha: str
    message: str
    parents: tuple[str, ...]
    tree: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitCommit:
        return cls(
            sha=data["sha"],
            message=data.get("message", ""),
            parents=tuple(p["sha"] for p in data.get("parents") or ()),
            tree=data["tree"]["sha"],
        )


@dataclass(frozen=True)
class Label:
    name: str
    color: str
    description: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Label:
        return cls(name=data["name"], color=data.get("color", ""), description=data.get("description") or "")


@dataclass(frozen=True)
class RepositoryAccess:
    """A repository as this token sees it: its role there and, for classic tokens, their OAuth scopes."""

    full_name: str
    default_branch: str
    private: bool
    role: dict[str, bool] | None  # admin/maintain/push/triage/pull; None when GitHub does not say (app tokens)
    scopes: tuple[str, ...] | None  # X-OAuth-Scopes: classic tokens only, None for fine-grained and app tokens

    @classmethod
    def from_answer(cls, headers: dict[str, str], data: dict[str, Any]) -> RepositoryAccess:
        lowered = {name.lower(): value for name, value in headers.items()}
        scopes = lowered.get("x-oauth-scopes")
        return cls(
            full_name=data["full_name"],
            default_branch=data.get("default_branch") or "main",
            private=bool(data.get("private")),
            role=data.get("permissions"),
            scopes=None if scopes is None else tuple(s.strip() for s in scopes.split(",") if s.strip()),
        )


@dataclass(frozen=True)
class Runner:
    """A self-hosted runner registered on the repository."""

    name: str
    online: bool
    busy: bool
    labels: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Runner:
        return cls(
            name=data["name"],
            online=data.get("status") == "online",
            busy=bool(data.get("busy")),
            labels=tuple(label["name"] for label in data.get("labels") or ()),
        )
