"""A run's request budget (actions/stale's operations budget): stop cleanly before spending more than allowed.

Two limits, both checked before every request the client makes:
- `max_requests`: requests this run may make at all (`--max-requests`; 0 = no limit);
- `reserve`: units of the hourly rate limit this run never spends, so the token's other users (the other
  workers, the manager, people) keep some (`--rate-limit-reserve`). Known from the last answer's headers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccc.client.policy import describe_reset
from ccc.client.transport import RequestCounter
from ccc.errors import BudgetSpent


@dataclass(frozen=True)
class Budget:
    max_requests: int = 0
    reserve: int = 0

    def check(self, operation: str, counter: RequestCounter) -> None:
        """Raise BudgetSpent, naming the setting to raise, when the next request would overspend."""
        if self.max_requests and counter.total >= self.max_requests:
            raise BudgetSpent(
                f"stopped before {operation}: this run made the {self.max_requests} requests it may "
                "(--max-requests); the next run continues, or raise --max-requests"
            )
        rate = counter.rate
        if self.reserve and rate is not None and rate.remaining <= self.reserve:
            raise BudgetSpent(
                f"stopped before {operation}: {rate.remaining} of {rate.limit} requests left this hour, "
                f"and {self.reserve} are kept in reserve (--rate-limit-reserve); the limit resets at "
                f"{describe_reset(rate.reset)}; lower --rate-limit-reserve to spend more of it",
                reset_at=rate.reset,
            )
