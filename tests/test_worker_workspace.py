"""Work trees against the sandbox's git server: clone once, fresh tree per task, push; the token stays out."""

from __future__ import annotations

import pytest

from ccc.worker.masking import Masker
from ccc.worker.workspace import GitError, Workspace
from worker_support import BOT, branches, git, show_file


@pytest.fixture
def workspace(sandbox, tmp_path) -> Workspace:
    token = sandbox.token(BOT)
    return Workspace(
        remote_url=f"{sandbox.git_url}/{sandbox.repo}.git", token=token, root=tmp_path / "w", masker=Masker([token])
    )


def test_a_task_tree_starts_clean_at_the_base_and_pushes_its_branch(sandbox, workspace):
    tree = workspace.prepare(base=workspace.default_branch(), name="1-a")
    assert (tree / "README.md").exists()
    (tree / "new.txt").write_text("hello\n")
    assert workspace.commit_all(tree, message="Add new (#1)", author="ccc-cc01", email="cc01@example.com")
    workspace.push(tree, "ccc/1-x")
    assert show_file(sandbox, "ccc/1-x", "new.txt") == "hello\n"

    again = workspace.prepare(base="main", name="1-b")
    assert not (again / "new.txt").exists()  # a retry starts from the base, not the failed attempt
    assert not workspace.commit_all(again, message="nothing", author="a", email="a@example.com")


def test_the_token_is_in_no_file_the_agent_can_read(sandbox, workspace, tmp_path):
    tree = workspace.prepare(base="main", name="2")
    (tree / "f").write_text("x")
    workspace.commit_all(tree, message="m", author="a", email="a@example.com")
    workspace.push(tree, "ccc/2-y")
    token = sandbox.token(BOT)
    for path in (tmp_path / "w").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_hooks_planted_in_the_work_tree_do_not_run(sandbox, workspace, tmp_path):
    tree = workspace.prepare(base="main", name="3")
    hooks = tmp_path / "w" / "repo" / ".git" / "hooks"
    proof = tmp_path / "hook-ran"
    for hook in ("pre-commit", "pre-push", "post-checkout"):
        (hooks / hook).write_text(f"#!/bin/sh\nenv > {proof}\n")
        (hooks / hook).chmod(0o755)
    (tree / "f").write_text("x")
    workspace.commit_all(tree, message="m", author="a", email="a@example.com")
    workspace.push(tree, "ccc/3-z")
    assert not proof.exists()
    assert "ccc/3-z" in branches(sandbox)


def test_git_errors_are_masked(sandbox, tmp_path):
    token = sandbox.token(BOT)
    bad = Workspace(
        remote_url=f"{sandbox.git_url}/acme/missing.git", token=token, root=tmp_path / "w", masker=Masker([token])
    )
    with pytest.raises(GitError) as caught:
        bad.prepare(base="main", name="x")
    assert token not in str(caught.value)


def test_work_trees_can_come_from_an_existing_checkout(sandbox, tmp_path):
    checkout = tmp_path / "checkout"
    git("clone", "--quiet", sandbox.clone_url(), str(checkout))  # stands in for actions/checkout
    token = sandbox.token(BOT)
    workspace = Workspace(
        remote_url=f"{sandbox.git_url}/{sandbox.repo}.git",
        token=token,
        root=tmp_path / "w",
        masker=Masker([token]),
        checkout=checkout,
    )
    tree = workspace.prepare(base="main", name="9")
    (tree / "g.txt").write_text("from a checkout\n")
    workspace.commit_all(tree, message="m", author="a", email="a@example.com")
    workspace.push(tree, "ccc/9-g")
    assert show_file(sandbox, "ccc/9-g", "g.txt") == "from a checkout\n"
    assert not (tmp_path / "w" / "repo").exists()  # no second clone


def test_a_task_tree_has_no_git_directory_and_a_planted_one_is_ignored(sandbox, workspace, tmp_path):
    tree = workspace.prepare(base="main", name="6")
    assert not (tree / ".git").exists()
    proof = tmp_path / "planted-ran"
    (tree / ".git").mkdir()
    (tree / ".git" / "config").write_text(f"[core]\n\thooksPath = /tmp\n[alias]\n\tadd = !touch {proof}\n")
    (tree / "f").write_text("x")
    assert workspace.commit_all(tree, message="m", author="a", email="a@example.com")
    workspace.push(tree, "ccc/6-plain")
    assert show_file(sandbox, "ccc/6-plain", "f") == "x" and not proof.exists()


def test_global_and_system_git_config_and_git_variables_are_ignored(sandbox, workspace, tmp_path, monkeypatch):
    """A url rewrite in the global config, and GIT_* variables in the worker's environment, change nothing."""
    evil = tmp_path / "evil.gitconfig"
    evil.write_text(f'[url "file://{tmp_path}/nowhere"]\n\tinsteadOf = {sandbox.git_url}\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(evil))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    tree = workspace.prepare(base="main", name="7")
    (tree / "g").write_text("y")
    workspace.commit_all(tree, message="m", author="a", email="a@example.com")
    workspace.push(tree, "ccc/7-clean")
    assert show_file(sandbox, "ccc/7-clean", "g") == "y"


def test_only_the_remote_transport_is_allowed(sandbox, tmp_path):
    token = sandbox.token(BOT)
    ext = Workspace(
        remote_url="ext::sh -c touch% /tmp/ccc-ext-ran", token=token, root=tmp_path / "x", masker=Masker([])
    )
    with pytest.raises(GitError, match="transport 'ext' not allowed"):
        ext.ensure_repo()
