"""Spacing writes evenly so a sync stays under GitHub's content-creation secondary rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """At most `per_minute` writes a minute, evenly spaced; 0 means unpaced."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None

    def wait(self) -> None:
        """Call before each write: sleeps until the write's slot comes."""
        if not self.interval:
            return
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self.interval
