"""The task lifecycle: what state a task is in (`task_state`), and one verb per transition (`Lifecycle`).

The only place that derives a task's state and the only place that writes a state transition.
`task_state` reads an issue; `task_states` adds what coordinated parents get from their parts. The
pure rules (`dependency_change`, `parent_change`) say which transition is due, so `plan` can show it
and the writers (sync, summarize, a delivering worker) apply the same one. Each verb writes the claim
log, then the labels (`stage`, added before removed, so a held task never looks free), then its
comment, whose hidden marker makes a re-run find it instead of posting twice; every verb is
idempotent. `renew` writes only the claim log, so the heartbeat calls `ClaimStore.renew` itself.

    ready ──claim──▶ in-progress ──complete──▶ completed (PR open) ──merged──▶ merged (issue closed)
      ▲  ▲               │  release (attempts left) / fail (none left) ──▶ failed
      │  └───────────────┘
    blocked ◀─block/unblock─▶ ready;  any open state ──retire──▶ retired
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from ccc.client import Issue, RepoClient
from ccc.errors import AuthError, CccError, RateLimitError
from ccc.protocol.claims import Claim, ClaimKind, ClaimRecord, ClaimStore
from ccc.protocol.markers import TaskMarker, read_task_marker
from ccc.protocol.states import Labels, TaskState

log = logging.getLogger(__name__)

RETIRING_REASONS = ("not_planned", "duplicate")  # GitHub's close reasons that say the work will not be done


def task_state(issue: Issue, labels: Labels) -> TaskState:
    """The state of one task issue, as manager, worker, status and dashboard all see it.

    Closed as completed is MERGED: GitHub closes an issue so when a PR saying "Closes #N" merges, and a
    person closing it as completed says the same (GitHub's default reason; issues closed before reasons
    existed show none). Closed as not planned or duplicate is RETIRED. Open, the state label
    says; `completed` wins (a worker that stopped before its last label change leaves it beside
    `in-progress`).
    """
    if issue.state == "closed":
        return TaskState.RETIRED if issue.state_reason in RETIRING_REASONS else TaskState.MERGED
    for state in (TaskState.COMPLETED, TaskState.FAILED, TaskState.IN_PROGRESS, TaskState.BLOCKED):
        if labels.state_label(state) in issue.labels:
            return state
    return TaskState.READY


def was_delivered(issue: Issue, labels: Labels) -> bool:
    """Delivered at some point, even if closed since: merged, or still carrying the `completed` label."""
    return task_state(issue, labels).is_delivered or labels.completed in issue.labels


def task_states(issues: Iterable[Issue], labels: Labels) -> dict[int, TaskState]:
    """The state of each task issue by number; a coordinated parent's state follows its parts."""
    issues = list(issues)
    states = {issue.number: task_state(issue, labels) for issue in issues}
    for issue in issues:
        marker = read_task_marker(issue.body)
        if marker and marker.parts and states[issue.number] is not TaskState.MERGED:
            states[issue.number] = parent_state(marker.parts, states) or states[issue.number]
    return states


def parent_state(parts: Collection[int], states: Mapping[int, TaskState]) -> TaskState | None:
    """MERGED when every part is merged, COMPLETED when every part is at least delivered, else None."""
    known = [states.get(n) for n in parts]
    if not known or None in known:
        return None
    if all(state is TaskState.MERGED for state in known):
        return TaskState.MERGED
    if all(state.is_delivered for state in known):
        return TaskState.COMPLETED
    return None


def waiting_on(dep_numbers: Sequence[int], states: Mapping[int, TaskState]) -> list[int]:
    """The dependencies not delivered yet (a dependency without a known state is not)."""
    return [n for n in dep_numbers if not (n in states and states[n].is_delivered)]


# -- which transition is due (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """A due transition as label edits; a parent whose parts are merged is also closed as completed."""

    to: TaskState
    add: tuple[str, ...]
    remove: tuple[str, ...]
    close: bool
    reason: str


def dependency_change(issue: Issue, waiting: Sequence[str], labels: Labels) -> StateChange | None:
    """`block` a ready task that waits for something, `unblock` a blocked one that no longer does.

    `waiting` names what it waits for ("#3", or a task id without an issue yet). Tasks a worker
    holds or finished are left alone: their dependencies were met when they were taken.
    """
    current = task_state(issue, labels)
    if current not in (TaskState.READY, TaskState.BLOCKED):
        return None
    target = TaskState.BLOCKED if waiting else TaskState.READY
    if target is current:
        return None
    add, remove = labels.transition(issue.labels, target)
    reason = f"blocked: waits for {', '.join(waiting)}" if waiting else "unblocked: its dependencies are delivered"
    return StateChange(target, tuple(add), tuple(remove), close=False, reason=reason)


