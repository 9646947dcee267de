"""Request accounting: every HTTP request PyGithub sends is counted under the current operation.

PyGithub lets us substitute its connection classes (`Requester.injectConnectionClasses`); ours
count each request attempt into the counter bound to the calling context, so counts include
retries, pagination and lazy completions — exactly what GitHub charges.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester

from ccc.client.policy import describe_reset


@dataclass(frozen=True)
class RateLimit:
    """The primary rate limit as one answer's `x-ratelimit-*` headers told it."""

    limit: int
    remaining: int
    reset: float  # epoch seconds

    @classmethod
    def from_headers(cls, headers) -> RateLimit | None:
        try:
            return cls(
                int(headers["x-ratelimit-limit"]),
                int(headers["x-ratelimit-remaining"]),
                float(headers["x-ratelimit-reset"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset}


class RequestCounter:
    """Thread-safe tally of requests per operation name, plus 304s (free under GitHub's rate limit),
    and the rate limit as the first and the latest answers of the run reported it (free to know)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._not_modified: Counter[str] = Counter()
        self._writes: Counter[str] = Counter()
        self.first_rate: RateLimit | None = None
        self.rate: RateLimit | None = None

    def add(self, operation: str, *, status: int | None, write: bool, rate: RateLimit | None = None) -> None:
        with self._lock:
            self._requests[operation] += 1
            if status == 304:
                self._not_modified[operation] += 1
            if write:
                self._writes[operation] += 1
            if rate is not None:
                self.first_rate = self.first_rate or rate
                self.rate = rate

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._requests.values())

    @property
    def writes(self) -> int:
        with self._lock:
            return sum(self._writes.values())

    @property
    def charged(self) -> int:
        """Requests that cost rate limit: 304 answers to conditional requests are free."""
        with self._lock:
            return sum(self._requests.values()) - sum(self._not_modified.values())

    def rate_line(self) -> str | None:
        """The rate limit at the run's start and end, for its log; None before any answer carried it."""
        start, end = self.first_rate, self.rate
        if start is None or end is None:
            return None
        return (
            f"rate limit: {start.remaining} of {start.limit} left at start, {end.remaining} at end "
            f"(resets at {describe_reset(end.reset)})"
        )

    def by_operation(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._requests.items()))

    def snapshot(self) -> dict:
        """JSON-ready summary for results, logs and benchmarks."""
        return {
            "total": self.total,
            "charged": self.charged,
            "writes": self.writes,
            "by_operation": self.by_operation(),
            "rate_limit": {
                "start": self.first_rate and self.first_rate.to_json(),
                "end": self.rate and self.rate.to_json(),
            },
        }


class ServerClock:
    """GitHub's clock: the `Date` of its latest answer, moved on by our monotonic clock since it came.

    Leases are stamped and judged by this time, never by the runner's wall clock, which may be minutes
    off. `Date` has whole seconds, so the estimate may run up to a second behind GitHub: an answer
    within that second of the estimate agrees with it and leaves it alone, so the time never steps back.
    """

    RESOLUTION = timedelta(seconds=1)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anchor: tuple[datetime, float] | None = None  # (GitHub's time, our monotonic time then)

    def observe(self, date_header: str | None) -> None:
        try:
            server = parsedate_to_datetime(date_header) if date_header else None
        except (TypeError, ValueError):
            return
        if server is None or server.tzinfo is None:
            return
        with self._lock:
            estimate = self._estimate()
            if estimate is None or server > estimate or estimate - server > self.RESOLUTION:
                self._anchor = (server, time.monotonic())

    def now(self) -> datetime | None:
        """GitHub's time now, or None before any answer carried a `Date`."""
        with self._lock:
            return self._estimate()

    def _estimate(self) -> datetime | None:
        if self._anchor is None:
            return None
        server, seen = self._anchor
        return server + timedelta(seconds=time.monotonic() - seen)


@dataclass(frozen=True)
class _Scope:
    counter: RequestCounter
    operation: str
    clock: ServerClock | None


_scope: ContextVar[_Scope | None] = ContextVar("ccc_request_scope", default=None)


@contextmanager
def counting(counter: RequestCounter, operation: str, clock: ServerClock | None = None) -> Iterator[None]:
    """Count the requests made inside this block (in this thread/context) as `operation`; answers set `clock`."""
    token = _scope.set(_Scope(counter, operation, clock))
    try:
        yield
    finally:
        _scope.reset(token)


def _record(verb: str, status: int | None, headers=None) -> None:
    scope = _scope.get()
    if scope is not None:
        rate = RateLimit.from_headers(headers) if headers is not None else None
        scope.counter.add(scope.operation, status=status, write=verb not in ("GET", "HEAD"), rate=rate)
        if scope.clock is not None and headers is not None:
            scope.clock.observe(headers.get("date"))


_shared_sessions: dict[tuple, object] = {}
_shared_lock = threading.Lock()


class _CountingMixin:
    """Counts each request, and shares one HTTP session per host so connections are kept alive.

    Injecting connection classes makes PyGithub open a new connection for every request (a TLS
    handshake each time on github.com); sharing the session's pool across them restores reuse.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        key = (type(self), self.host, self.port, self.verify, repr(self.retry), self.pool_size)
        with _shared_lock:
            shared = _shared_sessions.setdefault(key, self.session)
        if shared is not self.session:
            self.session.close()
            self.session = shared

    def close(self) -> None:
        """Keep the shared session open: the next connection object to this host reuses its pool."""

    def getresponse(self):  # noqa: ANN201 - mirrors PyGithub's connection API
        try:
            response = super().getresponse()
        except Exception:
            _record(self.verb, None)  # the attempt was made; the server may have seen it
            raise
        _record(self.verb, response.status, response.headers)
        return response


class CountingHTTPConnection(_CountingMixin, HTTPRequestsConnectionClass):
    pass


class CountingHTTPSConnection(_CountingMixin, HTTPSRequestsConnectionClass):
    pass


Requester.injectConnectionClasses(CountingHTTPConnection, CountingHTTPSConnection)
