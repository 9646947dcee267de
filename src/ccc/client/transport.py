"""Request accounting: every HTTP request PyGithub sends is counted under the current operation.

PyGithub lets us substitute its connection classes (`Requester.injectConnectionClasses`); ours
count each request attempt into the counter bound to the calling context, so counts include
retries, pagination and lazy completions — exactly what GitHub charges.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Scope:
    counter: RequestCounter
    operation: str


_scope: ContextVar[_Scope | None] = ContextVar("ccc_request_scope", default=None)


@contextmanager
def counting(counter: RequestCounter, operation: str) -> Iterator[None]:
    """Count the requests made inside this block (in this thread/context) as `operation`."""
    token = _scope.set(_Scope(counter, operation))
    try:
        yield
    finally:
        _scope.reset(token)


def _record(verb: str, status: int | None, headers=None) -> None:
    scope = _scope.get()
    if scope is not None:
        rate = RateLimit.from_headers(headers) if headers is not None else None
        scope.counter.add(scope.operation, status=status, write=verb not in ("GET", "HEAD"), rate=rate)


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
