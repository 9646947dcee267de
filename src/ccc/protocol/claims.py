"""The claim lock: one git ref per task, moved only by compare-and-set; its commit chain is the attempt log.

`refs/ccc/claims/<issue>` points at a commit (empty tree) whose message is a JSON `ClaimRecord`.
Creating the ref wins a task; every later step (renew, takeover, release, complete, fail) is a
child commit the ref is fast-forwarded to (PATCH, force false), so two writers racing from the same
head cannot both succeed. Labels and assignees are last-writer-wins on GitHub and cannot be a lock.

Commits carry a fixed date (the record's `at`) and a random nonce: a replayed create is the same
object, and no two attempts ever collide.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import Enum

from ccc.client import GitCommit, RefWrite, RepoClient
from ccc.errors import LeaseLost, NotFoundError, OutcomeUnknown, UnprocessableError

log = logging.getLogger(__name__)

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
DEFAULT_NAMESPACE = "refs/ccc/claims"
COMMITTER = "ccc <ccc@users.noreply.github.com>"
# The tree of claim commits where GitHub does not know the empty one: fixed content, so a fixed sha.
CLAIM_TREE = {"CCC-CLAIM": "A ccc claim: the attempt log of a task is in the commit messages.\n"}
# The most slack a lease gets at its end: the holder stops this long before, takers wait this long after.
MAX_MARGIN = timedelta(seconds=10)


class ClaimKind(str, Enum):
    CLAIM = "claim"  # first attempt: the ref was created
    RENEW = "renew"  # heartbeat: same holder, later expiry
    TAKEOVER = "takeover"  # a new holder after an expired or released lease
    RELEASE = "release"  # the holder gave up; others may retry
    COMPLETE = "complete"  # delivered: final
    FAIL = "fail"  # out of attempts: final

    @property
    def holds_lease(self) -> bool:
        return self in (ClaimKind.CLAIM, ClaimKind.RENEW, ClaimKind.TAKEOVER)

    @property
    def is_final(self) -> bool:
        return self in (ClaimKind.COMPLETE, ClaimKind.FAIL)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def lease_margin(lease: timedelta) -> timedelta:
    """Slack around a lease's end for GitHub's whole-second `Date` and request latency (a tenth, ≤ 10 s)."""
    return min(MAX_MARGIN, lease / 10)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ClaimRecord:
    """One entry of a task's attempt log, stored as the message of a claim commit."""

    kind: ClaimKind
    issue: int
    worker: str
    run_id: str
    run_url: str
    attempt: int
    lease_expires_at: datetime
    nonce: str
    at: datetime
    reason: str | None = None
    pr: str | None = None

    def is_expired(self, now: datetime, margin: timedelta = timedelta(0)) -> bool:
        """The lease ran out more than `margin` ago (GitHub's time: see ClaimStore)."""
        return self.kind.holds_lease and self.lease_expires_at + margin <= now

    def is_free(self, now: datetime, margin: timedelta = timedelta(0)) -> bool:
        """Another worker may take the task over: released, or a lease that ran out `margin` ago."""
        return self.kind is ClaimKind.RELEASE or self.is_expired(now, margin)

    def follow(self, kind: ClaimKind, *, at: datetime, lease_expires_at: datetime, **changes) -> ClaimRecord:
        """The next record in the log: same task, a fresh nonce, reason/pr reset unless given."""
        fields = {"reason": None, "pr": None, **changes}
        return replace(self, kind=kind, at=at, lease_expires_at=lease_expires_at, nonce=new_nonce(), **fields)

    def to_message(self) -> str:
        """A readable subject line for `git log`, then the record as JSON."""
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data.update(kind=self.kind.value, at=_stamp(self.at), lease_expires_at=_stamp(self.lease_expires_at))
        subject = f"ccc {self.kind.value} #{self.issue} by {self.worker} (attempt {self.attempt})"
        return f"{subject}\n\n{json.dumps(data, sort_keys=True, ensure_ascii=False)}\n"

    @classmethod
    def from_message(cls, message: str) -> ClaimRecord | None:
        """The record in a claim commit's message, or None when the commit is not one of ours."""
        start = message.find("{")
        try:
            data = json.loads(message[start:]) if start >= 0 else None
            if not isinstance(data, dict):
                return None
            return cls(
                kind=ClaimKind(data["kind"]),
                issue=int(data["issue"]),
                worker=str(data["worker"]),
                run_id=str(data.get("run_id", "")),
                run_url=str(data.get("run_url", "")),
                attempt=int(data["attempt"]),
                lease_expires_at=_parse_stamp(data["lease_expires_at"]),
                nonce=str(data["nonce"]),
                at=_parse_stamp(data["at"]),
                reason=data.get("reason"),
                pr=data.get("pr"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def new_nonce() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Claim:
    """A claim as some holder last saw it: the ref, the commit it points at, and that commit's record."""

    issue: int
    ref: str
    head: str  # sha of the latest claim commit
    record: ClaimRecord


class ClaimStore:
    """Claims on tasks, kept as refs under `namespace` in the repository of `client`.

    Leases are stamped and judged by GitHub's clock (`client.server_time`, from its answers' `Date`),
    never the runner's, with a `margin`: a holder stops `margin` before its lease ends, others take
    over only `margin` after it ended. A runner whose clock is minutes off neither steals nor loses.
    """

    def __init__(
        self,
        client: RepoClient,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Callable[[], datetime] | None = None,
        max_attempts: int = 3,
        margin: timedelta = MAX_MARGIN,
    ):
        self.client = client
        self.namespace = namespace.rstrip("/")
        self.clock = clock or client.server_time
        self.max_attempts = max_attempts
        self.margin = margin
        self.tree = EMPTY_TREE  # the tree of claim commits (see _commit)

    def ref_name(self, issue: int) -> str:
        return f"{self.namespace}/{issue}"

    def attempts_left(self, record: ClaimRecord) -> int:
        return max(0, self.max_attempts - record.attempt)

    # -- taking a task ------------------------------------------------------------------------

    def claim(self, issue: int, *, worker: str, run_id: str, run_url: str, lease: timedelta) -> Claim | None:
        """Win the task, or None when someone else holds it, finished it, or it is out of attempts.

        Creating the ref is the common path (2 requests). When the ref exists, a released or
        expired head is taken over by compare-and-set, as attempt + 1.
        """
        now = self._now()
        record = ClaimRecord(
            kind=ClaimKind.CLAIM,
            issue=issue,
            worker=worker,
            run_id=run_id,
            run_url=run_url,
            attempt=1,
            lease_expires_at=now + lease,
            nonce=new_nonce(),
            at=now,
        )
        sha = self._commit(record, parents=())
        outcome = self.client.create_ref(self.ref_name(issue), sha)
        if outcome is RefWrite.DONE:
            return Claim(issue, self.ref_name(issue), sha, record)
        if outcome is RefWrite.UNKNOWN:
            raise OutcomeUnknown(f"#{issue}: GitHub kept failing to create {self.ref_name(issue)}; try again later")
        head = self._head(issue, exists=True)
        if head is None or not self.may_take(head.record, now) or not self.attempts_left(head.record):
            return None
        successor = head.record.follow(
            ClaimKind.TAKEOVER,
            at=now,
            lease_expires_at=now + lease,
            worker=worker,
            run_id=run_id,
            run_url=run_url,
            attempt=head.record.attempt + 1,
        )
        return self._advance(head, successor)

    def take_over_expired(
        self, issue: int, *, by: str, run_id: str = "", run_url: str = "", lease: timedelta = timedelta(minutes=5)
    ) -> Claim | None:
        """For the reaper: hold an expired lease so it can be released or failed; None if not expired.

        The attempt number stays: the reaper is not another attempt at the task. Check
        `attempts_left(claim.record)` to choose between `release` and `fail`.
        """
        now = self._now()
        head = self._head(issue)
        if head is None or not head.record.is_expired(now, self.margin):
            return None
        successor = head.record.follow(
            ClaimKind.TAKEOVER,
            at=now,
            lease_expires_at=now + lease,
            worker=by,
            run_id=run_id,
            run_url=run_url,
            reason=f"lease of {head.record.worker} expired",
        )
        return self._advance(head, successor)

    def may_take(self, record: ClaimRecord, now: datetime) -> bool:
        """Another worker may take this task over at `now` (GitHub's time)."""
        return record.is_free(now, self.margin)

    # -- holding it ---------------------------------------------------------------------------

    def must_stop(self, record: ClaimRecord) -> bool:
        """The holder of `record` is within `margin` of its lease's end: it must not act on it any more."""
        return record.kind.holds_lease and self._now() >= record.lease_expires_at - self.margin

    def renew(self, claim: Claim, lease: timedelta) -> Claim:
        """Extend the lease; raises LeaseLost when the ref moved (expired and taken over)."""
        now = self._now()
        return self._step(claim, claim.record.follow(ClaimKind.RENEW, at=now, lease_expires_at=now + lease))

    def renewal(self, claim: Claim, lease: timedelta, reason: str | None = None) -> ClaimRecord:
        """The record a fenced publish writes: a renewal whose commit moves in the same atomic push."""
        now = self._now()
        return claim.record.follow(ClaimKind.RENEW, at=now, lease_expires_at=now + lease, reason=reason)

    def commit_object(self, record: ClaimRecord, *, parent: str) -> bytes:
        """The claim commit for `record` in git's object format, as `git hash-object -t commit` takes it.

        Identity and dates are those the API's commits carry, so a claim commit made by git and one made
        through the API read the same in the attempt log.
        """
        seconds = int(record.at.timestamp())
        ident = f"{COMMITTER} {seconds} +0000"
        return (
            f"tree {self.tree}\nparent {parent}\nauthor {ident}\ncommitter {ident}\n\n{record.to_message()}"
        ).encode()

    # -- ending it ----------------------------------------------------------------------------

    def release(self, claim: Claim, reason: str) -> Claim:
        """Give the task back for a retry; the lease ends now and this attempt stays counted."""
        now = self._now()
        return self._step(claim, claim.record.follow(ClaimKind.RELEASE, at=now, lease_expires_at=now, reason=reason))

    def complete(self, claim: Claim, *, pr_url: str) -> Claim:
        now = self._now()
        return self._step(claim, claim.record.follow(ClaimKind.COMPLETE, at=now, lease_expires_at=now, pr=pr_url))

    def fail(self, claim: Claim, reason: str) -> Claim:
        now = self._now()
        return self._step(claim, claim.record.follow(ClaimKind.FAIL, at=now, lease_expires_at=now, reason=reason))

    # -- reading ------------------------------------------------------------------------------

    def read(self, issue: int) -> ClaimRecord | None:
        """The latest record of a task's claim (2 requests), or None when it was never claimed."""
        head = self._head(issue)
        return head.record if head else None

    def history(self, issue: int) -> list[ClaimRecord]:
        """The whole attempt log, oldest first (one request per entry)."""
        ref = self.client.get_ref(self.ref_name(issue))
        records: list[ClaimRecord] = []
        sha = ref.sha if ref else None
        while sha:
            commit = self.client.get_commit(sha)
            record = ClaimRecord.from_message(commit.message)
            if record is None:
                break
            records.append(record)
            sha = commit.parents[0] if commit.parents else None
        return records[::-1]

    # -- plumbing -----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(timezone.utc)

    def _commit(self, record: ClaimRecord, *, parents: tuple[str, ...]) -> str:
        """A claim commit on the empty tree; where GitHub refuses that tree (it need not have the object),
        on a fixed one-file tree made once, used by every later commit of this store."""
        try:
            return self._commit_on(self.tree, record, parents)
        except UnprocessableError as exc:
            if self.tree != EMPTY_TREE or "Tree SHA does not exist" not in exc.message:
                raise
        log.info("GitHub does not know the empty tree here: claim commits use a fixed one-file tree")
        self.tree = self.client.create_tree(CLAIM_TREE)
        return self._commit_on(self.tree, record, parents)

    def _commit_on(self, tree: str, record: ClaimRecord, parents: tuple[str, ...]) -> str:
        return self.client.create_commit(message=record.to_message(), tree=tree, parents=parents, when=record.at)

    def _head(self, issue: int, *, exists: bool = False) -> Claim | None:
        """The ref's latest claim, read with patience for lagging replicas; None when there is none.

        A replica may not have the ref yet (404) or the commit it points at: when GitHub has just said
        the ref `exists`, or the ref names a commit, a miss is read again after the client's
        read-back delays before it is believed.
        """
        ref = self.client.get_ref(self.ref_name(issue))
        if ref is None and exists:
            ref = self.client.read_back(lambda: self.client.get_ref(self.ref_name(issue)))
        if ref is None:
            return None
        commit = self.client.read_back(lambda: self._commit_or_none(ref.sha))
        record = ClaimRecord.from_message(commit.message) if commit else None
        if record is None:
            log.warning("%s points at %s, which is not a ccc claim commit: leaving #%d alone", ref.name, ref.sha, issue)
            return None
        return Claim(issue, ref.name, ref.sha, record)

    def _commit_or_none(self, sha: str) -> GitCommit | None:
        try:
            return self.client.get_commit(sha)
        except NotFoundError:
            return None  # not on this replica yet

    def _advance(self, head: Claim, record: ClaimRecord) -> Claim | None:
        """Fast-forward the ref from `head` to a child commit holding `record`; None when it moved first.

        The answer comes from GitHub's primary (ClientRepo.update_ref), never from a read. Raises
        OutcomeUnknown when GitHub kept failing: not a lost race, and not a won one either.
        """
        sha = self._commit(record, parents=(head.head,))
        outcome = self.client.update_ref(head.ref, sha)
        if outcome is RefWrite.DONE:
            return Claim(head.issue, head.ref, sha, record)
        if outcome is RefWrite.UNKNOWN:
            raise OutcomeUnknown(f"{head.ref}: GitHub kept failing to record {record.kind.value}; outcome unknown")
        return None

    def _step(self, claim: Claim, record: ClaimRecord) -> Claim:
        moved = self._advance(claim, record)
        if moved is None:
            raise LeaseLost(
                f"#{claim.issue}: could not record {record.kind.value}: {claim.ref} moved past our claim "
                f"(attempt {claim.record.attempt} by {claim.record.worker})",
                issue=claim.issue,
            )
        return moved
