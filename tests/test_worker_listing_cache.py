"""The worker's listing cache on disk: idle scheduled polls after the first cost nothing, and a missing,
corrupt or stale cache only costs a fuller listing, never a wrong answer.

GitHub does not charge a conditional request answered 304:
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate
"""

from __future__ import annotations

import json

from ccc.worker.listing_cache import ListingCache, cache_dir_default
from ccc.worker.result import Status
from ccc.worker.run import run
from worker_support import github, settings


def blocked_issue(sandbox) -> int:
    repo = github(sandbox).get_repo(sandbox.repo)
    return repo.create_issue(title="Later", body="waits", labels=["cc01", "blocked"]).number


def test_an_idle_once_poll_after_the_first_is_a_free_304(sandbox, tmp_path):
    blocked_issue(sandbox)
    once = settings(sandbox, tmp_path, cache_dir=tmp_path / "cache")

    first = run(once)
    second = run(once)

    assert first.status is second.status is Status.IDLE
    assert first.requests["charged"] == 1
    assert second.requests["total"] == 1 and second.requests["charged"] == 0
    assert sandbox.stats()["rate_limit_used"]["github-actions[bot]"] == 1


def test_a_corrupt_cache_means_a_full_listing_and_is_rewritten(sandbox, tmp_path):
    blocked_issue(sandbox)
    once = settings(sandbox, tmp_path, cache_dir=tmp_path / "cache")
    run(once)
    (path,) = (tmp_path / "cache").iterdir()
    path.write_text('{"version": 1, "label": "cc01", "issues": [{"number": "x"}]')

    again = run(once)

    assert again.status is Status.IDLE and again.requests["charged"] == 1
    assert json.loads(path.read_text())["label"] == "cc01"
    assert run(once).requests["charged"] == 0


def test_a_stale_cache_catches_up_with_what_changed_and_takes_the_new_task(sandbox, tmp_path):
    blocked_issue(sandbox)
    once = settings(sandbox, tmp_path, cache_dir=tmp_path / "cache")
    run(once)
    repo = github(sandbox).get_repo(sandbox.repo)
    number = repo.create_issue(title="Add a greeting", body="target: hello.txt", labels=["cc01"]).number

    result = run(once)

    assert result.status is Status.DELIVERED and result.tasks[0].issue == number


def test_an_unwritable_cache_dir_costs_requests_not_the_run(sandbox, tmp_path):
    blocked_issue(sandbox)
    (tmp_path / "file").write_text("not a directory")
    result = run(settings(sandbox, tmp_path, cache_dir=tmp_path / "file" / "cache"))
    assert result.status is Status.IDLE


def test_views_are_kept_per_api_repository_and_label():
    one = ListingCache(tmp := cache_dir_default({"RUNNER_TOOL_CACHE": "/opt/tools"}), api_url="a", repo="o/r")
    assert tmp.as_posix() == "/opt/tools/ccc/listings"
    other_repo = ListingCache(tmp, api_url="a", repo="o/s")
    assert len({one.path("cc01"), one.path("cc02"), other_repo.path("cc01")}) == 3
