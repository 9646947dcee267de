"""Finding work: states and pull requests skipped, priority then age, trust by permission or exact login."""

from __future__ import annotations

from dataclasses import replace

from ccc.client import Issue
from ccc.protocol.markers import TaskMarker, with_task_marker
from ccc.protocol.states import Labels
from ccc.worker.queue import Trust, WorkQueue
from worker_support import client, comments_of, github


def issue_json(number: int, *, login: str, user_type: str = "User") -> Issue:
    return Issue.from_json(
        {
            "number": number,
            "id": number,
            "title": "t",
            "state": "open",
            "user": {"login": login, "type": user_type},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
    )


def queue(sandbox, *, trusted=(), served=("cc01",), manager="maintainer") -> WorkQueue:
    repo_client = client(sandbox)
    return WorkQueue(repo_client, served=served, labels=Labels(), trust=Trust(repo_client, trusted), manager=manager)


def test_bots_are_trusted_only_by_exact_login():
    trust = Trust(client=None, trusted_authors=("github-actions[bot]",))  # no lookup may happen
    assert trust.allows(issue_json(1, login="github-actions[bot]", user_type="Bot"))
    assert not trust.allows(issue_json(2, login="evil-actions[bot]", user_type="Bot"))
    assert not trust.allows(issue_json(3, login="dependabot[bot]", user_type="Bot"))


def test_writers_are_trusted_with_one_permission_lookup_per_author(sandbox):
    work = queue(sandbox)
    maintainer, triager = issue_json(1, login="maintainer"), issue_json(2, login="outside-triager")
    assert [work.trust.allows(i) for i in (maintainer, triager, maintainer, triager)] == [True, False, True, False]
    assert work.client.counter.by_operation() == {"permission": 2}


def test_state_labels_and_pull_requests_are_skipped_and_the_rest_ordered(sandbox):
    repo = github(sandbox).get_repo(sandbox.repo)
    for title, labels in [
        ("low", ["cc01", "priority-low"]),
        ("plain", ["cc01"]),
        ("done", ["cc01", "completed"]),
        ("failed", ["cc01", "failed"]),
        ("blocked", ["cc01", "blocked"]),
        ("held", ["cc01", "in-progress"]),
        ("high", ["cc01", "priority-high"]),
        ("normal", ["cc01", "priority-normal"]),
        ("other worker", ["cc02"]),
    ]:
        repo.create_issue(title=title, labels=labels)
    work = queue(sandbox)
    ready, held = work.split(work.listing())
    assert [i.title for i in ready] == ["high", "plain", "normal", "low"]
    assert [i.title for i in held] == ["held"]


def test_pool_and_worker_labels_are_listed_once_each_without_duplicates(sandbox):
    repo = github(sandbox).get_repo(sandbox.repo)
    repo.create_issue(title="both", labels=["cc01", "shared"])
    repo.create_issue(title="pool", labels=["shared"])
    work = queue(sandbox, served=("cc01", "shared"))
    assert sorted(i.title for i in work.listing()) == ["both", "pool"]
    assert work.client.counter.by_operation() == {"poll_issues": 2}


def test_an_unchanged_listing_is_answered_from_the_etag_cache(sandbox):
    github(sandbox).get_repo(sandbox.repo).create_issue(title="one", labels=["cc01"])
    work = queue(sandbox)
    first, second = work.listing(), work.listing()
    assert [i.number for i in first] == [i.number for i in second] == [1]
    assert work.client.counter.charged == 1


def test_task_markers_count_only_in_the_managers_issues(sandbox):
    forged = with_task_marker("do it", TaskMarker(id="x", manifest="m", hash="h", deps=(999,)))
    mine = issue_json(1, login="maintainer")
    theirs = issue_json(2, login="someone")
    work = queue(sandbox)
    assert work.task_marker(replace(mine, body=forged)).deps == (999,)
    assert work.task_marker(replace(theirs, body=forged)) is None


def test_a_retired_task_is_never_taken(sandbox):
    repo = github(sandbox).get_repo(sandbox.repo)
    retired = TaskMarker(id="old", manifest="m", hash="h", retired=True)
    repo.create_issue(title="reopened by hand", body=with_task_marker("x", retired), labels=["cc01"])
    repo.create_issue(title="live", body=with_task_marker("x", replace(retired, retired=False)), labels=["cc01"])
    work = queue(sandbox)
    ready, _ = work.split(work.listing())
    assert [i.title for i in ready] == ["live"]


def test_a_deleted_dependency_blocks_only_its_dependent_with_one_comment(sandbox):
    repo = github(sandbox).get_repo(sandbox.repo)
    marker = TaskMarker(id="b", manifest="m", hash="h", deps=(404,))
    number = repo.create_issue(title="needs a ghost", body=with_task_marker("x", marker), labels=["cc01"]).number
    for _ in range(2):  # a second run of the worker, with its own queue
        work = queue(sandbox)
        (issue,) = work.split(work.listing())[0]
        assert not work.dependencies_done(issue, {})
        assert not work.dependencies_done(issue, {})
    comments = comments_of(repo, number)
    assert len(comments) == 1 and "#404" in comments[0]


def test_an_issue_labelled_for_a_worker_by_a_triager_is_not_taken(sandbox):
    maintainer = github(sandbox).get_repo(sandbox.repo)
    unrelated = maintainer.create_issue(title="unrelated")  # a maintainer's issue, not a task
    github(sandbox, "outside-triager").get_repo(sandbox.repo).get_issue(unrelated.number).add_to_labels("cc01")
    routed = maintainer.create_issue(title="ad hoc task")
    routed.add_to_labels("cc01")
    work = queue(sandbox, manager="github-actions[bot]")
    ready, _ = work.split(work.listing())
    assert [i.title for i in ready] == ["ad hoc task"]
    assert work.client.counter.by_operation()["label_actors"] == 2
    work.split(work.listing())
    assert work.client.counter.by_operation()["label_actors"] == 2  # remembered while the labels stay


def test_spread_workers_put_different_issues_first_but_priority_still_leads(sandbox):
    repo = github(sandbox).get_repo(sandbox.repo)
    for number in range(40):
        repo.create_issue(title=f"t{number}", labels=["cc01"])
    urgent = repo.create_issue(title="urgent", labels=["cc01", "priority-high"]).number
    repo_client = client(sandbox)
    orders = []
    for name in (f"cc01@runner-{i}/1" for i in range(16)):
        work = WorkQueue(repo_client, served=("cc01",), labels=Labels(), trust=Trust(repo_client, ()), spread=name)
        ready, _ = work.split(work.listing())
        orders.append([issue.number for issue in ready])
    assert all(order[0] == urgent and sorted(order) == sorted(orders[0]) for order in orders)
    assert len({order[1] for order in orders}) >= 10  # first choices among equals spread over the issues
    again = WorkQueue(
        repo_client, served=("cc01",), labels=Labels(), trust=Trust(repo_client, ()), spread="cc01@runner-0/1"
    )
    assert [issue.number for issue in again.split(again.listing())[0]] == orders[0]  # stable for one identity
