"""Rate limits on their own: the hourly budget, its reset, the per-minute secondary limit."""

from __future__ import annotations

import time

import pytest

from ccc.sandbox.ratelimit import RateLimiter
from ccc.sandbox.routing import ApiError


def test_budget_counts_down_and_then_refuses():
    limits = RateLimiter(limit=2, secondary_limit=0)
    for _ in range(2):
        limits.check(1, "cc01", "REQ")
        limits.charge("cc01")
    with pytest.raises(ApiError) as caught:
        limits.check(1, "cc01", "REQ")
    assert caught.value.status == 403
    assert caught.value.message.startswith("API rate limit exceeded for user ID 1.")
    assert limits.state("cc01")["remaining"] == 0
    assert limits.state("cc02")["remaining"] == 2  # budgets are per token


def test_expired_window_refills_the_budget():
    limits = RateLimiter(limit=1, secondary_limit=0, saved={"cc01": {"used": 1, "reset": int(time.time()) - 1}})
    assert limits.state("cc01")["used"] == 0


def test_saved_windows_survive_a_round_trip():
    limits = RateLimiter(limit=5, secondary_limit=0)
    limits.charge("cc01")
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
