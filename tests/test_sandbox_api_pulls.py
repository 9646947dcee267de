"""Pull requests through PyGithub against real refs: create, validation, list filters, shared numbers."""

from __future__ import annotations

import pytest
from github import GithubException

from conftest import github_client, github_schema


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


def make_branch(repo, name: str) -> str:
    """A branch one commit ahead of main, made through the git data API."""
    main = repo.get_git_commit(repo.get_branch("main").commit.sha)
    commit = repo.create_git_commit(f"work on {name}", main.tree, [main])
    repo.create_git_ref(f"refs/heads/{name}", commit.sha)
    return commit.sha


def test_pull_request_is_created_with_githubs_shape(sandbox, repo):
    sha = make_branch(repo, "feature")
    pull = repo.create_pull(title="Feature", body="does things", head="feature", base="main", draft=True)
    assert (pull.number, pull.title, pull.state, pull.draft, pull.merged) == (1, "Feature", "open", True, False)
    assert (pull.head.ref, pull.head.sha, pull.base.ref) == ("feature", sha, "main")
    assert pull.head.label == "acme:feature"
    assert pull.html_url == f"{sandbox.git_url}/acme/widgets/pull/1"
    github_schema("PullRequest").model_validate(pull.raw_data)
    github_schema("PullRequest").model_validate(repo.get_pull(1).raw_data)


def test_pulls_share_the_issue_number_sequence_and_appear_in_the_issue_list(repo):
    repo.create_issue("an issue")
    make_branch(repo, "feature")
    pull = repo.create_pull(title="PR", body="", head="acme:feature", base="main")
    repo.create_issue("another issue")
    assert pull.number == 2
    listed = {issue.number: issue for issue in repo.get_issues()}
    assert sorted(listed) == [1, 2, 3]
    assert listed[2].raw_data["pull_request"]["url"] == pull.url
    assert listed[2].pull_request is not None and listed[1].pull_request is None
    assert repo.get_issue(2).html_url.endswith("/pull/2")


def test_second_open_pull_for_the_same_head_is_refused(repo):
    make_branch(repo, "feature")
    repo.create_pull(title="one", body="", head="feature", base="main")
    with pytest.raises(GithubException) as caught:
        repo.create_pull(title="two", body="", head="feature", base="main")
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["message"] == "A pull request already exists for acme:feature."


def test_closed_pull_frees_its_head_for_a_new_one(repo):
    make_branch(repo, "feature")
    first = repo.create_pull(title="one", body="", head="feature", base="main")
    first.edit(state="closed")
    assert repo.create_pull(title="two", body="", head="feature", base="main").number == 2


def test_head_without_new_commits_is_no_commits_between(repo):
    repo.create_git_ref("refs/heads/same", repo.get_branch("main").commit.sha)
    with pytest.raises(GithubException) as caught:
        repo.create_pull(title="empty", body="", head="same", base="main")
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["message"] == "No commits between main and same"


def test_missing_head_or_base_branch_is_validation_failed(repo):
    make_branch(repo, "feature")
    for head, base, field in (("ghost", "main", "head"), ("feature", "ghost", "base")):
        with pytest.raises(GithubException) as caught:
            repo.create_pull(title="x", body="", head=head, base=base)
        assert caught.value.status == 422
        assert caught.value.data["errors"][0]["field"] == field


def test_pulls_are_listed_by_state_head_and_base(repo):
    make_branch(repo, "one")
    make_branch(repo, "two")
    repo.create_pull(title="one", body="", head="one", base="main")
    repo.create_pull(title="two", body="", head="two", base="main").edit(state="closed")
    assert [p.title for p in repo.get_pulls()] == ["one"]
    assert [p.title for p in repo.get_pulls(state="all")] == ["two", "one"]
    assert [p.title for p in repo.get_pulls(state="all", head="acme:two")] == ["two"]
    assert [p.title for p in repo.get_pulls(state="all", head="someone-else:two")] == []
    assert [p.title for p in repo.get_pulls(base="main")] == ["one"]
    assert [p.title for p in repo.get_pulls(base="other")] == []


def test_head_sha_follows_the_branch(repo):
    make_branch(repo, "feature")
    pull = repo.create_pull(title="moving", body="", head="feature", base="main")
    tip = repo.get_git_commit(pull.head.sha)
    newer = repo.create_git_commit("more", tip.tree, [tip])
    repo.get_git_ref("heads/feature").edit(newer.sha)
    assert repo.get_pull(pull.number).head.sha == newer.sha


def test_triage_token_cannot_open_pulls(sandbox, repo):
    make_branch(repo, "feature")
    with pytest.raises(GithubException) as caught:
        github_client(sandbox, "outside-triager").get_repo("acme/widgets").create_pull(
            title="x", body="", head="feature", base="main"
        )
    assert caught.value.status == 403


def test_head_without_its_owner_is_not_a_filter(repo):
    """`head`: "Filter pulls by head user or head organization and branch name in the format of
    `user:ref-name` or `organization:ref-name`" (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests);
    GitHub ignores a bare branch name and lists every pull request."""
    make_branch(repo, "one")
    make_branch(repo, "two")
    repo.create_pull(title="one", body="", head="one", base="main")
    repo.create_pull(title="two", body="", head="two", base="main")
    assert [p.title for p in repo.get_pulls(head="one")] == ["two", "one"]


def test_a_pull_request_between_unrelated_histories_is_refused(repo):
    """GitHub answers 422 "The B branch has no history in common with main"
    (https://github.com/mislav/hub/issues/2322; https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request
    lists 422 Validation failed)."""
    main = repo.get_git_commit(repo.get_branch("main").commit.sha)
    orphan = repo.create_git_commit("a history of its own", main.tree, [])
    repo.create_git_ref("refs/heads/orphan", orphan.sha)
    with pytest.raises(GithubException) as caught:
        repo.create_pull(title="x", body="", head="orphan", base="main")
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["message"] == "The orphan branch has no history in common with main"


def test_a_pull_request_body_over_65536_characters_is_refused(repo):
    """GitHub caps pull-request bodies as issue bodies: 422 "body is too long (maximum is 65536
    characters)" (https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request lists 422)."""
    make_branch(repo, "wordy")
    with pytest.raises(GithubException) as caught:
        repo.create_pull(title="x", body="b" * 65537, head="wordy", base="main")
    assert caught.value.data["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
