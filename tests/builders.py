"""Keyword-only builders of client models, for tests of pure logic that need no server."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from ccc.client import Issue

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_issue(
    *,
    number: int = 1,
    title: str = "t",
    body: str = "",
    state: str = "open",
    state_reason: str | None = None,
    labels: Iterable[str] = (),
    assignees: Iterable[str] = (),
    author: str = "m",
    is_pull_request: bool = False,
) -> Issue:
    return Issue(
        number=number,
        id=1000 + number,
        node_id="",
        title=title,
        body=body,
        state=state,
        state_reason=state_reason,
        labels=tuple(labels),
        assignees=tuple(assignees),
        author=author,
        author_type="User",
        author_association="OWNER",
        created_at=NOW,
        updated_at=NOW,
        closed_at=None,
        html_url="",
        is_pull_request=is_pull_request,
        comments=0,
    )
