"""Issue comments through PyGithub: create, list (since, pages), get, edit, delete, shape."""

from __future__ import annotations

import time

import pytest
from github import GithubException

from conftest import api_call, github_schema


@pytest.fixture
def issue(github):
    return github.get_repo("acme/widgets").create_issue("discussion")


def test_comment_is_created_with_githubs_shape_and_counted_on_the_issue(sandbox, github, issue):
    comment = issue.create_comment("hello")
    assert comment.body == "hello" and comment.user.login == "maintainer"
    assert comment.html_url == f"{sandbox.git_url}/acme/widgets/issues/1#issuecomment-{comment.id}"
    assert comment.raw_data["issue_url"] == issue.url
    github_schema("IssueComment").model_validate(comment.raw_data)
    assert github.get_repo("acme/widgets").get_issue(1).comments == 1


def test_comments_are_listed_oldest_first_across_pages(sandbox, issue):
    for n in range(4):
        issue.create_comment(f"c{n}")
    page = api_call(sandbox, "GET", "/repos/acme/widgets/issues/1/comments?per_page=3")
    assert [comment["body"] for comment in page.body] == ["c0", "c1", "c2"]
    assert 'rel="next"' in page.headers["link"]
    assert [comment.body for comment in issue.get_comments()] == ["c0", "c1", "c2", "c3"]


def test_comments_since_a_time_are_only_the_newer_ones(issue):
    issue.create_comment("old")
    time.sleep(1.1)  # timestamps have one-second resolution, as on GitHub
    newer = issue.create_comment("new")
    assert [comment.body for comment in issue.get_comments(since=newer.created_at)] == ["new"]


def test_comment_is_read_edited_and_deleted_by_id(github, issue):
    repo = github.get_repo("acme/widgets")
    comment = issue.create_comment("draft")
    comment.edit("final")
    assert repo.get_issue(1).get_comment(comment.id).body == "final"
    comment.delete()
    with pytest.raises(GithubException) as caught:
        repo.get_issue(1).get_comment(comment.id)
    assert caught.value.status == 404
    assert repo.get_issue(1).comments == 0


def test_empty_comment_body_is_validation_failed(sandbox, issue):
    answer = api_call(sandbox, "POST", "/repos/acme/widgets/issues/1/comments", body={})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "body"


def test_comment_on_missing_issue_is_not_found(sandbox):
    answer = api_call(sandbox, "POST", "/repos/acme/widgets/issues/7/comments", body={"body": "x"})
    assert answer.status == 404
