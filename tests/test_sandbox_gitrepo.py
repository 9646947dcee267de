"""GitRepo: bare repository plumbing through the real git binary, refs as compare-and-set."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from ccc.sandbox.gitrepo import EMPTY_TREE, GitRepo, git_env, to_git_date

ALICE = {"name": "Alice", "email": "alice@example.com", "date": "2024-01-02T03:04:05+02:00"}
BOB = {"name": "Bob", "email": "bob@example.com", "date": "2024-01-02T03:04:05Z"}


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    return GitRepo.init(tmp_path / "acme" / "widgets.git")


@pytest.fixture
def main_sha(repo) -> str:
    return repo.resolve("refs/heads/main")


def claim_commit(repo: GitRepo, parent: str, message: str = "claim") -> str:
    return repo.create_commit(EMPTY_TREE, [parent], message, ALICE, BOB)


def test_init_creates_a_bare_repo_whose_default_branch_holds_the_initial_commit(repo, main_sha):
    commit = repo.commit(main_sha)
    files = repo.run("ls-tree", "--name-only", main_sha).stdout.decode().split()
    assert (repo.path / "HEAD").exists() and not (repo.path / ".git").exists()
    assert commit["message"] == "Initial commit" and commit["parents"] == []
    assert files == ["README.md"]


def test_init_is_idempotent(repo, main_sha):
    again = GitRepo.init(repo.path)
    assert again.resolve("refs/heads/main") == main_sha
    assert [name for name, _ in again.list_refs()] == ["refs/heads/main"]


def test_init_uses_the_given_default_branch(tmp_path):
    repo = GitRepo.init(tmp_path / "o" / "r.git", default_branch="trunk")
    head = repo.run("symbolic-ref", "HEAD").stdout.decode().strip()
    assert head == "refs/heads/trunk" and repo.resolve("refs/heads/trunk")
    assert repo.resolve("refs/heads/main") is None


def test_init_writes_the_empty_tree_and_enables_push_over_http(repo):
    config = repo.run("config", "--get", "http.receivepack").stdout.decode().strip()
    assert repo.object_type(EMPTY_TREE) == "tree" and config == "true"


def test_create_commit_keeps_message_people_tree_and_parents(repo, main_sha):
    sha = repo.create_commit(EMPTY_TREE, [main_sha], "claim #7\n\nbody ünïcode", ALICE, BOB)
    commit = repo.commit(sha)
    assert commit["tree"] == EMPTY_TREE and commit["parents"] == [main_sha]
    assert commit["message"] == "claim #7\n\nbody ünïcode"
    assert commit["author"] == {"name": "Alice", "email": "alice@example.com", "date": "2024-01-02T01:04:05Z"}
    assert commit["committer"] == {"name": "Bob", "email": "bob@example.com", "date": "2024-01-02T03:04:05Z"}


def test_create_commit_does_not_move_any_ref(repo, main_sha):
    claim_commit(repo, main_sha)
    assert repo.list_refs() == [("refs/heads/main", main_sha)]


def test_commit_of_a_missing_object_or_a_tree_is_none(repo):
    assert repo.commit("0" * 39 + "1") is None
    assert repo.commit(EMPTY_TREE) is None


def test_resolve_names_shas_of_full_refs_and_existing_objects_only(repo, main_sha):
    assert repo.resolve(main_sha) == main_sha
    assert repo.resolve("refs/heads/nope") is None
    assert repo.resolve("f" * 40) is None
    assert repo.resolve("main") is None  # not a full ref name: no guessing
    assert repo.resolve("--all") is None
    assert repo.resolve("refs/heads/main~0") is None  # exact names only, no revision syntax


def test_ref_target_names_sha_and_type_of_the_exact_ref_only(repo, main_sha):
    repo.create_ref("refs/heads/topic/sub", main_sha)
    assert repo.ref_target("refs/heads/main") == (main_sha, "commit")
    assert repo.ref_target("refs/heads/topic") is None  # only a path prefix of an existing ref
    assert repo.ref_target("refs/heads/*") is None


def test_is_ancestor_follows_parents_one_way(repo, main_sha):
    child = claim_commit(repo, main_sha)
    assert repo.is_ancestor(main_sha, child) and repo.is_ancestor(child, child)
    assert not repo.is_ancestor(child, main_sha)


def test_create_ref_refuses_an_existing_ref(repo, main_sha):
    assert repo.create_ref("refs/ccc/claims/7", main_sha)
    assert not repo.create_ref("refs/ccc/claims/7", claim_commit(repo, main_sha))
    assert repo.resolve("refs/ccc/claims/7") == main_sha


def test_exactly_one_of_32_concurrent_creators_wins(repo, main_sha):
    candidates = [claim_commit(repo, main_sha, f"worker {n}") for n in range(32)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda sha: repo.create_ref("refs/ccc/claims/9", sha), candidates))
    assert results.count(True) == 1
    assert repo.resolve("refs/ccc/claims/9") == candidates[results.index(True)]


def test_update_ref_is_a_compare_and_set(repo, main_sha):
    first, second = claim_commit(repo, main_sha, "one"), claim_commit(repo, main_sha, "two")
    repo.create_ref("refs/heads/topic", first)
    assert not repo.update_ref("refs/heads/topic", second, main_sha)
    assert repo.resolve("refs/heads/topic") == first
    assert repo.update_ref("refs/heads/topic", second, first)
    assert repo.resolve("refs/heads/topic") == second


def test_ref_writes_take_only_full_ref_names_and_shas(repo, main_sha):
    assert not repo.create_ref("HEAD", main_sha)
    assert not repo.update_ref("refs/heads/main", "--stdin", main_sha)
    assert not repo.delete_ref("refs/heads/main", "main")
    assert repo.resolve("refs/heads/main") == main_sha


def test_delete_ref_only_deletes_the_expected_value(repo, main_sha):
    repo.create_ref("refs/ccc/claims/3", main_sha)
    assert not repo.delete_ref("refs/ccc/claims/3", claim_commit(repo, main_sha))
    assert repo.delete_ref("refs/ccc/claims/3", main_sha)
    assert repo.resolve("refs/ccc/claims/3") is None


def test_list_refs_matches_a_plain_string_prefix_in_name_order(repo, main_sha):
    for name in ("refs/heads/feature-b", "refs/heads/feature/a", "refs/heads/other", "refs/ccc/claims/1"):
        repo.create_ref(name, main_sha)
    names = [name for name, _ in repo.list_refs("refs/heads/feature")]
    assert names == ["refs/heads/feature-b", "refs/heads/feature/a"]
    assert repo.list_refs("refs/tags/") == []


def test_object_types_reports_existing_objects_in_one_call(repo, main_sha):
    types = repo.object_types([main_sha, EMPTY_TREE, "e" * 40])
    assert types == {main_sha: "commit", EMPTY_TREE: "tree"}


def test_ref_names_are_checked_by_git_rules(repo):
    assert repo.is_valid_ref_name("refs/ccc/claims/github-actions[bot]") is False
    assert repo.is_valid_ref_name("refs/heads/cc01/task-12")
    assert not repo.is_valid_ref_name("refs/heads/a..b")


def test_git_date_keeps_the_offset():
    assert to_git_date("2024-01-02T03:04:05+02:00") == "@1704157445 +0200"
    assert to_git_date("2024-01-02T03:04:05Z") == "@1704164645 +0000"


def test_a_working_clone_sees_the_initial_commit(repo, main_sha, tmp_path):
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "--quiet", str(repo.path), str(work)], env=git_env(tmp_path), check=True)
    assert (work / "README.md").read_text() == "# widgets\n"
