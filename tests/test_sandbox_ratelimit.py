"""Rate limits on their own: the hourly budget, its reset, the per-minute secondary limit."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ccc.sandbox.ratelimit import RateLimiter
from ccc.sandbox.routing import ApiError


def test_budget_counts_down_and_then_refuses():
    limits = RateLimiter(limit=2, secondary_limit=0)
    for _ in range(2):
        limits.spend(1, "cc01", "REQ")
    with pytest.raises(ApiError) as caught:
        limits.spend(1, "cc01", "REQ")
    assert caught.value.status == 403
    assert caught.value.message.startswith("API rate limit exceeded for user ID 1.")
    assert limits.state("cc01")["remaining"] == 0
    assert limits.state("cc02")["remaining"] == 2  # budgets are per token


def test_refund_gives_a_unit_back():
    limits = RateLimiter(limit=1, secondary_limit=0)
    limits.spend(1, "cc01", "REQ")
    limits.refund("cc01")
    limits.spend(1, "cc01", "REQ")
    assert limits.state("cc01")["used"] == 1


def test_concurrent_spending_never_exceeds_the_budget():
    limits = RateLimiter(limit=50, secondary_limit=0)

    def try_spend(_: int) -> bool:
        try:
            limits.spend(1, "cc01", "REQ")
        except ApiError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sum(pool.map(try_spend, range(200))) == 50


def test_expired_window_refills_the_budget():
    limits = RateLimiter(limit=1, secondary_limit=0, saved={"cc01": {"used": 1, "reset": int(time.time()) - 1}})
    assert limits.state("cc01")["used"] == 0


def test_saved_windows_survive_a_round_trip():
    limits = RateLimiter(limit=5, secondary_limit=0)
    limits.spend(1, "cc01", "REQ")
    again = RateLimiter(limit=5, secondary_limit=0, saved=limits.saved())
    assert again.state("cc01") == limits.state("cc01")


def test_secondary_limit_refuses_the_write_past_n_per_minute():
    limits = RateLimiter(limit=100, secondary_limit=2)
    limits.check_secondary("cc01", "REQ")
    limits.check_secondary("cc01", "REQ")
    with pytest.raises(ApiError) as caught:
        limits.check_secondary("cc01", "REQ")
    assert caught.value.status == 403
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 60
    limits.check_secondary("cc02", "REQ")


def test_secondary_limit_zero_is_off():
    limits = RateLimiter(limit=100, secondary_limit=0)
    for _ in range(50):
        limits.check_secondary("cc01", "REQ")
