"""Issues through PyGithub: create/get/update, list filters, labels, assignees, shapes."""

from __future__ import annotations

import time

import pytest
from github import GithubException

from conftest import api_call, github_client, github_schema


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def test_created_issue_has_githubs_shape(sandbox, repo):
    issue = repo.create_issue("First", body="details", labels=["bug"], assignees=["maintainer"])
    assert (issue.number, issue.title, issue.body, issue.state) == (1, "First", "details", "open")
    assert issue.user.login == "maintainer"
    assert [label.name for label in issue.labels] == ["bug"]
    assert [user.login for user in issue.assignees] == ["maintainer"]
    assert issue.html_url == f"{sandbox.git_url}/acme/widgets/issues/1"
    assert issue.url == f"{sandbox.api_url}/repos/acme/widgets/issues/1"
    assert issue.raw_data["author_association"] == "MEMBER"
    assert "pull_request" not in issue.raw_data
    github_schema("Issue").model_validate(issue.raw_data)
    github_schema("Issue").model_validate(repo.get_issue(1).raw_data)


def test_labels_named_on_create_are_created_when_missing(repo):
    repo.create_issue("needs new label", labels=["ccc/queued"])
    assert repo.get_label("ccc/queued").color == "ededed"


def test_missing_title_is_validation_failed(sandbox):
    answer = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"body": "no title"})
    assert answer.status == 422
    assert answer.body["errors"] == [{"resource": "Issue", "field": "title", "code": "missing_field"}]


def test_unknown_assignee_on_create_is_validation_failed(repo):
    with pytest.raises(GithubException) as caught:
        repo.create_issue("x", assignees=["nobody-here"])
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["field"] == "assignees"


def test_author_association_follows_the_authors_relation(sandbox, repo):
    by_triager = github_client(sandbox, "outside-triager").get_repo("acme/widgets").create_issue("t")
    by_bot = github_client(sandbox, "github-actions[bot]").get_repo("acme/widgets").create_issue("b")
    assert by_triager.raw_data["author_association"] == "COLLABORATOR"
    assert by_bot.raw_data["author_association"] == "NONE"
    assert by_bot.user.type == "Bot" and by_bot.user.login == "github-actions[bot]"


def test_update_changes_title_body_labels_and_assignees(repo):
    issue = repo.create_issue("old", body="old body", labels=["bug"])
    issue.edit(title="new", body="new body", labels=["question", "ccc/claimed"], assignees=["outside-triager"])
    fresh = repo.get_issue(issue.number)
    assert (fresh.title, fresh.body) == ("new", "new body")
    assert sorted(label.name for label in fresh.labels) == ["ccc/claimed", "question"]
    assert [user.login for user in fresh.assignees] == ["outside-triager"]


def test_close_and_reopen_set_state_reason_closed_at_and_closed_by(repo):
    issue = repo.create_issue("to close")
    issue.edit(state="closed", state_reason="not_planned")
    closed = repo.get_issue(issue.number)
    assert (closed.state, closed.state_reason, closed.closed_by.login) == ("closed", "not_planned", "maintainer")
    assert closed.closed_at is not None
    closed.edit(state="open")
    reopened = repo.get_issue(issue.number)
    assert (reopened.state, reopened.state_reason, reopened.closed_at) == ("open", "reopened", None)
    repo.get_issue(issue.number).edit(state="closed")
    assert repo.get_issue(issue.number).state_reason == "completed"


def test_invalid_state_is_validation_failed(sandbox, repo):
    repo.create_issue("x")
    answer = api_call(sandbox, "PATCH", "/repos/acme/widgets/issues/1", body={"state": "done"})
    assert answer.status == 422


def test_unknown_issue_is_not_found(repo):
    with pytest.raises(GithubException) as caught:
        repo.get_issue(99)
    assert caught.value.status == 404


# -- listing --------------------------------------------------------------------------------------


