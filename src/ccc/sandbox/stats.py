"""Request counters of the API (by route template, token and status), as GET /_sandbox/stats shows them."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    def __init__(self, saved: dict | None = None):
        saved = saved or {}
        self.lock = threading.Lock()
        self.total = saved.get("total", 0)
        self.writes = saved.get("writes", 0)
        self.by_route = Counter(saved.get("by_route", {}))
        self.by_token = Counter(saved.get("by_token", {}))
        self.by_status = Counter(saved.get("by_status", {}))
        self.rate_limit_used = Counter(saved.get("rate_limit_used", {}))  # units charged since the last reset

    def count(self, route_key: str, login: str | None, status: int, write: bool) -> None:
        with self.lock:
            self.total += 1
            self.writes += int(write)
            self.by_route[route_key] += 1
            self.by_status[str(status)] += 1
            if login:
                self.by_token[login] += 1

    def charged(self, login: str) -> None:
        with self.lock:
            self.rate_limit_used[login] += 1

    def to_json(self) -> dict:
        with self.lock:
            return {
                "total": self.total,
                "by_route": dict(self.by_route),
                "by_token": dict(self.by_token),
                "by_status": dict(self.by_status),
                "writes": self.writes,
                "rate_limit_used": dict(self.rate_limit_used),
            }

    def reset(self) -> None:
        with self.lock:
            self.total = self.writes = 0
            for counter in (self.by_route, self.by_token, self.by_status, self.rate_limit_used):
                counter.clear()
