"""Pacing writes under GitHub's content-creation limits: 80 a minute and 500 an hour.

The minute is kept by spacing writes evenly (sleeping is cheap). The hour is kept by stopping: waiting up
to an hour inside a job is not, so a run that has used what the hour allows (or `--max-writes-per-run`)
raises BudgetSpent saying when the next run can continue, and the next run resumes idempotently.
See https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from ccc.client.policy import describe_reset
from ccc.errors import BudgetSpent
from ccc.manager.settings import ManagerSettings

HOUR = 3600.0


def writes_pacer(settings: ManagerSettings, *, dry_run: bool, earlier: Iterable[float] = ()) -> Pacer:
    """The manager's pacer from its settings; a dry run writes nothing, so it is never paced or stopped."""
    if dry_run:
        return Pacer(0)
    return Pacer(
        settings.max_writes_per_minute,
        per_hour=settings.max_writes_per_hour,
        per_run=settings.max_writes_per_run,
        earlier=earlier,
    )


class Pacer:
    """At most `per_minute` writes a minute, evenly spaced; at most `per_hour` in any hour (counting
    `earlier`, the times of writes made by earlier runs); at most `per_run` in this run. 0 means no limit."""

    def __init__(
        self,
        per_minute: int,
        *,
        per_hour: int = 0,
        per_run: int = 0,
        earlier: Iterable[float] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.per_hour = per_hour
        self.per_run = per_run
        self.made = 0
        self._hour: deque[float] = deque(sorted(earlier))
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None

    def wait(self) -> None:
        """Call before each write: sleeps until the write's slot comes, or stops the run (BudgetSpent)."""
        if self.per_run and self.made >= self.per_run:
            raise BudgetSpent(
                f"this run made the {self.per_run} writes it may (--max-writes-per-run); the next run "
                "continues where it stopped, or raise --max-writes-per-run"
            )
        now = self._clock()
        self._check_hour(now)
        if self.interval:
            if self._next_at is not None and now < self._next_at:
                self._sleep(self._next_at - now)
                now = self._next_at
            self._next_at = now + self.interval
        self._hour.append(now)
        self.made += 1

    def _check_hour(self, now: float) -> None:
        while self._hour and self._hour[0] <= now - HOUR:
            self._hour.popleft()
        if self.per_hour and len(self._hour) >= self.per_hour:
            resume_at = self._hour[0] + HOUR
            raise BudgetSpent(
                f"the last hour's writes reached GitHub's limit of {self.per_hour} content-creating "
                f"requests an hour (--max-writes-per-hour); the next run can continue after "
                f"{describe_reset(resume_at)}",
                reset_at=resume_at,
            )