def parent_change(
    issue: Issue, parts: Collection[int], states: Mapping[int, TaskState], labels: Labels
) -> StateChange | None:
    """`merged` for a coordinated task's tracking issue: labelled completed and closed once every part merged."""
    if parent_state(parts, states) is not TaskState.MERGED or task_state(issue, labels) is TaskState.MERGED:
        return None
    add, remove = labels.transition(issue.labels, TaskState.COMPLETED)
    return StateChange(
        TaskState.MERGED, tuple(add), tuple(remove), close=True, reason="merged: all its parts are merged"
    )


def due_change(issue: Issue, states: Mapping[int, TaskState], labels: Labels) -> StateChange | None:
    """The transition a managed issue is due for, from its marker: a parent's or a dependent's."""
    marker = read_task_marker(issue.body)
    if marker is None:
        return None
    if marker.parts:
        return parent_change(issue, marker.parts, states, labels)
    missing = [f"`{dep}`" for dep in marker.dep_ids[len(marker.deps) :]]  # dependencies without issues yet
    return dependency_change(issue, [f"#{n}" for n in waiting_on(marker.deps, states)] + missing, labels)


# -- the verbs that write -------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """A comment that goes with a transition, with its hidden marker (rendered by whoever writes it)."""

    body: str
    marker: str


# The comment for the end of an attempt, made from the claim as recorded and the state it ended in.
NoteFor = Callable[[Claim, TaskState], "Note | None"]


