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
