"""`ccc status`: the queue by state, who holds what, lease ages and PRs, read from issues and claim refs.

A snapshot costs two listings (issues, claim refs) plus one commit read per claim head
not seen before: claim commits are content-addressed and never change, so a watching reader keeps
them and an unchanged queue costs only the listings.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from ccc.client import Issue, RepoClient
from ccc.manager.inventory import take_inventory
from ccc.protocol.claims import DEFAULT_NAMESPACE, ClaimRecord, utcnow
from ccc.protocol.lifecycle import task_states
from ccc.protocol.markers import read_task_marker
from ccc.protocol.states import Labels, TaskState

COLUMNS = ("#", "task", "state", "worker", "attempt", "lease", "PR")
STATE_COLOURS = {
    TaskState.READY: "",
    TaskState.BLOCKED: "\x1b[2m",
    TaskState.IN_PROGRESS: "\x1b[33m",
    TaskState.COMPLETED: "\x1b[32m",
    TaskState.MERGED: "\x1b[1;32m",
    TaskState.FAILED: "\x1b[31m",
    TaskState.RETIRED: "\x1b[2m",
}


@dataclass(frozen=True)
class TaskStatus:
    """One managed issue as the queue sees it: its state (`lifecycle.task_states`), its claim from the claim ref."""

    number: int
    task_id: str
    title: str
    state: TaskState
    worker: str | None  # the worker label the task is routed to (None for a coordinated parent)
    claim: ClaimRecord | None
    url: str
    is_parent: bool = False  # the tracking issue of a coordinated task: its parts do the work

    @property
    def holder(self) -> str | None:
        """Who holds the lease now, or last worked on the task."""
        return self.claim.worker if self.claim else None

    @property
    def attempt(self) -> int:
        return self.claim.attempt if self.claim else 0

    @property
    def pr(self) -> str | None:
        return self.claim.pr if self.claim else None

    def lease(self, now: datetime) -> str:
        """The lease as people read it: held for how long and how much is left, or expired since when."""
        if not self.claim or not self.claim.kind.holds_lease:
            return ""
        age = short_duration(now - self.claim.at)
        if self.claim.is_expired(now):
            return f"expired {short_duration(now - self.claim.lease_expires_at)} ago"
        return f"{age} old, {short_duration(self.claim.lease_expires_at - now)} left"

    def to_json(self, now: datetime) -> dict:
        claim = self.claim
        return {
            "issue": self.number,
            "task": self.task_id,
            "title": self.title,
            "state": self.state.value,
            "worker": self.worker,
            "holder": self.holder,
            "attempt": self.attempt,
            "claim": claim.kind.value if claim else None,
            "lease_expires_at": claim.lease_expires_at.isoformat() if claim and claim.kind.holds_lease else None,
            "lease_expired": bool(claim and claim.is_expired(now)),
            "pr": self.pr,
            "url": self.url,
        }


@dataclass(frozen=True)
class QueueStatus:
    """Every managed task of one repository at one moment."""

    repo: str
    at: datetime
    tasks: tuple[TaskStatus, ...]
    requests: int = 0

    def counts(self) -> dict[str, int]:
        tally = Counter(task.state for task in self.tasks)
        return {state.value: tally[state] for state in TaskState}

    def holders(self) -> dict[str, list[int]]:
        """Worker → the issues whose live lease it holds."""
        held: dict[str, list[int]] = {}
        for task in self.tasks:
            if task.claim and task.claim.kind.holds_lease and not task.claim.is_expired(self.at):
                held.setdefault(task.claim.worker, []).append(task.number)
        return held

    def expired(self) -> list[int]:
        return [task.number for task in self.tasks if task.claim and task.claim.is_expired(self.at)]

    @property
    def all_completed(self) -> bool:
        """Every task delivered: its PR open (completed) or merged."""
        return bool(self.tasks) and all(task.state.is_delivered for task in self.tasks)

    def to_json(self) -> dict:
        return {
            "repo": self.repo,
            "at": self.at.isoformat(),
            "counts": self.counts(),
            "holders": self.holders(),
            "expired_leases": self.expired(),
            "tasks": [task.to_json(self.at) for task in self.tasks],
            "requests": self.requests,
        }


@dataclass
class StatusReader:
    """Reads `QueueStatus` snapshots of one repository, remembering claim commits between reads."""

    client: RepoClient
    labels: Labels = field(default_factory=Labels)
    namespace: str = DEFAULT_NAMESPACE
    # When known, only issues this login opened are tasks, as the manager sees them: a task marker
    # copied into someone else's issue is ignored. None: every issue ending in a task marker.
    manager_login: str | None = None
    _records: dict[str, ClaimRecord | None] = field(default_factory=dict, repr=False)

    def read(self, now: datetime | None = None) -> QueueStatus:
        before = self.client.counter.total
        issues = [issue for issue in self._issues() if read_task_marker(issue.body)]
        heads = self._claim_heads()
        states = task_states(issues, self.labels)
        tasks = tuple(self._task(issue, states[issue.number], heads.get(issue.number)) for issue in issues)
        return QueueStatus(
            repo=self.client.full_name,
            at=now or utcnow(),
            tasks=tasks,
            requests=self.client.counter.total - before,
        )

    def _issues(self) -> list[Issue]:
        found = self.client.list_issues(state="all", operation="status_issues")
        if self.manager_login:
            inventory = take_inventory(found, manager_login=self.manager_login)
            return sorted((managed.issue for managed in inventory.tasks.values()), key=lambda issue: issue.number)
        return [issue for issue in found if not issue.is_pull_request]

    def _claim_heads(self) -> dict[int, str]:
        prefix = self.namespace.rstrip("/") + "/"
        heads = {}
        for ref in self.client.matching_refs(prefix):
            suffix = ref.name.removeprefix(prefix)
            if suffix.isdigit():
                heads[int(suffix)] = ref.sha
        return heads

    def _record(self, sha: str | None) -> ClaimRecord | None:
        if sha is None:
            return None
        if sha not in self._records:
            self._records[sha] = ClaimRecord.from_message(self.client.get_commit(sha).message)
        return self._records[sha]

    def _task(self, issue: Issue, state: TaskState, head: str | None) -> TaskStatus:
        marker = read_task_marker(issue.body)
        return TaskStatus(
            number=issue.number,
            task_id=marker.id if marker else "",
            title=issue.title,
            state=state,
            worker=marker.worker,
            claim=self._record(head),
            url=issue.html_url,
            is_parent=bool(marker and marker.parts),
        )


# -- rendering ------------------------------------------------------------------------------------


def short_duration(delta: timedelta) -> str:
    """`42s`, `3m05s`, `2h10m`: compact enough for a table cell."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def pr_cell(url: str | None) -> str:
    """`#12` for a pull request URL, empty when there is none."""
    if not url:
        return ""
    number = url.rstrip("/").rsplit("/", 1)[-1]
    return f"#{number}" if number.isdigit() else url


