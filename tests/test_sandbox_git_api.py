"""Git data endpoints through the real PyGithub client: commits, refs as compare-and-set, branches."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from github import GithubException, UnknownObjectException
from github.GitCommit import GitCommit
from github.GitTree import GitTree
from github.InputGitAuthor import InputGitAuthor

from ccc.sandbox.gitrepo import EMPTY_TREE
from conftest import api_call, github_client, github_schema

CLAIMS = "refs/ccc/claims"


@pytest.fixture
def repo(sandbox):
    return github_client(sandbox).get_repo(sandbox.repo)


@pytest.fixture
def main(repo):
    """The initial commit on the default branch."""
    return repo.get_git_commit(repo.get_branch("main").commit.sha)


def empty_tree(repo) -> GitTree:
    """The empty tree claim commits use, as the PyGithub object create_git_commit takes."""
    return GitTree(repo.requester, attributes={"sha": EMPTY_TREE}, completed=True)


def claim_commit(repo, parent, message: str = "claim"):
    return repo.create_git_commit(message, empty_tree(repo), [parent])


def status_and_message(call) -> tuple[int, str]:
    with pytest.raises(GithubException) as caught:
        call()
    return caught.value.status, caught.value.data["message"]


# --- commits ----------------------------------------------------------------------------------


def test_create_commit_on_the_empty_tree_answers_githubs_git_commit(repo, main, sandbox):
    commit = claim_commit(repo, main, "claim #7")
    shape = github_schema("GitCommit").model_validate(commit.raw_data)
    assert (shape.message, shape.tree.sha, [p.sha for p in shape.parents]) == ("claim #7", EMPTY_TREE, [main.sha])
    assert shape.verification.reason == "unsigned" and not shape.verification.verified
    assert commit.html_url == f"{sandbox.git_url}/{sandbox.repo}/commit/{commit.sha}"


def test_commit_author_defaults_to_the_token_user_and_committer_to_the_author(sandbox, main):
    bot = github_client(sandbox, "github-actions[bot]").get_repo(sandbox.repo)
    commit = claim_commit(bot, main)
    assert commit.author.name == "github-actions[bot]"
    assert commit.author.email.endswith("+github-actions[bot]@users.noreply.github.com")
    assert (commit.committer.name, commit.committer.email) == (commit.author.name, commit.author.email)


def test_commit_keeps_the_given_people_and_dates(repo, main):
    author = InputGitAuthor("Alice", "alice@example.com", "2024-05-06T07:08:09Z")
    committer = InputGitAuthor("Bob", "bob@example.com", "2024-05-06T09:08:09+02:00")
    commit = repo.create_git_commit("explicit", empty_tree(repo), [main], author=author, committer=committer)
    fetched = repo.get_git_commit(commit.sha).raw_data
    assert fetched["author"] == {"name": "Alice", "email": "alice@example.com", "date": "2024-05-06T07:08:09Z"}
    assert fetched["committer"]["date"] == "2024-05-06T07:08:09Z"


def test_same_content_and_dates_give_the_same_commit_sha(repo, main):
    when = InputGitAuthor("ccc", "ccc@example.com", "2024-05-06T07:08:09Z")
    first, second = (
        repo.create_git_commit("same", empty_tree(repo), [main], author=when, committer=when) for _ in range(2)
    )
    assert first.sha == second.sha


def test_create_commit_refuses_a_missing_tree_or_parent(repo, main):
    missing = GitTree(repo.requester, attributes={"sha": "1" * 40}, completed=True)
    assert status_and_message(lambda: repo.create_git_commit("x", missing, [main])) == (422, "Tree SHA does not exist")
    orphan = GitCommit(repo.requester, attributes={"sha": "2" * 40}, completed=True)  # nobody wrote it
    assert status_and_message(lambda: repo.create_git_commit("x", empty_tree(repo), [orphan])) == (
        422,
        "Parent SHA does not exist or is not a commit object",
    )


def test_create_commit_without_message_is_invalid(sandbox, main):
    answer = api_call(sandbox, "POST", f"/repos/{sandbox.repo}/git/commits", body={"tree": EMPTY_TREE})
    assert answer.status == 422 and "message" in answer.body["message"]


def test_get_commit_answers_what_create_commit_answered(repo, main):
    created = claim_commit(repo, main, "read me back")
    fetched = repo.get_git_commit(created.sha)
    assert github_schema("GitCommit").model_validate(fetched.raw_data)
    assert fetched.raw_data == created.raw_data


def test_refs_survive_a_sandbox_restart(sandbox, repo, main):
    repo.create_git_ref(f"{CLAIMS}/21", main.sha)
    sandbox.restart()
    again = github_client(sandbox).get_repo(sandbox.repo)
    assert again.get_git_ref("ccc/claims/21").object.sha == main.sha


def test_get_commit_of_an_unknown_sha_is_not_found(repo):
    with pytest.raises(UnknownObjectException):
        repo.get_git_commit("3" * 40)


# --- refs -------------------------------------------------------------------------------------


def test_create_ref_outside_heads_and_tags_answers_githubs_git_ref(repo, main):
    ref = repo.create_git_ref(f"{CLAIMS}/7", main.sha)
    shape = github_schema("GitRef").model_validate(ref.raw_data)
    assert (shape.ref, shape.object_.sha, shape.object_.type) == (f"{CLAIMS}/7", main.sha, "commit")
    assert repo.get_git_ref("ccc/claims/7").object.sha == main.sha


def test_create_existing_ref_is_refused(repo, main):
    repo.create_git_ref(f"{CLAIMS}/7", main.sha)
    other = claim_commit(repo, main)
    assert status_and_message(lambda: repo.create_git_ref(f"{CLAIMS}/7", other.sha)) == (
        422,
        "Reference already exists",
    )
    assert repo.get_git_ref("ccc/claims/7").object.sha == main.sha


@pytest.mark.parametrize("name", ["heads/topic", "refs/topic"])
def test_create_ref_needs_refs_prefix_and_three_components(repo, main, name):
    assert status_and_message(lambda: repo.create_git_ref(name, main.sha)) == (
        422,
        "Reference name must contain at least three slash-separated components.",
    )


def test_create_ref_with_a_name_git_rejects_is_refused(repo, main):
    assert status_and_message(lambda: repo.create_git_ref("refs/heads/a..b", main.sha)) == (
        422,
        "refs/heads/a..b is not a valid ref name.",
    )


def test_create_ref_clashing_with_an_existing_ref_path_fails_like_github(repo, main):
    repo.create_git_ref("refs/heads/cc01", main.sha)
    assert status_and_message(lambda: repo.create_git_ref("refs/heads/cc01/task-1", main.sha)) == (
        422,
        "Reference update failed",
    )


def test_create_ref_to_an_unknown_object_is_refused(repo):
    assert status_and_message(lambda: repo.create_git_ref(f"{CLAIMS}/8", "4" * 40)) == (422, "Object does not exist")


def test_exactly_one_of_32_concurrent_ref_creators_wins(sandbox, repo, main):
    candidates = [claim_commit(repo, main, f"worker {n}").sha for n in range(32)]

    def create(sha: str) -> int:
        answer = api_call(sandbox, "POST", f"/repos/{sandbox.repo}/git/refs", body={"ref": f"{CLAIMS}/9", "sha": sha})
        return answer.status

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(create, candidates))
    assert sorted(statuses) == [201] + [422] * 31
    assert repo.get_git_ref("ccc/claims/9").object.sha == candidates[statuses.index(201)]


def test_get_missing_ref_is_not_found(repo):
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("ccc/claims/404").object  # noqa: B018 (the lazy ref loads on access)


def test_matching_refs_lists_by_string_prefix_and_is_empty_when_none_match(repo, main):
    for name in ("refs/heads/feature-b", "refs/heads/feature/a", f"{CLAIMS}/1"):
        repo.create_git_ref(name, main.sha)
    refs = list(repo.get_git_matching_refs("heads/feature"))
    assert [ref.ref for ref in refs] == ["refs/heads/feature-b", "refs/heads/feature/a"]
    assert all(github_schema("GitRef").model_validate(ref.raw_data).object_.sha == main.sha for ref in refs)
    assert list(repo.get_git_matching_refs("ccc/leases/")) == []


def test_a_refs_own_url_reads_it_back_or_lists_the_refs_it_prefixes(sandbox, repo, main):
    repo.create_git_ref("refs/heads/feature/a", main.sha)
    exact = api_call(sandbox, "GET", f"/repos/{sandbox.repo}/git/refs/heads/feature/a")
    prefix = api_call(sandbox, "GET", f"/repos/{sandbox.repo}/git/refs/heads/feature")
    missing = api_call(sandbox, "GET", f"/repos/{sandbox.repo}/git/refs/heads/nope")
    assert exact.body["ref"] == "refs/heads/feature/a" and exact.body["url"].endswith("/git/refs/heads/feature/a")
    assert [ref["ref"] for ref in prefix.body] == ["refs/heads/feature/a"]
    assert missing.status == 404


def test_fast_forward_update_succeeds(repo, main):
    ref = repo.create_git_ref("refs/heads/topic", main.sha)
    child = claim_commit(repo, main)
    ref.edit(child.sha, force=False)
    assert ref.object.sha == child.sha
    assert repo.get_git_ref("heads/topic").object.sha == child.sha


def test_non_fast_forward_update_is_refused_unless_forced(repo, main):
    child, sibling = claim_commit(repo, main, "child"), claim_commit(repo, main, "sibling")
    ref = repo.create_git_ref("refs/heads/topic", child.sha)
    assert status_and_message(lambda: ref.edit(sibling.sha, force=False)) == (422, "Update is not a fast forward")
    assert repo.get_git_ref("heads/topic").object.sha == child.sha
    ref.edit(sibling.sha, force=True)
    assert repo.get_git_ref("heads/topic").object.sha == sibling.sha


def test_update_of_a_missing_ref_is_refused(sandbox, main):
    answer = api_call(sandbox, "PATCH", f"/repos/{sandbox.repo}/git/refs/ccc/claims/5", body={"sha": main.sha})
    assert (answer.status, answer.body["message"]) == (422, "Reference does not exist")


def test_of_concurrent_fast_forwards_from_one_base_exactly_one_wins(sandbox, repo, main):
    repo.create_git_ref(f"{CLAIMS}/11", main.sha)
    candidates = [claim_commit(repo, main, f"renew {n}").sha for n in range(16)]

    def advance(sha: str) -> int:
        path = f"/repos/{sandbox.repo}/git/refs/ccc/claims/11"
        return api_call(sandbox, "PATCH", path, body={"sha": sha, "force": False}).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(advance, candidates))
    assert sorted(statuses) == [200] + [422] * 15
    assert repo.get_git_ref("ccc/claims/11").object.sha == candidates[statuses.index(200)]


def test_delete_ref_removes_it_and_a_second_delete_is_refused(repo, main, sandbox):
    ref = repo.create_git_ref(f"{CLAIMS}/12", main.sha)
    ref.delete()
    assert list(repo.get_git_matching_refs("ccc/claims/12")) == []
    answer = api_call(sandbox, "DELETE", f"/repos/{sandbox.repo}/git/refs/ccc/claims/12")
    assert (answer.status, answer.body["message"]) == (422, "Reference does not exist")


@pytest.mark.parametrize("login", ["outside-triager", "outside-reader"])
def test_below_write_cannot_create_commits_or_refs_but_can_read_them(sandbox, repo, main, login):
    repo.create_git_ref(f"{CLAIMS}/13", main.sha)
    theirs = github_client(sandbox, login).get_repo(sandbox.repo)
    assert status_and_message(lambda: theirs.create_git_ref(f"{CLAIMS}/14", main.sha))[0] == 403
    assert status_and_message(lambda: claim_commit(theirs, main))[0] == 403
    assert theirs.get_git_ref("ccc/claims/13").object.sha == main.sha


# --- branches ---------------------------------------------------------------------------------


def test_get_branch_answers_githubs_branch_with_protection(repo, main, sandbox):
    branch = repo.get_branch("main")
    shape = github_schema("BranchWithProtection").model_validate(branch.raw_data)
    assert (shape.name, shape.commit.sha, shape.protected) == ("main", main.sha, False)
    assert shape.commit.commit.message == "Initial commit"
    assert shape.links.html == f"{sandbox.git_url}/{sandbox.repo}/tree/main"


def test_branch_names_with_slashes_resolve(repo, main):
    repo.create_git_ref("refs/heads/cc01/task-3", main.sha)
    assert repo.get_branch("cc01/task-3").commit.sha == main.sha


def test_a_branch_commit_completes_from_the_commits_endpoint(repo, main):
    commit = repo.get_commit("main")
    assert github_schema("Commit").model_validate(commit.raw_data).sha == main.sha
    assert repo.get_commit(main.sha).commit.message == "Initial commit"
    assert status_and_message(lambda: repo.get_commit("nope")) == (422, "No commit found for SHA: nope")


def test_get_missing_branch_is_not_found(repo):
    with pytest.raises(UnknownObjectException):
        repo.get_branch("nope")


# --- GitHub's less convenient answers (faults and reserved refs) -------------------------------


def test_empty_tree_unknown_switch_refuses_commits_of_the_empty_tree(sandbox, repo, main):
    """git knows the empty tree 4b825dc… without storing it; whether GitHub accepts it in POST
    /git/commits when no object of the repository has it is undocumented
    (https://docs.github.com/en/rest/git/commits#create-a-commit lists 422 for a tree it cannot
    find). ccc must work both ways, so the sandbox can refuse it with GitHub's 422."""
    sandbox.faults([{"kind": "empty_tree_unknown"}])
    assert status_and_message(lambda: claim_commit(repo, main)) == (422, "Tree SHA does not exist")
    files = GitTree(repo.requester, attributes={"sha": main.tree.sha}, completed=True)
    assert repo.create_git_commit("files", files, [main]).sha  # other trees still work
    sandbox.clear_faults()
    assert claim_commit(repo, main).tree.sha == EMPTY_TREE


