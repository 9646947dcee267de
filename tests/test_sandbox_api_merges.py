"""Merging pull requests with real git, as GitHub's REST API documents it.

- Merge a pull request (PUT /pulls/N/merge: merge, squash, rebase; 405 when it cannot be merged,
  409 when `sha` is not the head): https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
- Check if a pull request has been merged (204/404):
  https://docs.github.com/en/rest/pulls/pulls#check-if-a-pull-request-has-been-merged
- `mergeable`/`mergeable_state`/`merge_commit_sha` of a single pull request ("GitHub starts a background
  job to compute mergeability"; a list does not carry it):
  https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
- Closing keywords close the linked issues when the pull is merged into the default branch:
  https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/linking-a-pull-request-to-an-issue
- Update a pull request (title, body, state, base):
  https://docs.github.com/en/rest/pulls/pulls#update-a-pull-request
"""

from __future__ import annotations

import pytest
from github import GithubException

from ccc.sandbox.api_merges import linked_issue_numbers
from conftest import api_call, github_schema
from sandbox_git import Clone


@pytest.fixture
def repo(github):
    return github.get_repo("acme/widgets")


@pytest.fixture
def clone(sandbox, tmp_path):
    return Clone(sandbox, tmp_path / "work")


def open_pull(repo, clone, branch: str = "feature", files: dict | None = None, **fields):
    clone.branch(branch, files or {f"{branch}.txt": f"{branch}\n"})
    return repo.create_pull(title=fields.pop("title", "Feature"), body=fields.pop("body", ""), head=branch, **fields)


def main_tip(repo) -> str:
    return repo.get_git_ref("heads/main").object.sha


def test_a_clean_pull_is_mergeable_and_a_merge_commit_joins_head_into_base(sandbox, repo, clone):
    pull = open_pull(repo, clone, base="main")
    before, head = main_tip(repo), pull.head.sha
    assert pull.mergeable is None  # the create answer comes before GitHub's background computation
    fresh = repo.get_pull(pull.number)
    assert (fresh.mergeable, fresh.mergeable_state, fresh.merged) == (True, "clean", False)
    assert (fresh.commits, fresh.additions, fresh.deletions, fresh.changed_files) == (1, 1, 0, 1)
    assert fresh.merge_commit_sha  # the test merge commit
    github_schema("PullRequest").model_validate(fresh.raw_data)

    status = pull.merge()

    github_schema("PullRequestMergeResult").model_validate(status.raw_data)
    assert (status.merged, status.message) == (True, "Pull Request successfully merged")
    commit = repo.get_git_commit(status.sha)
    assert [parent.sha for parent in commit.parents] == [before, head]
    assert commit.message == "Merge pull request #1 from acme/feature\n\nFeature\n"
    assert (commit.committer.name, commit.author.name) == ("GitHub", "maintainer")
    assert main_tip(repo) == status.sha
    assert clone.show("origin/main", "feature.txt") == "feature"
    merged = repo.get_pull(pull.number)
    assert (merged.state, merged.merged, merged.merged_by.login, merged.merge_commit_sha) == (
        "closed",
        True,
        "maintainer",
        status.sha,
    )
    assert merged.merged_at is not None and merged.head.sha == head
    assert repo.get_issue(pull.number).raw_data["pull_request"]["merged_at"] == merged.raw_data["merged_at"]
    assert merged.is_merged()
    events = api_call(sandbox, "GET", "/repos/acme/widgets/issues/1/events").body
    assert [(e["event"], e["commit_id"]) for e in events] == [("merged", status.sha), ("closed", status.sha)]
    github_schema("PullRequest").model_validate(merged.raw_data)


def test_squash_makes_one_commit_with_the_pull_title(repo, clone):
    pull = open_pull(repo, clone, title="Add feature", base="main")
    clone.commit({"second.txt": "two\n"}, "second step", push="feature")
    before = main_tip(repo)

    status = pull.merge(merge_method="squash")

    commit = repo.get_git_commit(status.sha)
    assert [parent.sha for parent in commit.parents] == [before]
    assert commit.message == "Add feature (#1)\n\n* change feature.txt on feature\n\n* second step\n"
    assert clone.show("origin/main", "second.txt") == "two"


