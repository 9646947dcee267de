"""How each failed request is handled: retried, waited out, reconciled, or reported.

PyGithub's default retry replays POSTs after a 5xx, which duplicates issues and comments when the
server had applied the first attempt. We disable it and decide here instead:
- 5xx / connection errors: replay only requests declared replay-safe; otherwise the outcome is
  ambiguous and the caller must read back (AmbiguousWriteError).
- 429 and secondary rate limits: the request was not applied; wait `Retry-After` when GitHub sends it,
  else at least a minute, doubling with jitter on each repeat; replay. Once the waits of one request would
  pass `max_rate_limit_wait_seconds` (`--max-wait`), stop with the time to try again (exit 3): never an
  endless loop. This is GitHub's advice:
  https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
- primary rate limit spent: wait for `x-ratelimit-reset` if that is soon enough, else stop with a clear error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries of a replay-safe request
    backoff_seconds: float = 0.5  # doubled each retry
    max_backoff_seconds: float = 8.0
    # Longest a request waits out rate limits, all its waits together, before we stop (--max-wait).
    max_rate_limit_wait_seconds: float = 300.0
    secondary_default_wait_seconds: float = 60.0  # GitHub's advice when no Retry-After is sent: at least a minute
    secondary_jitter: float = 0.25  # each default wait is lengthened by up to this share, so clients spread out
    # Listings can lag behind writes (replicas); a read-back that misses is retried after these pauses
    # before the write is believed not to have happened.
    read_back_delays: tuple[float, ...] = (1.0, 2.0)

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_seconds * (2 ** (attempt - 1)), self.max_backoff_seconds)

    def secondary_wait(self, repeat: int, jitter: float) -> float:
        """The wait before the `repeat`-th replay (1, 2, …) after a secondary limit without Retry-After;
        `jitter` in [0, 1)."""
        return self.secondary_default_wait_seconds * (2 ** (repeat - 1)) * (1 + self.secondary_jitter * jitter)


@dataclass(frozen=True)
class RateLimitWait:
    seconds: float
    primary: bool  # primary (hourly budget) or secondary/429
    reset_at: float | None


def rate_limit_wait(
    status: int,
    headers: dict[str, str],
    message: str,
    policy: RetryPolicy,
    now: float | None = None,
    *,
    repeat: int = 1,
    jitter: Callable[[], float] = random.random,
) -> RateLimitWait | None:
    """How long to wait before replaying, if this answer is a rate limit; None otherwise.

    `repeat` counts the rate-limited answers this request has had so far (1 for the first)."""
    if status not in (403, 429):
        return None
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    retry_after = lower.get("retry-after")
    text = (message or "").lower()
    if retry_after is not None:
        return RateLimitWait(float(retry_after), primary=False, reset_at=None)
    if lower.get("x-ratelimit-remaining") == "0" or text.startswith("api rate limit exceeded"):
        reset = float(lower.get("x-ratelimit-reset") or now + 3600)
        return RateLimitWait(max(reset - now, 0.0) + 1.0, primary=True, reset_at=reset)
    if status == 429 or "secondary rate limit" in text:
        return RateLimitWait(policy.secondary_wait(repeat, jitter()), primary=False, reset_at=None)
    return None


def describe_reset(reset_at: float | None) -> str:
    if reset_at is None:
        return "later"
    return datetime.fromtimestamp(reset_at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
