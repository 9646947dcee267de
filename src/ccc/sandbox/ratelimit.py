"""Per-token rate limits: GitHub's hourly primary budget and the per-minute secondary limit on writes."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ccc.sandbox.routing import ApiError

WINDOW_SECONDS = 3600
SECONDARY_WINDOW_SECONDS = 60
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
# Rendered when a token's hourly budget is spent (GitHub's wording; PyGithub keys on its start).
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID {user_id}. If you reach out to GitHub Support for "
    "help, please include the request ID {request_id}."
)
# Rendered when a token creates content faster than the secondary limit allows.
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "{request_id}."
)


@dataclass
class Window:
    used: int
    reset: int  # epoch seconds when the budget refills


class RateLimiter:
    """Budgets per login; `state()` is what the x-ratelimit-* headers and GET /rate_limit show."""

    def __init__(self, limit: int, secondary_limit: int, saved: dict | None = None):
        self.limit = limit
        self.secondary_limit = secondary_limit
        self.lock = threading.Lock()
        self.windows = {login: Window(**window) for login, window in (saved or {}).items()}
        self.recent_writes: dict[str, list[float]] = {}

    def _window(self, login: str) -> Window:
        window = self.windows.get(login)
        if window is None or window.reset <= time.time():
            window = self.windows[login] = Window(0, int(time.time()) + WINDOW_SECONDS)
        return window

    def state(self, login: str) -> dict:
        with self.lock:
            window = self._window(login)
            return {
                "limit": self.limit,
                "used": window.used,
                "remaining": max(self.limit - window.used, 0),
                "reset": window.reset,
                "resource": "core",
            }

    def spend(self, user_id: int, login: str, request_id: str) -> None:
        """Take one unit of the hourly budget, or answer 403 when it is spent (check and take are atomic)."""
        with self.lock:
            window = self._window(login)
            if window.used >= self.limit:
                raise ApiError(403, PRIMARY_MESSAGE.format(user_id=user_id, request_id=request_id), docs_url=RATE_DOCS)
            window.used += 1

    def refund(self, login: str) -> None:
        """Give back a unit: a 304 answer costs nothing."""
        with self.lock:
            window = self._window(login)
            window.used = max(window.used - 1, 0)

    def check_secondary(self, login: str, request_id: str) -> None:
        """403 with Retry-After when this write would exceed the per-minute limit; else record it."""
        if self.secondary_limit <= 0:
            return
        now = time.time()
        with self.lock:
            recent = [at for at in self.recent_writes.get(login, []) if at > now - SECONDARY_WINDOW_SECONDS]
            self.recent_writes[login] = recent
            if len(recent) >= self.secondary_limit:
                wait = math.ceil(recent[0] + SECONDARY_WINDOW_SECONDS - now)
                raise secondary_limit_error(request_id, max(wait, 1))
            recent.append(now)

    def used_by_login(self) -> dict[str, int]:
        with self.lock:
            return {login: window.used for login, window in self.windows.items()}

    def saved(self) -> dict:
        with self.lock:
            return {login: {"used": w.used, "reset": w.reset} for login, w in self.windows.items()}

    def reset(self) -> None:
        with self.lock:
            self.windows.clear()
            self.recent_writes.clear()


def secondary_limit_error(request_id: str, retry_after: int) -> ApiError:
    """403 for a secondary limit; `retry_after` 0 sends no Retry-After (GitHub does not always send one)."""
    return ApiError(
        403,
        SECONDARY_MESSAGE.format(request_id=request_id),
        docs_url=RATE_DOCS,
        headers={"Retry-After": str(retry_after)} if retry_after else {},
    )