def test_list_filters_by_state_labels_assignee_and_creator(sandbox, repo):
    repo.create_issue("a", labels=["bug", "question"], assignees=["maintainer"])
    repo.create_issue("b", labels=["bug"])
    github_client(sandbox, "outside-triager").get_repo("acme/widgets").create_issue("c")
    repo.create_issue("d").edit(state="closed")

    def titles(**filters) -> list[str]:
        return [issue.title for issue in repo.get_issues(**filters)]

    assert titles() == ["c", "b", "a"]
    assert titles(state="closed") == ["d"]
    assert titles(state="all") == ["d", "c", "b", "a"]
    assert titles(labels=["bug", "question"]) == ["a"]  # comma-separated labels must all be present
    assert titles(labels=["bug"]) == ["b", "a"]
    assert titles(assignee="maintainer") == ["a"]
    assert titles(assignee="none") == ["c", "b"]
    assert titles(assignee="*") == ["a"]
    assert titles(creator="outside-triager") == ["c"]


def test_list_sorts_and_filters_by_update_time(sandbox, repo):
    first, second = repo.create_issue("first"), repo.create_issue("second")
    time.sleep(1.1)  # timestamps have one-second resolution, as on GitHub
    first.create_comment("bump")
    cutoff = repo.get_issue(first.number).updated_at
    assert [i.title for i in repo.get_issues(sort="updated")] == ["first", "second"]
    assert [i.title for i in repo.get_issues(sort="created", direction="asc")] == ["first", "second"]
    assert [i.title for i in repo.get_issues(sort="comments")] == ["first", "second"]
    assert [i.title for i in repo.get_issues(since=cutoff)] == ["first"]
    assert second.number == 2


def test_list_pages_with_githubs_link_header(sandbox, repo):
    for n in range(5):
        repo.create_issue(f"i{n}")
    base = f"{sandbox.api_url}/repos/acme/widgets/issues"
    first = api_call(sandbox, "GET", "/repos/acme/widgets/issues?per_page=2")
    assert first.headers["link"] == (f'<{base}?per_page=2&page=2>; rel="next", <{base}?per_page=2&page=3>; rel="last"')
    middle = api_call(sandbox, "GET", "/repos/acme/widgets/issues?per_page=2&page=2")
    assert middle.headers["link"] == (
        f'<{base}?per_page=2&page=1>; rel="prev", '
        f'<{base}?per_page=2&page=3>; rel="next", '
        f'<{base}?per_page=2&page=3>; rel="last", '
        f'<{base}?per_page=2&page=1>; rel="first"'
    )
    assert [issue["number"] for issue in middle.body] == [3, 2]
    assert len(list(repo.get_issues())) == 5


def test_per_page_is_capped_at_100(sandbox):
    answer = api_call(sandbox, "GET", "/repos/acme/widgets/issues?per_page=500")
    assert answer.status == 200 and "link" not in answer.headers


# -- issue labels and assignees -------------------------------------------------------------------


def test_issue_labels_are_added_set_and_removed(repo):
    issue = repo.create_issue("labels")
    issue.add_to_labels("bug", "ccc/new-one")
    assert sorted(label.name for label in issue.get_labels()) == ["bug", "ccc/new-one"]
    issue.set_labels("question")
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["question"]
    issue.remove_from_labels("question")
    assert list(repo.get_issue(issue.number).labels) == []
    issue.add_to_labels("bug", "wontfix")
    issue.delete_labels()
    assert list(repo.get_issue(issue.number).labels) == []


def test_removing_a_label_the_issue_does_not_have_is_not_found(repo):
    issue = repo.create_issue("labels", labels=["bug"])
    with pytest.raises(GithubException) as caught:
        issue.remove_from_labels("question")
    assert caught.value.status == 404
    assert caught.value.data["message"] == "Label does not exist"


def test_assignees_are_added_and_removed(repo):
    issue = repo.create_issue("assign")
    issue.add_to_assignees("maintainer", "outside-triager")
    assert sorted(user.login for user in repo.get_issue(issue.number).assignees) == ["maintainer", "outside-triager"]
    issue.remove_from_assignees("maintainer")
    assert [user.login for user in repo.get_issue(issue.number).assignees] == ["outside-triager"]


