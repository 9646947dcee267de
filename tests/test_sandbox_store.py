"""The SQLite store on its own: tokens that persist, unique numbers under threads, reset, snapshots."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ccc.sandbox.store import Store


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "data")
    yield opened
    opened.close()


def test_token_is_made_once_and_kept_when_reopened(tmp_path, store):
    made = store.ensure_user("cc01", permission="write")
    assert made.token.startswith("ghp_") and len(made.token) == 40
    assert store.ensure_user("cc01", permission="triage").token == made.token
    store.close()
    reopened = Store(tmp_path / "data")
    assert reopened.user_by_token(made.token).permission == "triage"
    reopened.close()


def test_bot_tokens_look_like_installation_tokens(store):
    assert store.ensure_user("helper[bot]", type="Bot", permission="write").token.startswith("ghs_")


def test_numbers_are_unique_under_concurrent_transactions(store):
    repo = store.create_repo("acme/widgets")
    with ThreadPoolExecutor(max_workers=32) as pool:
        numbers = list(pool.map(lambda _: store.next_number(repo), range(200)))
    assert sorted(numbers) == list(range(1, 201))


def test_repository_is_created_once_with_default_labels_and_a_bare_repo(store):
    first = store.create_repo("acme/widgets")
    assert store.create_repo("acme/widgets") == first
    assert store.rows("SELECT COUNT(*) AS n FROM labels")[0]["n"] == 9
    assert first.git_path.is_dir() and first.git.resolve("refs/heads/main")
    assert store.user_by_login("acme").type == "Organization"


def test_reset_removes_repositories_and_git_data_but_keeps_users(store):
    user = store.ensure_user("cc01", permission="write")
    repo = store.create_repo("acme/widgets")
    store.reset()
    assert store.repos() == []
    assert not repo.git_path.exists()
    assert store.user_by_token(user.token) == user


def test_failed_transaction_leaves_nothing_behind(store):
    repo = store.create_repo("acme/widgets")
    with pytest.raises(RuntimeError), store.tx():
        store.next_number(repo)
        raise RuntimeError("handler failed")
    assert store.next_number(repo) == 1


def test_snapshot_does_not_see_later_writes(store):
    repo = store.create_repo("acme/widgets")
    snapshot = store.snapshot()
    store.next_number(repo)
    assert snapshot.row("SELECT next_number FROM repos")["next_number"] == 1
    assert store.row("SELECT next_number FROM repos")["next_number"] == 2


@pytest.mark.parametrize(
    ("login", "permission", "kind", "association"),
    [
        ("acme", "none", "Organization", "OWNER"),
        ("boss", "admin", "User", "MEMBER"),
        ("dev", "write", "User", "COLLABORATOR"),
        ("triager", "triage", "User", "COLLABORATOR"),
        ("helper[bot]", "write", "Bot", "NONE"),
        ("stranger", "none", "User", "NONE"),
    ],
)
def test_author_association_reflects_the_relation_to_the_repository(store, login, permission, kind, association):
    repo = store.create_repo("acme/widgets")
    user = store.ensure_user(login, type=kind, permission=permission)
    assert store.author_association(user, repo) == association


def test_user_looked_up_by_id_reflects_a_later_permission_change(store):
    user = store.ensure_user("cc01", permission="write")
    assert store.user_by_id(user.id).permission == "write"
    store.ensure_user("cc01", permission="read")
    assert store.user_by_id(user.id).permission == "read"