def test_rebase_replays_each_commit_on_the_moved_base_keeping_authors(repo, clone):
    pull = open_pull(repo, clone, base="main")
    clone.commit({"second.txt": "two\n"}, "second step", push="feature")
    clone.branch("main", {"elsewhere.txt": "main moved\n"})
    before = main_tip(repo)

    status = pull.merge(merge_method="rebase", commit_title="ignored by a rebase")

    second = repo.get_git_commit(status.sha)
    first = repo.get_git_commit(second.parents[0].sha)
    assert [first.parents[0].sha, first.message, second.message] == [
        before,
        "change feature.txt on feature\n",
        "second step\n",
    ]
    assert (second.author.name, second.committer.name) == ("cc01", "GitHub")
    assert clone.show("origin/main", "elsewhere.txt") == "main moved"
    assert clone.show("origin/main", "second.txt") == "two"


def test_a_conflicting_pull_is_not_mergeable_and_its_merge_is_refused_with_405(sandbox, repo, clone):
    pull = open_pull(repo, clone, files={"README.md": "# from the branch\n"}, base="main")
    clone.branch("main", {"README.md": "# from main\n"})
    before = main_tip(repo)

    fresh = repo.get_pull(pull.number)
    assert (fresh.mergeable, fresh.mergeable_state, fresh.merge_commit_sha) == (False, "dirty", None)
    for method in ("merge", "squash"):
        answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/1/merge", body={"merge_method": method})
        assert (answer.status, answer.body["message"]) == (405, "Pull Request is not mergeable")
    answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/1/merge", body={"merge_method": "rebase"})
    assert (answer.status, answer.body["message"]) == (405, "This branch can't be rebased")
    assert main_tip(repo) == before
    assert not repo.get_pull(pull.number).is_merged()


def test_a_sha_that_is_not_the_head_is_409_and_nothing_merges(repo, clone):
    pull = open_pull(repo, clone, base="main")
    old_head = pull.head.sha
    clone.commit({"later.txt": "later\n"}, "pushed after the review", push="feature")

    with pytest.raises(GithubException) as caught:
        pull.merge(sha=old_head)

    assert caught.value.status == 409
    assert caught.value.data["message"] == "Head branch was modified. Review and try the merge again."
    assert pull.merge(sha=repo.get_pull(1).head.sha).merged


def test_merged_closed_and_draft_pulls_are_not_mergeable(sandbox, repo, clone):
    merged = open_pull(repo, clone, base="main")
    merged.merge()
    open_pull(repo, clone, branch="closed", base="main").edit(state="closed")
    open_pull(repo, clone, branch="draft", base="main", draft=True)
    for number, message in ((1, "Pull Request is not mergeable"), (2, "Pull Request is not mergeable")):
        answer = api_call(sandbox, "PUT", f"/repos/acme/widgets/pulls/{number}/merge", body={})
        assert (answer.status, answer.body["message"]) == (405, message)
    answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/3/merge", body={})
    assert (answer.status, answer.body["message"]) == (405, "Pull Request is still a draft")
    assert api_call(sandbox, "GET", "/repos/acme/widgets/pulls/1/merge").status == 204
    assert api_call(sandbox, "GET", "/repos/acme/widgets/pulls/2/merge").status == 404
    bad = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/3/merge", body={"merge_method": "octopus"})
    assert bad.status == 422


def test_merging_needs_write_permission(sandbox, repo, clone):
    open_pull(repo, clone, base="main")
    answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/1/merge", login="outside-triager", body={})
    assert answer.status == 403


def test_closing_keywords_close_the_linked_issues_as_completed_on_a_merge_into_the_default_branch(repo, clone):
    for title in ("one", "two", "three", "four"):
        repo.create_issue(title)
    body = "Fixes #1, CLOSES acme/widgets#2 and resolves other/repo#3; see #4."
    pull = open_pull(repo, clone, body=body, base="main")

    pull.merge()

    states = {number: repo.get_issue(number) for number in (1, 2, 3, 4)}
    assert {n: (i.state, i.state_reason) for n, i in states.items()} == {
        1: ("closed", "completed"),
        2: ("closed", "completed"),
        3: ("open", None),
        4: ("open", None),
    }
    assert states[1].closed_by.login == "maintainer"


def test_closing_keywords_do_nothing_when_the_base_is_not_the_default_branch(repo, clone):
    repo.create_issue("one")
    clone.branch("release", {"release.txt": "r\n"})
    pull = open_pull(repo, clone, body="fixes #1", base="release")

    pull.merge()

    assert repo.get_issue(1).state == "open"


