"""Finding work: one listing per served label, then state, trust and dependency checks, in priority order.

Workers sharing a label would all want the same oldest task and collide on every claim (a convoy). A
worker with a `spread` identity orders tasks of equal priority by rendezvous hashing of its identity and
the issue number instead: each worker has its own order, so first choices differ, and the rest follow.
"""

from __future__ import annotations

import hashlib
import logging

from ccc.client import Issue, LabelView, RepoClient
from ccc.errors import NotFoundError
from ccc.protocol.lifecycle import task_state
from ccc.protocol.markers import TaskMarker, comment_marker, read_task_marker
from ccc.protocol.states import Labels, TaskState
from ccc.render import render
from ccc.worker.listing_cache import ListingCache

log = logging.getLogger(__name__)

WRITERS = frozenset({"write", "maintain", "admin"})


def manager_marker(issue: Issue, manager: str) -> TaskMarker | None:
    """The manager's task marker; a marker in anyone else's issue counts for nothing."""
    return read_task_marker(issue.body) if issue.author == manager else None


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
        return self.allows_login(issue.author, issue.author_type)

    def allows_login(self, login: str, user_type: str = "User") -> bool:
        if login in self.listed:
            return True
        if user_type == "Bot":
            return False  # bots only by exact login: any app can be named "something[bot]"
        if login not in self._roles:
            self._roles[login] = self.client.permission(login)
        return self._roles[login] in WRITERS


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
        manager: str = "github-actions[bot]",  # the Actions token's bot, the manager's usual identity
        cache: ListingCache | None = None,
        spread: str | None = None,
    ):
        self.client = client
        self.served = served
        self.labels = labels
        self.trust = trust
        self.manager = manager
        self.cache = cache
        self.spread = spread  # this worker's identity among those serving its labels; None: oldest first
        self._views: dict[str, LabelView | None] = {}
        self._warned: set[int] = set()
        self._missing: set[tuple[int, int]] = set()  # (issue, dependency) already reported
        self._routed: dict[tuple[int, tuple[str, ...]], bool] = {}  # (issue, its labels) → routed by a writer

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
            marker = self.task_marker(issue)
            if marker and marker.retired:
                self._warn_once(issue, "a retired task (the manager closed it)")
                continue
            if task_state(issue, self.labels) is TaskState.READY:
                if self._trusted(issue):
                    ready.append(issue)
            elif self.labels.in_progress in issue.labels and self._trusted(issue):
                held.append(issue)
        ready.sort(key=self._order)
        held.sort(key=self._order)
        return ready, held

    def withdrawn(self, number: int) -> str | None:
        """Why a task we hold is no longer wanted (closed, retired, its label removed), or None (1 request)."""
        issue = self.client.get_issue(number)
        if issue.state == "closed":
            return f"#{number} was closed"
        marker = self.task_marker(issue)
        if marker and marker.retired:
            return f"#{number} was retired"
        if not any(label in issue.labels for label in self.served):
            return f"#{number} no longer carries the label {' or '.join(self.served)}"
        return None

    def task_marker(self, issue: Issue) -> TaskMarker | None:
        return manager_marker(issue, self.manager)

    def dependencies_done(self, issue: Issue, cache: dict[int, bool]) -> bool:
        """True when every dependency in the manager's (trailing, hidden) marker is delivered (PR open or merged).

        A dependency that cannot be read (deleted: 404/410) blocks only this issue, with one comment.
        """
        marker = self.task_marker(issue)
        for dep in marker.deps if marker else ():
            if dep not in cache:
                try:
                    other = self.client.get_issue(dep)
                except NotFoundError:
                    self._warn_missing_dependency(issue, dep)
                    return False
                cache[dep] = task_state(other, self.labels).is_delivered
            if not cache[dep]:
                log.info("#%d waits for #%d to be delivered", issue.number, dep)
                return False
        return True

    def _warn_missing_dependency(self, issue: Issue, dep: int) -> None:
        """Say once on the issue (its comments are checked, so once across runs too) that a dependency is gone."""
        log.warning("#%d: dependency #%d cannot be read (deleted?): skipped", issue.number, dep)
        if (issue.number, dep) in self._missing:
            return
        self._missing.add((issue.number, dep))
        marker = comment_marker("missing-dependency", issue.number, f"dep-{dep}")
        if any(marker in comment.body for comment in self.client.list_comments(issue.number)):
            return
        body = render("worker_missing_dependency_comment.md.j2", marker=marker, dep=dep, issue=issue.number)
        self.client.create_comment(issue.number, body, marker=marker)

    def _order(self, issue: Issue) -> tuple:
        rank = self.labels.priority_of(issue.labels).rank
        return (rank, rendezvous(self.spread, issue.number), issue.created_at, issue.number)

    def _trusted(self, issue: Issue) -> bool:
        if not self.trust.allows(issue):
            self._warn_once(issue, f"author {issue.author} is not trusted (needs write access or --trusted-authors)")
            return False
        if not self._routed_by_a_writer(issue):
            self._warn_once(issue, "the worker label was applied by someone without write access")
            return False
        return True

    def _routed_by_a_writer(self, issue: Issue) -> bool:
        """The manager's issues are routed by the manager; others count only when a trusted person applied
        a served label (its latest `labeled` event), or a triager could hand a worker any issue.
        One events request per ad hoc issue and label set."""
        if issue.author == self.manager:
            return True
        key = (issue.number, issue.labels)
        if key not in self._routed:
            actors = [
                self.client.label_actors(issue.number, label)[-1:] for label in self.served if label in issue.labels
            ]
            self._routed[key] = any(self.trust.allows_login(*actor) for found in actors for actor in found)
        return self._routed[key]

    def _warn_once(self, issue: Issue, why: str) -> None:
        if issue.number not in self._warned:
            self._warned.add(issue.number)
            log.warning("#%d: %s: skipped", issue.number, why)