def test_since_accepts_offsets_and_refuses_what_is_not_a_time(sandbox, repo):
    repo.create_issue("recent")
    assert len(api_call(sandbox, "GET", "/repos/acme/widgets/issues?since=2000-01-01T01:00:00%2B01:00").body) == 1
    assert api_call(sandbox, "GET", "/repos/acme/widgets/issues?since=2999-01-01T00:00:00Z").body == []
    assert api_call(sandbox, "GET", "/repos/acme/widgets/issues?since=yesterday").status == 422


# -- GitHub's caps and roles --------------------------------------------------------------------


def test_body_over_65536_characters_and_title_over_256_are_refused(sandbox, repo):
    """GitHub answers 422 "body is too long (maximum is 65536 characters)" (issues, pull requests and
    comments; https://docs.github.com/en/rest/issues/issues#create-an-issue lists 422 Validation
    failed) and caps titles at 256 characters."""
    long_body = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"title": "t", "body": "x" * 65537})
    assert long_body.status == 422
    assert long_body.body["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    long_title = api_call(sandbox, "POST", "/repos/acme/widgets/issues", body={"title": "t" * 257})
    assert long_title.body["errors"][0]["message"] == "title is too long (maximum is 256 characters)"
    issue = repo.create_issue("fits", body="x" * 65536)
    comments = f"/repos/acme/widgets/issues/{issue.number}/comments"
    comment = api_call(sandbox, "POST", comments, body={"body": "y" * 65537})
    assert comment.status == 422
    assert api_call(sandbox, "PATCH", "/repos/acme/widgets/issues/1", body={"body": "z" * 65537}).status == 422


def test_a_reader_may_open_an_issue_but_its_labels_and_assignees_are_dropped(sandbox):
    """GitHub: "Any user with pull access to a repository can create an issue"; "Only users with push
    access can set labels for new issues. Labels are silently dropped otherwise" (same for
    assignees): https://docs.github.com/en/rest/issues/issues#create-an-issue"""
    answer = api_call(
        sandbox,
        "POST",
        "/repos/acme/widgets/issues",
        login="outside-reader",
        body={"title": "from a reader", "labels": ["bug"], "assignees": ["maintainer"]},
    )
    assert answer.status == 201
    assert (answer.body["labels"], answer.body["assignees"]) == ([], [])


def test_a_triager_cannot_edit_a_maintainers_issue_text_but_may_label_and_close_it(sandbox, repo):
    """Triage may "apply/dismiss labels" and "close, reopen, and assign all issues"; editing others'
    issue text needs write (https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization#permissions-for-each-role)."""
    issue = repo.create_issue("maintainer's", body="original")
    triager = github_client(sandbox, "outside-triager").get_repo("acme/widgets").get_issue(issue.number)
    with pytest.raises(GithubException) as caught:
        triager.edit(body="rewritten")
    assert caught.value.status == 403
    triager.edit(labels=["bug"], state="closed")
    fresh = repo.get_issue(issue.number)
    assert (fresh.body, fresh.state, [label.name for label in fresh.labels]) == ("original", "closed", ["bug"])
    own = github_client(sandbox, "outside-triager").get_repo("acme/widgets").create_issue("mine")
    own.edit(body="my own text")  # authors may edit their own issues
    assert repo.get_issue(own.number).body == "my own text"


def test_state_reason_without_a_change_of_state_is_ignored(repo):
    """`state_reason`: "The reason for the state change. Ignored unless `state` is changed."
    (https://docs.github.com/en/rest/issues/issues#update-an-issue)"""
    issue = repo.create_issue("open one")
    issue.edit(state_reason="not_planned")
    assert repo.get_issue(issue.number).state_reason is None
    issue.edit(state="closed", state_reason="not_planned")
    issue.edit(state="closed", state_reason="completed")
    assert repo.get_issue(issue.number).state_reason == "not_planned"
