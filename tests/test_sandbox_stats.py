"""Request counters on their own: what is counted, reset, and the round trip through saved JSON."""

from __future__ import annotations

from ccc.sandbox.stats import Stats


def test_requests_are_counted_by_route_token_status_and_writes():
    stats = Stats()
    stats.count("POST /repos/{owner}/{repo}/issues", "cc01", 201, write=True)
    stats.count("GET /repos/{owner}/{repo}/issues", None, 401, write=False)
    stats.charged("cc01")
    assert stats.to_json() == {
        "total": 2,
        "by_route": {"POST /repos/{owner}/{repo}/issues": 1, "GET /repos/{owner}/{repo}/issues": 1},
        "by_token": {"cc01": 1},
        "by_status": {"201": 1, "401": 1},
        "writes": 1,
        "rate_limit_used": {"cc01": 1},
    }


def test_saved_counters_continue_after_a_restart():
    stats = Stats()
    stats.count("GET /user", "cc01", 200, write=False)
    again = Stats(stats.to_json())
    again.count("GET /user", "cc01", 200, write=False)
    assert again.to_json()["by_route"] == {"GET /user": 2}


def test_reset_clears_every_counter():
    stats = Stats()
    stats.count("GET /user", "cc01", 200, write=False)
    stats.charged("cc01")
    stats.reset()
    assert stats.to_json() == Stats().to_json()
