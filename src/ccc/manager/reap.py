"""Reaping: expired leases are taken over (compare-and-set), then released for a retry or failed for good.

Uses the worker's takeover protocol, so a worker renewing at the same moment wins or loses cleanly:
if its renewal lands first, `take_over_expired` finds no expired lease and the task is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ccc.client import RepoClient
from ccc.manager.inventory import ManagedIssue
from ccc.manager.pacing import Pacer, writes_pacer
from ccc.manager.settings import ManagerSettings
from ccc.manager.sync import read_inventory
from ccc.protocol.claims import ClaimKind, ClaimRecord, ClaimStore
from ccc.protocol.lifecycle import Lifecycle, Note
from ccc.protocol.markers import comment_marker
from ccc.protocol.states import TaskState
from ccc.render import render

log = logging.getLogger(__name__)

REAP_COMMENT_TEMPLATE = "manager_reap_comment.md.j2"
REAPER = "ccc-manager"


@dataclass(frozen=True)
class Reaped:
    number: int
    worker: str  # whose lease expired
    attempt: int
    outcome: TaskState  # READY (released for a retry) or FAILED

    def to_json(self) -> dict:
        return {"issue": self.number, "worker": self.worker, "attempt": self.attempt, "outcome": self.outcome.value}


class Reaper:
    def __init__(self, client: RepoClient, claims: ClaimStore, settings: ManagerSettings, pacer: Pacer):
        self.client = client
        self.claims = claims
        self.settings = settings
        self.lifecycle = Lifecycle(client, settings.labels, claims, pace=pacer.wait)

    def reap(self, managed: ManagedIssue, record: ClaimRecord) -> Reaped | None:
        """Release or fail one task whose last claim record (`record`) shows an expired lease."""
        if record.kind in (ClaimKind.RELEASE, ClaimKind.FAIL):
            # The holder ended its claim but stopped before relabelling the issue: the labels follow the claim.
            return Reaped(managed.number, record.worker, record.attempt, self.lifecycle.settle(managed.issue, record))
        claim = self.claims.take_over_expired(managed.number, by=REAPER)
        if claim is None:
            log.info("#%d: lease no longer expired (renewed or taken over): left alone", managed.number)
            return None
        reason = f"lease of {record.worker} expired at {record.lease_expires_at.isoformat()}"
        _, outcome = self.lifecycle.give_back(
            claim,
            managed.issue,
            reason,
            lambda ended, state: self._note(managed, record, state, nonce=ended.record.nonce),
        )
        log.info("#%d: %s (attempt %d, %s)", managed.number, reason, record.attempt, outcome.value)
        return Reaped(managed.number, record.worker, record.attempt, outcome)

    def _note(self, managed: ManagedIssue, record: ClaimRecord, outcome: TaskState, *, nonce: str) -> Note:
        marker = comment_marker("reaped", managed.number, nonce)
        body = render(
            REAP_COMMENT_TEMPLATE,
            override_dir=self.settings.template_dir,
            worker=record.worker,
            attempt=record.attempt,
            max_attempts=self.settings.max_attempts,
            lease_expires_at=record.lease_expires_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            outcome="released" if outcome is TaskState.READY else "failed",
            marker=marker,
        )
        return Note(body, marker)


def reap_expired(
    reaper: Reaper,
    current: dict[int, ManagedIssue],
    states: dict[int, TaskState],
    records: dict[int, ClaimRecord],
    now: datetime,
) -> list[Reaped]:
    """Reap the in-progress tasks whose freshly read claim shows a lease that ran out (or none held)."""
    reaped = []
    for number, record in sorted(records.items()):
        if states[number] is not TaskState.IN_PROGRESS:
            continue
        if not (record.is_expired(now, reaper.claims.margin) or record.kind in (ClaimKind.RELEASE, ClaimKind.FAIL)):
            continue
        outcome = reaper.reap(current[number], record)
        if outcome is not None:
            reaped.append(outcome)
            states[number] = outcome.outcome
    return reaped


def prune_claims(
    client: RepoClient, settings: ManagerSettings, *, claims: ClaimStore | None = None, now: datetime | None = None
) -> list[int]:
    """Delete the claim refs of managed tasks closed longer than `settings.claim_retention` (GitHub advises
    staying well under a few thousand refs), each once its attempt log is kept in a comment on the issue.

    One listing of the claim refs, then per pruned task: its log (one request per entry), the comment, the delete.
    """
    claims = claims or ClaimStore(client, namespace=settings.claims_namespace, max_attempts=settings.max_attempts)
    now = now or claims.clock()
    closed = {
        managed.number: managed
        for managed in read_inventory(client, settings).tasks.values()
        if managed.issue.closed_at and now - managed.issue.closed_at >= settings.claim_retention
    }
    pacer = Pacer(0 if client.dry_run else settings.max_writes_per_minute)
    pruned = []
    for ref in client.matching_refs(f"{claims.namespace}/"):
        number = ref.name.rsplit("/", 1)[-1]
        if not number.isdigit() or int(number) not in closed:
            continue
        _keep_claim_log(client, claims, pacer, int(number), ref.sha, settings)
        pacer.wait()
        client.delete_ref(ref.name)
        pruned.append(int(number))
    return pruned


def _keep_claim_log(
    client: RepoClient, claims: ClaimStore, pacer: Pacer, number: int, head: str, settings: ManagerSettings
) -> None:
    marker = comment_marker("claim-log", number, head[:12])
    body = render(
        "manager_claim_log_comment.md.j2",
        override_dir=str(settings.template_dir) if settings.template_dir else None,
        records=claims.history(number),
        ref=claims.ref_name(number),
        marker=marker,
    )
    pacer.wait()
    client.create_comment(number, body, marker=marker)


def reap_leases(
    client: RepoClient,
    settings: ManagerSettings,
    *,
    claims: ClaimStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[Reaped]:
    """`ccc manager reap`: read the claim of every in-progress task (2 requests each) and reap the expired.

    Expiry is judged by GitHub's time (the claim store's clock) unless `clock` is given, with the store's margin.
    """
    claims = claims or ClaimStore(client, namespace=settings.claims_namespace, max_attempts=settings.max_attempts)
    now = (clock or claims.clock)()
    inventory = read_inventory(client, settings)
    current = inventory.by_number()
    states = inventory.states(settings.labels)
    records = {}
    for number, state in states.items():
        if state is TaskState.IN_PROGRESS and number in current:
            record = claims.read(number)
            if record is not None:
                records[number] = record
    pacer = writes_pacer(settings, dry_run=client.dry_run)
    return reap_expired(Reaper(client, claims, settings, pacer), current, states, records, now)
