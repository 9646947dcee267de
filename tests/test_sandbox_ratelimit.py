"""Rate limits: hourly budgets (users, the Actions token per repository), their reset, secondary limits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ccc.sandbox.process import SandboxProcess
from ccc.sandbox.ratelimit import RateLimiter
from ccc.sandbox.routing import ApiError
from conftest import api_call


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


# -- GitHub's budgets in the realistic profile ------------------------------------------------------


def test_the_actions_token_has_1000_an_hour_per_repository_shared_by_its_runs():
    """GitHub: "The rate limit for GITHUB_TOKEN is 1,000 requests per hour per repository"
    (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#primary-rate-limit-for-github_token-in-github-actions);
    users have 5,000 an hour."""
    limits = RateLimiter(limit=5000, secondary_limit=0, bot_limit=1000)
    bot = limits.budget_key("github-actions[bot]", True, "acme/widgets")
    for _ in range(1000):
        limits.spend(41898282, bot, "REQ")
    with pytest.raises(ApiError) as caught:
        limits.spend(41898282, bot, "REQ")
    assert caught.value.status == 403
    other_repo = limits.budget_key("github-actions[bot]", True, "acme/gadgets")
    assert limits.state(other_repo)["remaining"] == 1000
    assert limits.state(limits.budget_key("maintainer", False, "acme/widgets"))["limit"] == 5000


def test_secondary_limits_count_per_minute_and_per_hour():
    """GitHub: "No more than 80 content-generating requests per minute and no more than 500
    content-generating requests per hour" (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits)."""
    limits = RateLimiter(limit=5000, secondary_limit=80, secondary_per_hour=500)
    for _ in range(80):
        limits.check_secondary("cc01", "REQ")
    with pytest.raises(ApiError):
        limits.check_secondary("cc01", "REQ")
    hourly = RateLimiter(limit=5000, secondary_limit=0, secondary_per_hour=500)
    now = time.time()
    hourly.recent_writes["cc01"] = [now - 600 - n for n in range(500)]  # 500 writes earlier this hour
    with pytest.raises(ApiError) as caught:
        hourly.check_secondary("cc01", "REQ")
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 3600


def test_varied_refusals_are_403_or_429_with_or_without_retry_after():
    """GitHub: "you will receive a 403 or 429 response"; "If the retry-after response header is present …
    Otherwise … wait for at least one minute" (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit)."""
    limits = RateLimiter(limit=5000, secondary_limit=1, vary=True, seed=1)
    seen = set()
    for n in range(40):
        limits.check_secondary(f"user{n}", "REQ")
        with pytest.raises(ApiError) as caught:
            limits.check_secondary(f"user{n}", "REQ")
        seen.add((caught.value.status, "Retry-After" in caught.value.headers))
        assert caught.value.message.startswith("You have exceeded a secondary rate limit")
    assert seen == {(403, True), (403, False), (429, True), (429, False)}


def test_realistic_profile_shows_the_actions_tokens_budget_per_repository(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", profile="realistic") as sandbox:
        sandbox.lag(0)
        bot = api_call(sandbox, "GET", "/repos/acme/widgets/issues", login="github-actions[bot]")
        user = api_call(sandbox, "GET", "/repos/acme/widgets/issues")
    assert (bot.headers["x-ratelimit-limit"], bot.headers["x-ratelimit-used"]) == ("1000", "1")
    assert user.headers["x-ratelimit-limit"] == "5000"
