"""Tree checks before the worker commits: through the Workspace, with real git, on the sandbox's repository."""

from __future__ import annotations

import base64
import os

import pytest

from ccc.worker.masking import Masker
from ccc.worker.treecheck import TreePolicy, TreeRefused
from ccc.worker.workspace import Workspace
from worker_support import BOT, git

SECRET = "ghs_secretvalue_the_worker_knows_1234"


@pytest.fixture
def workspace(sandbox, tmp_path) -> Workspace:
    token = sandbox.token(BOT)
    return Workspace(
        remote_url=f"{sandbox.git_url}/{sandbox.repo}.git",
        token=token,
        root=tmp_path / "w",
        masker=Masker([token]),
        policy=TreePolicy(secrets=(token, SECRET), max_change_bytes=10_000),
    )


@pytest.fixture
def tree(workspace):
    return workspace.prepare(base=workspace.default_branch(), name="1-check")


def commit(workspace, tree) -> bool:
    return workspace.commit_all(tree, message="m", author="a", email="a@example.com")


def test_an_ordinary_change_is_committed(workspace, tree):
    (tree / "ok.txt").write_text("fine\n")
    (tree / "link").symlink_to("ok.txt")
    assert commit(workspace, tree)


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "../self/../../x"])
def test_a_symlink_leaving_the_tree_is_refused(workspace, tree, target):
    (tree / "sub").mkdir()
    (tree / "sub" / "self").symlink_to(".")  # inside; but "self/.." is the tree's parent, not "sub"
    (tree / "sub" / "link").symlink_to(target)
    with pytest.raises(TreeRefused, match="symlink leaving the work tree: sub/link"):
        commit(workspace, tree)


def test_a_workflow_change_is_refused_unless_allowed(workspace, tree):
    (tree / ".github" / "workflows").mkdir(parents=True)
    (tree / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    with pytest.raises(TreeRefused, match=r"\.github/workflows/ci\.yml: workflow changes need allow-workflow"):
        commit(workspace, tree)
    workspace.policy = TreePolicy(allow_workflow_changes=True)
    assert commit(workspace, tree)


def test_changes_over_the_size_cap_are_refused(workspace, tree):
    (tree / "big.bin").write_bytes(os.urandom(20_000))
    with pytest.raises(TreeRefused, match="20000 bytes, over the cap of 10000"):
        commit(workspace, tree)


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s,
        lambda s: s.encode().hex(),
        lambda s: s.encode().hex().upper(),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.b64encode(b"a" + s.encode()).decode(),
        lambda s: base64.b64encode(b"ab" + s.encode() + b"c").decode(),
        lambda s: base64.b64encode(f"x-access-token:{s}".encode()).decode(),
    ],
    ids=["raw", "hex", "HEX", "base64", "base64+1", "base64+2", "basic-auth"],
)
def test_a_known_secret_in_any_encoding_is_refused(workspace, tree, encode):
    (tree / "notes.txt").write_text(f"leak: {encode(SECRET)}\n")
    with pytest.raises(TreeRefused, match="notes.txt holds a secret value"):
        commit(workspace, tree)


def test_a_nested_git_repository_is_refused(workspace, tree):
    nested = tree / "vendor"
    nested.mkdir()
    (nested / "f").write_text("x")
    git("init", "-q", cwd=nested)
    git("add", "f", cwd=nested)
    git("commit", "-qm", "m", cwd=nested)
    with pytest.raises(TreeRefused, match="nested git repository at vendor"):
        commit(workspace, tree)
