"""Finding work: one listing per served label, then state, trust and dependency checks, in priority order.

Workers sharing a label would all want the same oldest task and collide on every claim (a convoy). A
worker with a `spread` identity orders tasks of equal priority by rendezvous hashing of its identity and
the issue number instead: each worker has its own order, so first choices differ, and the rest follow.
"""

from __future__ import annotations

import hashlib
import logging

from ccc.client import Issue, LabelView, RepoClient
from ccc.protocol.markers import read_task_marker
from ccc.protocol.states import Labels, TaskState
from ccc.worker.listing_cache import ListingCache

log = logging.getLogger(__name__)

WRITERS = frozenset({"write", "maintain", "admin"})


def rendezvous(identity: str | None, number: int) -> int:
    """This worker's rank for an issue: a hash, so every worker ranks the same issues differently (0: none)."""
    if identity is None:
        return 0
    return int.from_bytes(hashlib.sha256(f"{identity}#{number}".encode()).digest()[:8], "big")


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
    """Open issues for this worker, ready ones first in the order to take them; keeps each label's view
    between polls (and, with a cache, between runs) so an unchanged label costs nothing."""

    def __init__(
        self,
        client: RepoClient,
        *,
        served: tuple[str, ...],
        labels: Labels,
        trust: Trust,
        cache: ListingCache | None = None,
        spread: str | None = None,
    ):
        self.client = client
        self.served = served
        self.labels = labels
        self.trust = trust
        self.cache = cache
        self.spread = spread  # this worker's identity among those serving its labels; None: oldest first
        self._views: dict[str, LabelView | None] = {}
        self._warned: set[int] = set()

    def listing(self) -> list[Issue]:
        """Open issues carrying any served label (conditional requests: an unchanged label costs nothing)."""
        seen: dict[int, Issue] = {}
        for label in self.served:
            known = self._views[label] if label in self._views else self.cache and self.cache.load(label)
            view = self.client.poll_label(label, known)
            if self.cache and view is not known:
                self.cache.save(view)
            self._views[label] = view
            seen.update((issue.number, issue) for issue in view.issues())
        return list(seen.values())

    def split(self, issues: list[Issue]) -> tuple[list[Issue], list[Issue]]:
        """(ready issues to try, in order; issues still labelled in-progress, whose lease may have run out).

        Held issues include ones also labelled completed or failed: a worker that stopped between
        its final claim commit and its last label change leaves them so.
        """
        ready, held = [], []
        for issue in issues:
            if self.labels.state_of(issue.labels, issue.state) is TaskState.READY:
                if self._trusted(issue):
                    ready.append(issue)
            elif self.labels.in_progress in issue.labels and self._trusted(issue):
                held.append(issue)
        ready.sort(key=self._order)
        held.sort(key=self._order)
        return ready, held

    def dependencies_done(self, issue: Issue, cache: dict[int, bool]) -> bool:
        """True when every dependency in the manager's (trailing, hidden) marker is completed."""
        marker = read_task_marker(issue.body)
        for dep in marker.deps if marker else ():
            if dep not in cache:
                other = self.client.get_issue(dep)
                cache[dep] = self.labels.state_of(other.labels, other.state) is TaskState.COMPLETED
            if not cache[dep]:
                log.info("#%d waits for #%d to complete", issue.number, dep)
                return False
        return True

    def _order(self, issue: Issue) -> tuple:
        rank = self.labels.priority_of(issue.labels).rank
        return (rank, rendezvous(self.spread, issue.number), issue.created_at, issue.number)

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
