"""Which failed answers are waited out, and for how long."""

from __future__ import annotations

from ccc.client.policy import RetryPolicy, describe_reset, rate_limit_wait

POLICY = RetryPolicy()


def test_retry_after_header_wins():
    wait = rate_limit_wait(403, {"Retry-After": "30"}, "You have exceeded a secondary rate limit", POLICY)
    assert wait.seconds == 30 and not wait.primary


def test_primary_limit_waits_until_reset():
    wait = rate_limit_wait(
        403,
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"},
        "API rate limit exceeded for user ID 1.",
        POLICY,
        now=1000,
    )
    assert wait.primary and wait.seconds == 101 and wait.reset_at == 1100


def test_secondary_limit_without_retry_after_waits_a_minute_then_doubles_with_jitter():
    message = "You have exceeded a secondary rate limit."
    waits = [rate_limit_wait(403, {}, message, POLICY, repeat=n, jitter=lambda: 0.0).seconds for n in (1, 2, 3)]
    assert waits == [60, 120, 240]
    assert rate_limit_wait(403, {}, message, POLICY, repeat=1, jitter=lambda: 0.5).seconds == 67.5


def test_too_many_requests_is_a_rate_limit():
    assert rate_limit_wait(429, {}, "", POLICY) is not None


def test_permission_denied_is_not_a_rate_limit():
    assert rate_limit_wait(403, {"x-ratelimit-remaining": "4000"}, "Resource not accessible", POLICY) is None
    assert rate_limit_wait(502, {}, "", POLICY) is None


def test_backoff_doubles_up_to_a_cap():
    policy = RetryPolicy(backoff_seconds=1, max_backoff_seconds=3)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 3, 3]


def test_reset_time_is_shown_in_utc():
    assert describe_reset(0) == "1970-01-01 00:00:00 UTC"
    assert describe_reset(None) == "later"
