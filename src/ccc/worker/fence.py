"""Publishing through the claim: a write that lands only while our claim is still the head of its ref.

A read cannot fence a write that happens later, so the work branch is pushed in one atomic git push
together with a renewal of the claim, fast-forwarded from the claim commit we last wrote
(`--force-with-lease`). A worker whose claim moved publishes nothing: the server refuses both refs.
Checks before later steps ask git (`ls-remote`), which answers from the repository itself, not a
lagging API replica, and costs no API request.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta
from pathlib import Path

from ccc.errors import LeaseLost
from ccc.protocol.claims import Claim, ClaimStore
from ccc.worker.workspace import GitError, Workspace

log = logging.getLogger(__name__)

# Tests only: a worker freezes itself (SIGSTOP) when it reaches the publish step named here, so a
# stall suite can take its lease over at an exact point instead of guessing with sleeps.
STOP_AT_ENV = "CCC_TEST_STOP_AT"


def checkpoint(step: str) -> None:
    """Mark a publish step; stops the process here when `CCC_TEST_STOP_AT` names it."""
    if os.environ.get(STOP_AT_ENV) == step:
        log.warning("stopping at %s, as %s asks", step, STOP_AT_ENV)
        os.kill(os.getpid(), signal.SIGSTOP)


class Fence:
    """Pushes and checks that hold only while `claim` is the head of its ref."""

    def __init__(self, store: ClaimStore, workspace: Workspace, *, lease: timedelta, scratch: Path):
        self.store = store
        self.workspace = workspace
        self.lease = lease
        self.scratch = scratch  # where the claim commit is written before git stores it

    def push(self, claim: Claim, tree: Path, branch: str) -> Claim:
        """Push `branch` and renew the claim in one atomic push; the renewed claim, or LeaseLost."""
        if self.workspace.fetch_ref(claim.ref) != claim.head:
            raise self._lost(claim)
        record = self.store.renewal(claim, self.lease, reason=f"pushed {branch}")
        raw = self.scratch / "claim-commit"
        raw.write_bytes(self.store.commit_object(record, parent=claim.head))
        sha = self.workspace.write_commit(raw)
        try:
            self.workspace.push_with_ref(tree, branch, ref=claim.ref, old=claim.head, new=sha)
        except GitError:
            now = self.workspace.remote_sha(claim.ref)
            if now == claim.head:
                raise  # nothing landed and the claim is still ours: an ordinary failed push
            if now != sha:
                raise self._lost(claim) from None
            log.info("#%d: the push landed although git reported a failure", claim.issue)
        return Claim(claim.issue, claim.ref, sha, record)

    def confirm(self, claim: Claim) -> Claim:
        """Raises LeaseLost unless the server's ref still holds our latest claim commit."""
        if self.workspace.remote_sha(claim.ref) != claim.head:
            raise self._lost(claim)
        return claim

    @staticmethod
    def _lost(claim: Claim) -> LeaseLost:
        return LeaseLost(
            f"#{claim.issue}: {claim.ref} moved past our claim (attempt {claim.record.attempt} "
            f"by {claim.record.worker})",
            issue=claim.issue,
        )
