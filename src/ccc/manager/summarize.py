"""`summarize`: one listing of the managed issues becomes counts, per-worker throughput and a dashboard.

Budget: the listing (one page per 100 issues), claim reads only for tasks whose state changed since
the last summary (at most `max_claim_reads`, two requests each; the rest wait for the next run),
state fixes when there are any (the lifecycle's unblock and parent merges, and reaping), and one
dashboard write when its text changed. Claim details read earlier are kept in the dashboard issue (see `history`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ccc.client import RepoClient
from ccc.manager.dashboard import UPDATED_PREFIX, Dashboard, TaskView, build_dashboard, dashboard_body
from ccc.manager.history import HISTORY_PREFIX, History, TaskHistory, epoch, read_history
from ccc.manager.inventory import Inventory, ManagedIssue
from ccc.manager.pacing import Pacer, writes_pacer
from ccc.manager.reap import Reaped, Reaper, reap_expired
from ccc.manager.settings import ManagerSettings
from ccc.manager.sync import read_inventory
from ccc.protocol.claims import ClaimKind, ClaimRecord, ClaimStore
from ccc.protocol.lifecycle import Lifecycle
from ccc.protocol.markers import DASHBOARD_MARKER
from ccc.protocol.states import TaskState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryResult:
    dashboard: Dashboard
    newly_completed: tuple[TaskView, ...]
    state_changes: tuple[str, ...]  # "#12 unblocked: ...", "#6 completed: ..."
    reaped: tuple[Reaped, ...]
    claim_reads: int
    claim_reads_deferred: int
    dashboard_issue: int | None
    requests: dict

    def to_json(self) -> dict:
        return {
            "counts": self.dashboard.counts,
            "workers": [worker.to_json() for worker in self.dashboard.workers],
            "newly_completed": [task.to_json() for task in self.newly_completed],
            "expired_leases": [task.to_json() for task in self.dashboard.expired],
            "failed": [task.to_json() for task in self.dashboard.failed],
            "state_changes": list(self.state_changes),
            "reaped": [reaped.to_json() for reaped in self.reaped],
            "claim_reads": self.claim_reads,
            "claim_reads_deferred": self.claim_reads_deferred,
            "dashboard_issue": self.dashboard_issue,
            "requests": self.requests,
        }


def summarize(
    client: RepoClient,
    settings: ManagerSettings,
    *,
    claims: ClaimStore | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> SummaryResult:
    now = clock()
    claims = claims or ClaimStore(client, namespace=settings.claims_namespace, max_attempts=settings.max_attempts)
    pacer = writes_pacer(settings, dry_run=client.dry_run)
    inventory = read_inventory(client, settings)
    current = dict(inventory.by_number())
    states = inventory.states(settings.labels)
    lifecycle = Lifecycle(client, settings.labels, claims, pace=pacer.wait)
    changes = []
    for number, (issue, reason) in lifecycle.advance({n: m.issue for n, m in current.items()}, states).items():
        current[number] = replace(current[number], issue=issue)
        changes.append(f"#{number} {reason}")
    previous = read_history(inventory.dashboard.body if inventory.dashboard else None)
    records, started, deferred = read_claims(claims, current, states, previous, settings, now)
    reaped: list[Reaped] = []
    if settings.reap:
        reaped = reap_expired(Reaper(client, claims, settings, pacer), current, states, records, now)
    history = next_history(current, states, previous, records, started, now)
    views = [task_view(current[n], states[n], history.tasks[n]) for n in sorted(current)]
    dashboard = build_dashboard(views, now=now, settings=settings)
    newly = tuple(v for v in views if v.state.is_delivered and _was_not_delivered(previous, v.number))
    number = None
    if settings.dashboard_issue:
        number = write_dashboard(client, pacer, inventory, dashboard, previous, history, settings)
    return SummaryResult(
        dashboard=dashboard,
        newly_completed=newly,
        state_changes=tuple(changes),
        reaped=tuple(reaped),
        claim_reads=len(records),
        claim_reads_deferred=deferred,
        dashboard_issue=number,
        requests=client.counter.snapshot(),
    )


def read_claims(
    claims: ClaimStore,
    current: dict[int, ManagedIssue],
    states: dict[int, TaskState],
    previous: History,
    settings: ManagerSettings,
    now: datetime,
) -> tuple[dict[int, ClaimRecord], dict[int, int], int]:
    """Claim records of the tasks whose details are stale, leases first (they may need reaping), and
    when each one's current attempt was claimed (epoch seconds), from the claim log where not known yet."""
    stale = [n for n in current if (previous.get(n) or TaskHistory(states[n])).needs_claim_read(states[n], now)]
    stale.sort(key=lambda n: (states[n] is not TaskState.IN_PROGRESS, n))
    records, started = {}, {}
    for number in stale[: settings.max_claim_reads]:
        record = claims.read(number)
        if record is None:
            continue
        records[number] = record
        started[number] = attempt_started(claims, number, record, previous.get(number))
    return records, started, max(0, len(stale) - settings.max_claim_reads)


