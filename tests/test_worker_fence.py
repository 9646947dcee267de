"""The fence by a write, against the sandbox's git server (git http-backend): atomic pushes with a lease.

git's documentation of the two options this relies on: https://git-scm.com/docs/git-push
(`--atomic`: "either all refs are updated, or on error, no refs are updated";
`--force-with-lease=<refname>:<expect>`: the ref is updated only if it is still at <expect>).
GitHub's receive-pack advertises `atomic` as git's own does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ccc.errors import LeaseLost
from ccc.protocol.claims import EMPTY_TREE, ClaimKind, ClaimStore
from ccc.worker.fence import Fence
from ccc.worker.masking import Masker
from ccc.worker.workspace import GitError, Workspace
from worker_support import BOT, branches, client, git, show_file

LEASE = timedelta(minutes=5)


@pytest.fixture
def workspace(sandbox, tmp_path) -> Workspace:
    token = sandbox.token(BOT)
    return Workspace(
        remote_url=f"{sandbox.git_url}/{sandbox.repo}.git", token=token, root=tmp_path / "w", masker=Masker([token])
    )


@pytest.fixture
def store(sandbox) -> ClaimStore:
    return ClaimStore(client(sandbox))


@pytest.fixture
def tree(workspace):
    made = workspace.prepare(base="main", name="t")
    (made / "work.txt").write_text("ours\n")
    workspace.commit_all(made, message="work", author="ccc-cc01", email="cc01@example.com")
    return made


def take(store: ClaimStore, issue: int = 7, worker: str = "cc01"):
    return store.claim(issue, worker=worker, run_id="", run_url="", lease=LEASE)


def test_a_fenced_push_lands_the_branch_and_renews_the_claim_together(sandbox, store, workspace, tree, tmp_path):
    claim = take(store)
    pushed = Fence(store, workspace, lease=LEASE, scratch=tmp_path).push(claim, tree, "ccc/7-a")
    assert show_file(sandbox, "ccc/7-a", "work.txt") == "ours\n"
    assert store.read(7).nonce == pushed.record.nonce and pushed.record.kind is ClaimKind.RENEW
    assert pushed.record.reason == "pushed ccc/7-a"
    store.complete(pushed, pr_url="u")  # the API continues the chain git extended
    assert [r.kind for r in store.history(7)] == [ClaimKind.CLAIM, ClaimKind.RENEW, ClaimKind.COMPLETE]


def test_a_push_after_a_takeover_lands_nothing(sandbox, store, workspace, tree, tmp_path):
    stale = take(store)
    store.release(stale, "handed back")
    successor = take(store, worker="cc02")
    with pytest.raises(LeaseLost):
        Fence(store, workspace, lease=LEASE, scratch=tmp_path).push(stale, tree, "ccc/7-a")
    assert "ccc/7-a" not in branches(sandbox) and store.read(7).nonce == successor.record.nonce


def test_the_server_refuses_both_refs_when_the_lease_is_stale(sandbox, store, workspace, tree, tmp_path):
    """The check is the server's, not only git's client: the push names an old value the ref left."""
    first = take(store)
    moved = store.renew(first, LEASE)
    late = store.renewal(first, LEASE)  # what a stalled holder would write next
    stray = workspace.write_commit(_raw(tmp_path, store.commit_object(late, parent=first.head)))
    with pytest.raises(GitError):
        workspace.push_with_ref(tree, "ccc/7-b", ref=first.ref, old=first.head, new=stray)
    assert "ccc/7-b" not in branches(sandbox) and store.read(7).nonce == moved.record.nonce


def test_an_atomic_push_takes_the_claim_down_with_a_branch_the_server_refuses(
    sandbox, store, workspace, tree, tmp_path
):
    """`main/x` cannot exist beside `main`: only the server finds that out, after the lease check passed."""
    claim = take(store)
    record = store.renewal(claim, LEASE)
    new = workspace.write_commit(_raw(tmp_path, store.commit_object(record, parent=claim.head)))
    workspace.fetch_ref(claim.ref)
    with pytest.raises(GitError):
        workspace.push_with_ref(tree, "main/x", ref=claim.ref, old=claim.head, new=new)
    assert store.read(7).nonce == claim.record.nonce and workspace.remote_sha(claim.ref) == claim.head


def test_confirm_asks_git_and_spends_no_api_request(store, workspace, tmp_path):
    claim = take(store)
    before = store.client.counter.total
    fence = Fence(store, workspace, lease=LEASE, scratch=tmp_path)
    assert fence.confirm(claim) == claim
    store.renew(claim, LEASE)
    after_renewal = store.client.counter.total
    with pytest.raises(LeaseLost):
        fence.confirm(claim)
    assert store.client.counter.total == after_renewal and after_renewal - before == 2  # the renewal's own


def _raw(tmp_path, data: bytes):
    path = tmp_path / "raw-commit"
    path.write_bytes(data)
    return path


def test_claim_commits_made_by_git_are_those_the_api_makes(store, workspace, tmp_path):
    claim = take(store)
    workspace.fetch_ref(claim.ref)
    record = store.renewal(claim, LEASE, reason="r")
    sha = workspace.write_commit(_raw(tmp_path, store.commit_object(record, parent=claim.head)))
    assert git("-C", str(workspace.repo_dir), "cat-file", "-t", sha).strip() == "commit"
    made = store.client.create_commit(
        message=record.to_message(), tree=EMPTY_TREE, parents=[claim.head], when=record.at
    )
    assert made == sha