def table_rows(status: QueueStatus) -> list[tuple[str, ...]]:
    return [
        (
            f"#{task.number}",
            task.task_id,
            task.state.value,
            task.holder or task.worker or ("parts" if task.is_parent else ""),
            str(task.attempt or ""),
            task.lease(status.at),
            pr_cell(task.pr),
        )
        for task in status.tasks
    ]


def render_table(status: QueueStatus, *, colour: bool = False) -> list[str]:
    """The queue as aligned text lines: a header, one row per task, and a totals line."""
    rows = table_rows(status)
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(COLUMNS, widths, strict=True)).rstrip()]
    for task, row in zip(status.tasks, rows, strict=True):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        paint = STATE_COLOURS[task.state] if colour else ""
        lines.append(f"{paint}{line}\x1b[0m" if paint else line)
    lines.append(summary_line(status))
    return lines


def summary_line(status: QueueStatus) -> str:
    counts = ", ".join(f"{count} {state}" for state, count in status.counts().items() if count)
    held = "; ".join(
        f"{worker} holds {', '.join(f'#{n}' for n in numbers)}" for worker, numbers in status.holders().items()
    )
    return f"{status.repo}: {len(status.tasks)} tasks ({counts or 'none'})" + (f"; {held}" if held else "")


def change_lines(before: QueueStatus | None, after: QueueStatus) -> list[str]:
    """Plain log lines for what changed between two snapshots (for logs and non-terminal output)."""
    old = {task.number: task for task in before.tasks} if before else {}
    lines = []
    for task in after.tasks:
        previous = old.get(task.number)
        if previous and _visible(previous) == _visible(task):
            continue
        detail = ", ".join(
            part
            for part in (
                task.holder or task.worker,
                f"attempt {task.attempt}" if task.attempt else "",
                f"PR {pr_cell(task.pr)}" if task.pr else "",
            )
            if part
        )
        was = "".join(f"{state.value} -> " for state in passed_through(previous, task))
        lines.append(f"#{task.number} {task.task_id}: {was}{task.state.value}" + (f" ({detail})" if detail else ""))
    return lines


