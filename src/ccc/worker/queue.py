"""Finding work: one listing per served label, then state, trust and dependency checks, in priority order."""

from __future__ import annotations

import logging

from ccc.client import Issue, RepoClient
from ccc.protocol.lifecycle import task_state
from ccc.protocol.markers import read_task_marker
from ccc.protocol.states import Labels, TaskState

log = logging.getLogger(__name__)

WRITERS = frozenset({"write", "maintain", "admin"})


class Trust:
    """Whose issues a worker acts on: listed logins, else people with write access (one lookup per author)."""

    def __init__(self, client: RepoClient, trusted_authors: tuple[str, ...]):
        self.client = client
        self.listed = frozenset(trusted_authors)
        self._roles: dict[str, str] = {}

    def allows(self, issue: Issue) -> bool:
        if issue.author in self.listed:
            return True
        if issue.author_type == "Bot":
            return False  # bots only by exact login: any app can be named "something[bot]"
        if issue.author not in self._roles:
            self._roles[issue.author] = self.client.permission(issue.author)
        return self._roles[issue.author] in WRITERS


class WorkQueue:
    """Open issues for this worker, ready ones first in the order to take them; remembers ETags between polls."""

    def __init__(self, client: RepoClient, *, served: tuple[str, ...], labels: Labels, trust: Trust):
        self.client = client
        self.served = served
        self.labels = labels
        self.trust = trust
        self._pages: dict[str, tuple[str | None, tuple[Issue, ...]]] = {}
        self._warned: set[int] = set()

    def listing(self) -> list[Issue]:
        """Open issues carrying any served label (conditional requests: an unchanged label costs nothing)."""
        seen: dict[int, Issue] = {}
        for label in self.served:
            etag, cached = self._pages.get(label, (None, ()))
            page = self.client.poll_issues(labels=[label], etag=etag)
            issues = cached if page.not_modified else page.issues
            self._pages[label] = (page.etag, issues)
            seen.update((issue.number, issue) for issue in issues if not issue.is_pull_request)
        return list(seen.values())

    def split(self, issues: list[Issue]) -> tuple[list[Issue], list[Issue]]:
        """(ready issues to try, in order; issues still labelled in-progress, whose lease may have run out).

        Held issues include ones also labelled completed or failed: a worker that stopped between
        its final claim commit and its last label change leaves them so.
        """
        ready, held = [], []
        for issue in issues:
            if task_state(issue, self.labels) is TaskState.READY:
                if self._trusted(issue):
                    ready.append(issue)
            elif self.labels.in_progress in issue.labels and self._trusted(issue):
                held.append(issue)
        ready.sort(key=self._order)
        held.sort(key=self._order)
        return ready, held

    def dependencies_done(self, issue: Issue, cache: dict[int, bool]) -> bool:
        """True when every dependency in the manager's (trailing, hidden) marker is delivered (PR open or merged)."""
        marker = read_task_marker(issue.body)
        for dep in marker.deps if marker else ():
            if dep not in cache:
                other = self.client.get_issue(dep)
                cache[dep] = task_state(other, self.labels).is_delivered
            if not cache[dep]:
                log.info("#%d waits for #%d to be delivered", issue.number, dep)
                return False
        return True

    def _order(self, issue: Issue) -> tuple:
        return (self.labels.priority_of(issue.labels).rank, issue.created_at, issue.number)

    def _trusted(self, issue: Issue) -> bool:
        if self.trust.allows(issue):
            return True
        if issue.number not in self._warned:
            self._warned.add(issue.number)
            log.warning(
                "#%d: author %s is not trusted (needs write access or --trusted-authors): skipped",
                issue.number,
                issue.author,
            )
        return False
