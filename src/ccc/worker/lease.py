"""The heartbeat: a thread that keeps renewing our claim while the agent works, and notices when it is lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from ccc.errors import CccError, LeaseLost
from ccc.protocol.claims import Claim, ClaimStore

log = logging.getLogger(__name__)


class Heartbeat:
    """Holds the latest claim; renews it every `interval` seconds until stopped or lost.

    Every use of the claim (renewal, fenced push or check, the final step) happens under one lock, so
    the main thread never acts on a claim the heartbeat has just replaced.
    """

    def __init__(
        self,
        store: ClaimStore,
        claim: Claim,
        *,
        lease: timedelta,
        interval: float,
        withdrawn: Callable[[], str | None] = lambda: None,
    ):
        self.store = store
        self.lease = lease
        self.interval = interval
        self.withdrawn = withdrawn  # asked at every beat: why the task is no longer wanted, or None
        self.lost = threading.Event()
        self.halt = threading.Event()  # the agent must stop: the lease was lost or the task withdrawn
        self.cancelled: str | None = None
        self._claim = claim
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{claim.issue}", daemon=True)

    @property
    def current(self) -> Claim:
        with self._lock:
            return self._claim

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def hold(self, step: Callable[[Claim], Claim]) -> Claim:
        """Run a fenced step on our latest claim, keeping the claim it returns (a push renews it).

        Under the lock, so no renewal moves the claim between the step's check and its write.
        """
        with self._lock:
            self._raise_if_lost()
            try:
                self._claim = step(self._claim)
            except LeaseLost:
                self._lose()
                raise
            return self._claim

    def stop(self) -> Claim:
        """Stop renewing and hand over the claim for its final step; raises LeaseLost if it was lost."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            self._raise_if_lost()
            return self._claim

    def _raise_if_lost(self) -> None:
        if self.lost.is_set():
            raise LeaseLost(f"#{self._claim.issue}: the lease was lost while working", issue=self._claim.issue)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._stop.is_set():
                    return
                try:
                    self._claim = self.store.renew(self._claim, self.lease)
                    self.cancelled = self.withdrawn()
                except LeaseLost as exc:
                    log.error("%s: stopping, publishing nothing", exc)
                    self._lose()
                    return
                except CccError as exc:
                    # A failed renewal is not a lost lease until the lease runs out: try again next beat.
                    if self.store.must_stop(self._claim.record):
                        log.error("#%d: could not renew before the lease ran out (%s)", self._claim.issue, exc)
                        self._lose()
                        return
                    log.warning("#%d: lease renewal failed, retrying: %s", self._claim.issue, exc)
                    continue
                if self.cancelled:
                    log.warning("#%d: %s: stopping the agent", self._claim.issue, self.cancelled)
                    self.halt.set()
                    return

    def _lose(self) -> None:
        self.lost.set()
        self.halt.set()