def test_closing_keywords_are_read_as_github_reads_them():
    text = "close #1 Closed #2 fix: #3 FIXES #4 fixed #5 resolve #6 Resolves #7 resolved #8 closes#9 prefix#10"
    assert linked_issue_numbers(text, "acme/widgets") == [1, 2, 3, 4, 5, 6, 7, 8]
    assert linked_issue_numbers("fixes #3 and fixes #3", "acme/widgets") == [3]
    assert linked_issue_numbers("fixes ACME/Widgets#5, fixes acme/other#6", "acme/widgets") == [5]


def test_patch_changes_title_body_and_base_and_closes_and_reopens(repo, clone):
    clone.branch("release", {"release.txt": "r\n"})
    pull = open_pull(repo, clone, base="main")

    pull.edit(title="Renamed", body="new body", base="release")
    changed = repo.get_pull(pull.number)
    assert (changed.title, changed.body, changed.base.ref) == ("Renamed", "new body", "release")
    pull.edit(state="closed")
    assert repo.get_pull(pull.number).state == "closed"
    with pytest.raises(GithubException) as caught:
        pull.edit(base="main")
    assert caught.value.status == 422
    pull.edit(state="open")
    assert repo.get_pull(pull.number).state == "open"
    github_schema("PullRequest").model_validate(repo.get_pull(pull.number).raw_data)


def test_a_merged_pull_cannot_be_reopened(repo, clone):
    pull = open_pull(repo, clone, base="main")
    pull.merge()
    with pytest.raises(GithubException) as caught:
        pull.edit(state="open")
    assert caught.value.status == 422
    assert repo.get_pull(pull.number).state == "closed"


# -- repository settings: https://docs.github.com/en/rest/repos/repos#update-a-repository ---------------
# (delete_branch_on_merge; allow_merge_commit/allow_squash_merge/allow_rebase_merge). GitHub retargets open
# pull requests based on a head branch that a merge deleted to the merged pull's base:
# https://github.blog/changelog/2020-05-19-pull-request-retargeting/


def set_repository(sandbox, **settings) -> None:
    answer = api_call(sandbox, "PATCH", "/repos/acme/widgets", body=settings)
    assert answer.status == 200, answer.body


def test_the_head_branch_stays_after_a_merge_by_default(repo, clone):
    open_pull(repo, clone, base="main").merge()
    assert repo.get_git_ref("heads/feature").object.sha


def test_a_merge_deletes_the_head_when_the_repository_says_so_and_retargets_pulls_based_on_it(sandbox, repo, clone):
    set_repository(sandbox, delete_branch_on_merge=True)
    first = open_pull(repo, clone, base="main")
    clone.git("checkout", "-q", "-B", "stacked", "feature")
    clone.commit({"stacked.txt": "on top\n"}, "stacked work", push="stacked")
    stacked = repo.create_pull(title="Stacked", body="", head="stacked", base="feature")

    first.merge()

    assert "refs/heads/feature" not in [ref.ref for ref in repo.get_git_matching_refs("heads/")]
    assert repo.get_pull(stacked.number).base.ref == "main"
    deletion = [e["payload"] for e in sandbox.events("push") if e["payload"]["deleted"]]
    assert [payload["ref"] for payload in deletion] == ["refs/heads/feature"]
    [retarget] = [e["payload"] for e in sandbox.events("pull_request") if e["action"] == "edited"]
    assert (retarget["number"], retarget["changes"]["base"]["ref"]["from"]) == (stacked.number, "feature")


def test_a_merge_method_the_repository_disallows_is_refused_with_405(sandbox, repo, clone):
    set_repository(sandbox, allow_merge_commit=False, allow_rebase_merge=False)
    open_pull(repo, clone, base="main")
    for method, message in (
        ("merge", "Merge commits are not allowed on this repository."),
        ("rebase", "Rebase merges are not allowed on this repository."),
    ):
        answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/1/merge", body={"merge_method": method})
        assert (answer.status, answer.body["message"]) == (405, message)
    answer = api_call(sandbox, "PUT", "/repos/acme/widgets/pulls/1/merge", body={"merge_method": "squash"})
    assert answer.status == 200