def test_ref_contention_answers_reference_cannot_be_updated(sandbox, repo, main):
    """Under contention PATCH /git/refs answers 422 "Reference cannot be updated" and does not retry
    (https://docs.github.com/en/rest/git/refs#update-a-reference: 422 Validation failed)."""
    repo.create_git_ref(f"{CLAIMS}/40", main.sha)
    child = claim_commit(repo, main)
    sandbox.faults([{"kind": "ref_contention", "count": 1}])
    path = f"/repos/{sandbox.repo}/git/refs/ccc/claims/40"
    answer = api_call(sandbox, "PATCH", path, body={"sha": child.sha})
    assert (answer.status, answer.body["message"]) == (422, "Reference cannot be updated")
    assert repo.get_git_ref("ccc/claims/40").object.sha == main.sha
    assert api_call(sandbox, "PATCH", path, body={"sha": child.sha}).status == 200


def test_ref_update_failed_is_a_transient_422_that_creates_nothing(sandbox, repo, main):
    """POST /git/refs sometimes answers 422 "Reference update failed" for no reason the caller can
    see (https://github.com/github/rest-api-description/issues/4887); a retry may succeed."""
    sandbox.faults([{"kind": "ref_update_failed", "count": 1}])
    assert status_and_message(lambda: repo.create_git_ref(f"{CLAIMS}/41", main.sha)) == (
        422,
        "Reference update failed",
    )
    assert list(repo.get_git_matching_refs("ccc/claims/41")) == []
    assert repo.create_git_ref(f"{CLAIMS}/41", main.sha).object.sha == main.sha


def test_pull_refs_cannot_be_created(repo, main):
    """refs/pull/* belong to GitHub (https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/
    reviewing-changes-in-pull-requests/checking-out-pull-requests-locally: read-only refs a push
    cannot update); the API refuses to create one."""
    assert status_and_message(lambda: repo.create_git_ref("refs/pull/1/head", main.sha)) == (
        422,
        "Reference update failed",
    )
