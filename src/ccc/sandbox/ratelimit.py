"""Rate limits: GitHub's hourly primary budgets and the secondary limits on content creation.

Users have 5,000 requests an hour each. The Actions token (a Bot) has 1,000 an hour per
repository, shared by every workflow run using it (budget keys "login@owner/repo"). Content
creation is further limited per token per minute and per hour; GitHub answers those with 403 or
429, with or without Retry-After (`vary`: chosen per refusal from a seeded random source).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

from ccc.sandbox.routing import ApiError

WINDOW_SECONDS = 3600
SECONDARY_WINDOW_SECONDS = 60
SECONDARY_HOUR_SECONDS = 3600
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
    """Budgets per key; `state()` is what the x-ratelimit-* headers and GET /rate_limit show."""

    def __init__(
        self,
        limit: int,
        secondary_limit: int,
        saved: dict | None = None,
        *,
        bot_limit: int | None = None,
        secondary_per_hour: int = 0,
        vary: bool = False,
        seed: int = 0,
    ):
        self.limit = limit
        self.bot_limit = bot_limit
        self.secondary_limit = secondary_limit
        self.secondary_per_hour = secondary_per_hour
        self.vary = vary
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.windows = {login: Window(**window) for login, window in (saved or {}).items()}
        self.recent_writes: dict[str, list[float]] = {}

    def budget_key(self, login: str, is_bot: bool, repo: str) -> str:
        """Whose budget a request spends: a Bot's is per repository (when bots have their own limit)."""
        return f"{login}@{repo}" if is_bot and self.bot_limit is not None else login

    def _limit(self, key: str) -> int:
        return self.bot_limit if "@" in key and self.bot_limit is not None else self.limit

    def _window(self, login: str) -> Window:
        window = self.windows.get(login)
        if window is None or window.reset <= time.time():
            window = self.windows[login] = Window(0, int(time.time()) + WINDOW_SECONDS)
        return window

    def state(self, login: str) -> dict:
        with self.lock:
            window = self._window(login)
            limit = self._limit(login)
            return {
                "limit": limit,
                "used": window.used,
                "remaining": max(limit - window.used, 0),
                "reset": window.reset,
                "resource": "core",
            }

    def spend(self, user_id: int, login: str, request_id: str) -> None:
        """Take one unit of the hourly budget, or answer 403 when it is spent (check and take are atomic)."""
        with self.lock:
            window = self._window(login)
            if window.used >= self._limit(login):
                raise ApiError(403, PRIMARY_MESSAGE.format(user_id=user_id, request_id=request_id), docs_url=RATE_DOCS)
            window.used += 1

    def refund(self, login: str) -> None:
        """Give back a unit: a 304 answer costs nothing."""
        with self.lock:
            window = self._window(login)
            window.used = max(window.used - 1, 0)

    def check_secondary(self, login: str, request_id: str) -> None:
        """Refuse this write when it would exceed the per-minute or per-hour limit; else record it."""
        if self.secondary_limit <= 0 and self.secondary_per_hour <= 0:
            return
        now = time.time()
        with self.lock:
            recent = [at for at in self.recent_writes.get(login, []) if at > now - SECONDARY_HOUR_SECONDS]
            self.recent_writes[login] = recent
            wait = self._secondary_wait(recent, now)
            if wait is not None:
                raise self._refusal(request_id, wait)
            recent.append(now)

    def _secondary_wait(self, recent: list[float], now: float) -> int | None:
        """Seconds until the oldest write leaves the full window; None while there is room."""
        windows = ((self.secondary_limit, SECONDARY_WINDOW_SECONDS), (self.secondary_per_hour, SECONDARY_HOUR_SECONDS))
        for limit, seconds in windows:
            inside = [at for at in recent if at > now - seconds]
            if limit > 0 and len(inside) >= limit:
                return max(math.ceil(inside[0] + seconds - now), 1)
        return None

    def _refusal(self, request_id: str, wait: int) -> ApiError:
        """GitHub's refusal; varied: 403 or 429, and Retry-After only sometimes (call with the lock held)."""
        if not self.vary:
            return secondary_limit_error(request_id, wait)
        status = self.rng.choice((403, 429))
        return secondary_limit_error(request_id, wait if self.rng.random() < 0.5 else None, status=status)

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


def secondary_limit_error(request_id: str, retry_after: int | None, status: int = 403) -> ApiError:
    return ApiError(
        status,
        SECONDARY_MESSAGE.format(request_id=request_id),
        docs_url=RATE_DOCS,
        headers={} if retry_after is None else {"Retry-After": str(retry_after)},
    )