def passed_through(previous: TaskStatus | None, task: TaskStatus) -> list[TaskState]:
    """The states a task went through since the last snapshot, before its current one: a poll may miss
    some, but the protocol's order tells them (blocked → ready → in-progress → completed → merged, or
    in-progress → failed)."""
    if previous is None or previous.state is task.state:
        return []
    path = [previous.state]
    worked = (TaskState.IN_PROGRESS, TaskState.COMPLETED, TaskState.FAILED, TaskState.MERGED)
    if previous.state is TaskState.BLOCKED and task.state in worked:
        path.append(TaskState.READY)  # unblocked, then claimed
    if path[-1] is TaskState.READY and task.state in worked[1:] and not task.is_parent:
        path.append(TaskState.IN_PROGRESS)  # parents complete with their parts, without being claimed
    if task.state is TaskState.MERGED and path[-1] in (TaskState.READY, TaskState.IN_PROGRESS):
        path.append(TaskState.COMPLETED)  # delivered (PR open), then merged
    return path


def _visible(task: TaskStatus) -> tuple:
    return (task.state, task.holder, task.attempt, task.pr)


class LiveView:
    """Shows successive snapshots: redrawn in place on a terminal, as change log lines elsewhere."""

    def __init__(self, stream: TextIO | None = None, *, terminal: bool | None = None):
        self.stream = stream or sys.stdout
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._height = 0
        self._last: QueueStatus | None = None

    def show(self, status: QueueStatus, footer: Sequence[str] = (), prefix: str = "") -> None:
        """Draw `status` (with `footer` lines) on a terminal; elsewhere log its changes, each after `prefix`."""
        if self.terminal:
            self._redraw(fit_height([*render_table(status, colour=True), *footer], shutil.get_terminal_size().lines))
        else:
            for line in change_lines(self._last, status):
                self.stream.write(prefix + line + "\n")
        self._last = status
        self.stream.flush()

    def detach(self) -> None:
        """Something else was written below the frame: draw the next one after it, leaving this one."""
        self._height = 0

    def _redraw(self, lines: list[str]) -> None:
        # Back to the first line of the previous frame, rewrite each line, clear what is left below.
        up = f"\x1b[{self._height}F" if self._height else ""
        self.stream.write(up + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
        self._height = len(lines)


def fit_height(lines: list[str], height: int) -> list[str]:
    """At most `height - 1` lines (the cursor cannot move above the screen): the header, the first rows, the rest."""
    room = max(3, height - 1)
    if len(lines) <= room:
        return lines
    return [*lines[: room - 2], f"… {len(lines) - room + 1} more lines", lines[-1]]