class Lifecycle:
    """Writes transitions of task issues through one client; `pace` is called before each write."""

    def __init__(
        self,
        client: RepoClient,
        labels: Labels,
        store: ClaimStore | None = None,
        *,
        pace: Callable[[], None] = lambda: None,
        manager: str | None = None,
    ):
        self.client = client
        self.labels = labels
        self.store = store
        self.pace = pace
        self.manager = manager  # whose task markers count; None: the caller reads only the manager's issues

    def stage(self, number: int, current: Iterable[str], to: TaskState, *, close: bool = False) -> tuple[str, ...]:
        """The only label writer: move an issue whose labels are `current` into `to`; returns the labels after."""
        current = tuple(current)
        add, remove = self.labels.transition(current, to)
        if add:
            self.pace()
            self.client.add_labels(number, add)
        for name in remove:
            self.pace()
            self.client.remove_label(number, name)
        if close:
            self.pace()
            self.client.update_issue(number, state="closed", state_reason="completed")
        return tuple(name for name in current if name not in remove) + tuple(add)

    def note(self, number: int, note: Note | None) -> None:
        if note is not None:
            self.pace()
            self.client.create_comment(number, note.body, marker=note.marker)

    # -- a worker's task ---------------------------------------------------------------------------

    def claim(self, issue: Issue, *, worker: str, run_id: str, run_url: str, lease: timedelta) -> Claim | None:
        """Win the task in the claim log; None when lost. The holder then `announce`s, once its heartbeat runs."""
        return self._store.claim(issue.number, worker=worker, run_id=run_id, run_url=run_url, lease=lease)

    def announce(self, issue: Issue, note: Note | None, *, assignee: str | None = None) -> None:
        """The visible part of `claim`: in-progress label, assignee, the claim comment.

        Written after the heartbeat started, so slow writes cannot eat a short lease.
        """
        self.stage(issue.number, issue.labels, TaskState.IN_PROGRESS)
        if assignee:
            self.pace()
            self.client.add_assignees(issue.number, [assignee])
        self.note(issue.number, note)

    def complete(self, claim: Claim, *, pr_url: str) -> Claim:
        """Win delivery in the claim log: it records the PR (the fence: raises LeaseLost when the lease is gone).

        The holder then shows it with `delivered`; a holder that loses here withdraws its PR.
        """
        return self._store.complete(claim, pr_url=pr_url)

    def delivered(self, issue: Issue, note: Note | None) -> str | None:
        """The visible part of `complete`: completed and ready-for-review labels, the comment, dependents unblocked.

        Returns what went wrong when it failed: the claim log is the truth, and whoever sees the
        issue still in progress settles its labels (`settle`).
        """
        try:
            self.stage(issue.number, (*issue.labels, self.labels.in_progress), TaskState.COMPLETED)
            self.note(issue.number, note)
            if self._marker(issue):
                self.unblock_dependents(issue.number)
        except (RateLimitError, AuthError):
            raise
        except CccError as exc:
            return f"delivered, but the issue was not fully updated: {exc.message}"
        return None

    def give_back(self, claim: Claim, issue: Issue, reason: str, note: NoteFor) -> tuple[Claim, TaskState]:
        """`release` for a retry while attempts are left, else `fail`; then labels and the comment `note` makes."""
        if self._store.attempts_left(claim.record):
            return self.release(claim, issue, reason, note)
        return self.fail(claim, issue, reason, note)

    def release(self, claim: Claim, issue: Issue, reason: str, note: NoteFor) -> tuple[Claim, TaskState]:
        return self._end(self._store.release(claim, reason), issue, TaskState.READY, note)

    def fail(self, claim: Claim, issue: Issue, reason: str, note: NoteFor) -> tuple[Claim, TaskState]:
        return self._end(self._store.fail(claim, reason), issue, TaskState.FAILED, note)

    def cancel(self, claim: Claim, issue: Issue, reason: str, note: NoteFor) -> tuple[Claim, TaskState]:
        """`release` of a task withdrawn while held (closed, retired, unlabelled): the claim log says why,
        only `in-progress` goes (whatever a person set stays), and the comment says so once."""
        ended = self._store.release(claim, f"cancelled: {reason}")
        self.stage(issue.number, (self.labels.in_progress,), TaskState.READY)
        self.note(issue.number, note(ended, TaskState.READY))
        return ended, TaskState.READY

    def settle(self, issue: Issue, record: ClaimRecord) -> TaskState:
        """Labels follow a claim that ended while the issue still shows in-progress (its writer stopped first).

        A release with no attempts left cannot be claimed again, so it settles as failed.
        """
        if record.kind is ClaimKind.COMPLETE:
            state = TaskState.COMPLETED
        elif record.kind is ClaimKind.RELEASE and self._store.attempts_left(record):
            state = TaskState.READY
        else:
            state = TaskState.FAILED
        log.info("#%d: claim is %s; labels settle as %s", issue.number, record.kind.value, state.value)
        self.stage(issue.number, issue.labels, state)
        return state

    # -- dependencies and parents ------------------------------------------------------------------

    def apply(self, issue: Issue, change: StateChange) -> Issue:
        """Write a due `block`, `unblock` or parent `merged` change; returns the issue as it is after it."""
        log.info("#%d %s", issue.number, change.reason)
        labelled = TaskState.COMPLETED if change.close else change.to  # a merged parent is labelled completed
        after = self.stage(issue.number, issue.labels, labelled, close=change.close)
        if change.close:
            return replace(issue, labels=after, state="closed", state_reason="completed")
        return replace(issue, labels=after)

    def advance(self, issues: Mapping[int, Issue], states: dict[int, TaskState]) -> dict[int, tuple[Issue, str]]:
        """Write every due change of the managed `issues` (states as `task_states` gave them, kept up to date).

        Returns each changed issue as it is after the change, with the reason.
        """
        changed = {}
        for number in sorted(issues):
            change = due_change(issues[number], states, self.labels)
            if change is not None:
                changed[number] = (self.apply(issues[number], change), change.reason)
                states[number] = change.to
        return changed

    def unblock_dependents(self, done: int) -> None:
        """`unblock` the blocked tasks that depend on `done`, once all their dependencies are delivered."""
        states: dict[int, TaskState] = {}
        for other in self.client.list_issues(labels=[self.labels.blocked], operation="list_blocked"):
            marker = self._marker(other)
            if not marker or done not in marker.deps:
                continue
            for dep in marker.deps:
                if dep not in states:
                    states[dep] = task_state(self.client.get_issue(dep), self.labels)
            change = due_change(other, states, self.labels)
            if change is not None and change.to is TaskState.READY:
                self.apply(other, change)

    # -- plumbing ----------------------------------------------------------------------------------

    def _marker(self, issue: Issue) -> TaskMarker | None:
        """The manager's task marker; a marker in anyone else's issue counts for nothing."""
        if self.manager is not None and issue.author != self.manager:
            return None
        return read_task_marker(issue.body)

    @property
    def _store(self) -> ClaimStore:
        if self.store is None:
            raise TypeError("this Lifecycle was built without a claim store")
        return self.store

    def _end(self, claim: Claim, issue: Issue, state: TaskState, note: NoteFor) -> tuple[Claim, TaskState]:
        self.stage(issue.number, (*issue.labels, self.labels.in_progress), state)
        self.note(issue.number, note(claim, state))
        return claim, state
