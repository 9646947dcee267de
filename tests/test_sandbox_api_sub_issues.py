"""Sub-issues through PyGithub: added by id, listed in order, one parent each, summary counts."""

from __future__ import annotations

import pytest
from github import GithubException

from conftest import api_call


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def test_sub_issues_are_added_by_id_and_listed_in_order(repo):
    parent, first, second = repo.create_issue("parent"), repo.create_issue("one"), repo.create_issue("two")
    parent.add_sub_issue(first.id)
    parent.add_sub_issue(second)
    assert [issue.number for issue in parent.get_sub_issues()] == [first.number, second.number]
    second.edit(state="closed")
    summary = repo.get_issue(parent.number).raw_data["sub_issues_summary"]
    assert summary == {"total": 2, "completed": 1, "percent_completed": 50}


def test_sub_issue_id_must_be_an_issue_id_not_a_number(sandbox, repo):
    parent = repo.create_issue("parent")
    answer = api_call(
        sandbox, "POST", f"/repos/acme/widgets/issues/{parent.number}/sub_issues", body={"sub_issue_id": 424242}
    )
    assert answer.status == 404


def test_issue_with_a_parent_cannot_get_a_second_one(repo):
    one, two, child = repo.create_issue("one"), repo.create_issue("two"), repo.create_issue("child")
    one.add_sub_issue(child.id)
    with pytest.raises(GithubException) as caught:
        two.add_sub_issue(child.id)
    assert caught.value.status == 422


# -- identities and GitHub's limits ---------------------------------------------------------------


def test_ids_are_large_and_distinct_from_numbers_and_a_number_is_not_an_id(sandbox, repo):
    """`sub_issue_id` is "The id of the sub-issue to add. The sub-issue must belong to the same
    repository owner as the parent issue" — the id, not the number
    (https://docs.github.com/en/rest/issues/sub-issues#add-sub-issue); GitHub answers 404 for a
    number (https://github.com/cli/cli/issues/12258)."""
    parent, child = repo.create_issue("parent"), repo.create_issue("child")
    assert child.id > 10**9 and child.id != child.number
    assert child.raw_data["node_id"] != str(child.number)
    answer = api_call(
        sandbox, "POST", f"/repos/acme/widgets/issues/{parent.number}/sub_issues", body={"sub_issue_id": child.number}
    )
    assert answer.status == 404


def test_a_cycle_is_refused(repo):
    """Sub-issues form a tree (https://docs.github.com/en/issues/tracking-your-work-with-issues/
    using-issues/adding-sub-issues); the sandbox's wording of the refusal is its own."""
    top, middle, bottom = repo.create_issue("top"), repo.create_issue("middle"), repo.create_issue("bottom")
    top.add_sub_issue(middle.id)
    middle.add_sub_issue(bottom.id)
    with pytest.raises(GithubException) as caught:
        bottom.add_sub_issue(top.id)
    assert caught.value.status == 422


def test_a_parent_takes_at_most_100_sub_issues(unlimited_sandbox):
    """GitHub: "You can add up to 100 sub-issues per parent issue"
    (https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/adding-sub-issues)."""
    sandbox = unlimited_sandbox
    parent = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"title": "parent"}).body
    path = f"/repos/acme/widgets/issues/{parent['number']}/sub_issues"
    for n in range(100):
        child = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"title": f"c{n}"}).body
        assert api_call(sandbox, "POST", path, body={"sub_issue_id": child["id"]}).status == 201
    extra = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"title": "one too many"}).body
    answer = api_call(sandbox, "POST", path, body={"sub_issue_id": extra["id"]})
    assert answer.status == 422


def test_nesting_stops_at_eight_levels(sandbox, repo):
    """GitHub: "... and create up to eight levels of nested sub-issues"
    (https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/adding-sub-issues)."""
    chain = [repo.create_issue(f"level {n}") for n in range(10)]
    for parent, child in zip(chain[:8], chain[1:9], strict=True):
        parent.add_sub_issue(child.id)  # level 0 holds eight levels below it
    with pytest.raises(GithubException) as caught:
        chain[8].add_sub_issue(chain[9].id)
    assert caught.value.status == 422
