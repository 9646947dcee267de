"""Merging with the real git binary: mergeability, and the commits of GitHub's three merge methods.

Everything here works on a bare repository (no work tree): `git merge-tree --write-tree` merges
two commits into a tree, and a rebase replays each commit's patch onto a private index file.
Nothing here moves a ref; the caller does that with a compare-and-set.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache

from ccc.sandbox.gitrepo import GitCommandError, GitRepo, now_iso

# The committer of every commit GitHub makes when it merges, as on github.com.
GITHUB_COMMITTER = {"name": "GitHub", "email": "noreply@github.com"}
MERGE_METHODS = ("merge", "squash", "rebase")


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @classmethod
    def of(cls, user) -> Person:
        """A user's identity in commits GitHub makes for them (their no-reply address)."""
        return cls(user.login, f"{user.id}+{user.login}@users.noreply.github.com")

    def stamp(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "date": now_iso()}


def merged_tree(git: GitRepo, base_sha: str, head_sha: str) -> str | None:
    """The tree of merging `head_sha` into `base_sha`; None when they conflict."""
    return _merged_tree(str(git.path), base_sha, head_sha)


@lru_cache(maxsize=4096)  # git objects never change, so a merge of two commits is computed once
def _merged_tree(path: str, base_sha: str, head_sha: str) -> str | None:
    result = GitRepo(path).run("merge-tree", "--write-tree", "--no-messages", base_sha, head_sha, check=False)
    if result.returncode == 1:
        return None
    if result.returncode != 0:
        raise GitCommandError(f"git merge-tree failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode().split("\n", 1)[0].strip()


def trial_merge_commit(git: GitRepo, base_sha: str, head_sha: str) -> str:
    """The commit GitHub keeps at refs/pull/N/merge to test a clean merge (made once per base and head)."""
    return _trial_merge_commit(str(git.path), base_sha, head_sha)


@lru_cache(maxsize=4096)
def _trial_merge_commit(path: str, base_sha: str, head_sha: str) -> str:
    git = GitRepo(path)
    committer = {**GITHUB_COMMITTER, "date": now_iso()}
    message = f"Merge {head_sha} into {base_sha}"
    return git.create_commit(merged_tree(git, base_sha, head_sha), [base_sha, head_sha], message, committer, committer)


def forget() -> None:
    """Drop the cached merges: after a reset the same path and shas may name a repository without them."""
    _merged_tree.cache_clear()
    _trial_merge_commit.cache_clear()


def commits_between(git: GitRepo, base_sha: str, head_sha: str) -> list[str]:
    """The pull request's commits (on head, not on base), oldest first."""
    listing = git.run("rev-list", "--reverse", "--no-merges", f"{base_sha}..{head_sha}").stdout.decode()
    return listing.split()


def diff_stats(git: GitRepo, base_sha: str, head_sha: str) -> tuple[int, int, int]:
    """(additions, deletions, changed files) of head against its merge base with base, as GitHub counts."""
    merge_base = git.run("merge-base", base_sha, head_sha, check=False).stdout.decode().strip()
    if not merge_base:
        return 0, 0, 0
    numstat = git.run("diff", "--numstat", merge_base, head_sha).stdout.decode().splitlines()
    rows = [line.split("\t", 2) for line in numstat if line]
    counted = [(int(a), int(d)) for a, d, _ in rows if a != "-"]  # binary files count as changed only
    return sum(a for a, _ in counted), sum(d for _, d in counted), len(rows)


def merge_commit(git: GitRepo, base_sha: str, head_sha: str, message: str, merger: Person) -> str | None:
    """A merge commit of head into base (parents: base, head); None when they conflict."""
    tree = merged_tree(git, base_sha, head_sha)
    if tree is None:
        return None
    committer = {**GITHUB_COMMITTER, "date": now_iso()}
    return git.create_commit(tree, [base_sha, head_sha], message, merger.stamp(), committer)


def squash_commit(git: GitRepo, base_sha: str, head_sha: str, message: str, author: Person) -> str | None:
    """One commit on base with the merged tree; None when head conflicts with base."""
    tree = merged_tree(git, base_sha, head_sha)
    if tree is None:
        return None
    committer = {**GITHUB_COMMITTER, "date": now_iso()}
    return git.create_commit(tree, [base_sha], message, author.stamp(), committer)


def rebase_commits(git: GitRepo, base_sha: str, head_sha: str) -> str | None:
    """Replay head's commits onto base (authors kept, GitHub as committer); the new tip, or None when
    a commit does not apply."""
    tip = base_sha
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        for sha in commits_between(git, base_sha, head_sha):
            tree = _apply_onto(git, tip, sha, env)
            if tree is None:
                return None
            original = git.commit(sha)
            committer = {**GITHUB_COMMITTER, "date": now_iso()}
            tip = git.create_commit(tree, [tip], original["message"], original["author"], committer)
    return tip


def _apply_onto(git: GitRepo, onto: str, sha: str, env: dict[str, str]) -> str | None:
    """The tree of `onto` with the changes of commit `sha` applied; None when the patch does not apply."""
    git.run("read-tree", onto, env=env)
    patch = git.run("diff-tree", "-p", "--binary", "--root", sha, env=env).stdout
    if git.run("apply", "--cached", "--binary", input=patch, env=env, check=False).returncode != 0:
        return None
    return git.run("write-tree", env=env).stdout.decode().strip()