def attempt_started(claims: ClaimStore, number: int, record: ClaimRecord, entry: TaskHistory | None) -> int:
    """When the attempt `record` belongs to was claimed: the record itself, the history kept from an earlier
    summary, else the claim log (one request per entry) — a task may claim, renew and complete between
    two summaries, and the time it was claimed is only in the log."""
    if record.kind in (ClaimKind.CLAIM, ClaimKind.TAKEOVER):
        return epoch(record.at)
    if entry is not None and entry.started and entry.attempts == record.attempt:
        return entry.started
    log_entries = claims.history(number)
    starts = [
        r.at for r in log_entries if r.attempt == record.attempt and r.kind in (ClaimKind.CLAIM, ClaimKind.TAKEOVER)
    ]
    return epoch(starts[0]) if starts else 0


def next_history(
    current: dict[int, ManagedIssue],
    states: dict[int, TaskState],
    previous: History,
    records: dict[int, ClaimRecord],
    started: dict[int, int],
    now: datetime,
) -> History:
    tasks = {}
    for number in current:
        entry = (previous.get(number) or TaskHistory(states[number])).with_state(states[number])
        record = records.get(number)
        if record is not None:
            entry = with_claim(entry, record, states[number], started.get(number, 0))
        tasks[number] = entry
    return History(tasks, epoch(now))


def with_claim(entry: TaskHistory, record: ClaimRecord, state: TaskState, started: int) -> TaskHistory:
    """The history entry after reading `record`; `started` is when its attempt was claimed (0: unknown)."""
    finished = epoch(record.at) if record.kind.is_final else 0
    return replace(
        entry,
        read_at_state=state,
        worker=record.worker,
        attempts=record.attempt,
        started=started,
        finished=finished,
        lease=epoch(record.lease_expires_at) if record.kind.holds_lease else 0,
        pr=record.pr or entry.pr,
    )


def task_view(managed: ManagedIssue, state: TaskState, entry: TaskHistory) -> TaskView:
    issue, marker = managed.issue, managed.marker
    return TaskView(
        number=issue.number,
        task_id=marker.id,
        title=issue.title,
        url=issue.html_url,
        state=state,
        route=marker.worker or "",
        worker=entry.worker,
        attempts=entry.attempts,
        created=epoch(issue.created_at),
        started=entry.started,
        finished=entry.finished,
        lease=entry.lease,
        pr=entry.pr,
        deps=marker.deps,
        parts=marker.parts,
    )


def _was_not_delivered(previous: History, number: int) -> bool:
    entry = previous.get(number)
    return entry is None or not entry.state.is_delivered


def write_dashboard(
    client: RepoClient,
    pacer: Pacer,
    inventory: Inventory,
    dashboard: Dashboard,
    previous: History,
    history: History,
    settings: ManagerSettings,
) -> int | None:
    """Update the one dashboard issue in place (no write when nothing changed), or create it once."""
    body = dashboard_body(dashboard, history, settings)
    existing = inventory.dashboard
    if existing is not None:
        if _visible(existing.body) != _visible(body) or previous.tasks != history.tasks:
            pacer.wait()
            client.update_issue(existing.number, body=body)
        return existing.number
    pacer.wait()
    created = client.create_issue(title=settings.dashboard_title, body=body, marker=DASHBOARD_MARKER)
    return created.number if created else None


def _visible(body: str) -> str:
    """The body without its update time and history, so a summary that found nothing new writes nothing."""
    return "\n".join(
        line
        for line in body.splitlines()
        if not line.startswith(UPDATED_PREFIX) and not line.startswith(HISTORY_PREFIX)
    )
