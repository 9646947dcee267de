"""SQLite state of the sandbox: users and tokens, repositories, and everything the API serves.

One connection guarded by one re-entrant lock: every handler sees a consistent database and
writes happen in `BEGIN IMMEDIATE` transactions, so numbers are unique and no update is lost.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ccc.sandbox.records import Repo, User, new_token, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
    permission TEXT NOT NULL, token TEXT UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, default_branch TEXT NOT NULL,
    next_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, UNIQUE (owner, name));
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    color TEXT NOT NULL, description TEXT, is_default INTEGER NOT NULL DEFAULT 0,
    UNIQUE (repo_id, name));
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL,
    body TEXT, state TEXT NOT NULL DEFAULT 'open', state_reason TEXT, user_id INTEGER NOT NULL,
    closed_by_id INTEGER, is_pull INTEGER NOT NULL DEFAULT 0, comments INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT, UNIQUE (repo_id, number));
CREATE TABLE IF NOT EXISTS issue_labels (
    issue_id INTEGER NOT NULL, label_id INTEGER NOT NULL, PRIMARY KEY (issue_id, label_id));
CREATE TABLE IF NOT EXISTS issue_assignees (
    issue_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (issue_id, user_id));
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, issue_id INTEGER NOT NULL, user_id INTEGER NOT NULL, body TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pulls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, issue_id INTEGER NOT NULL UNIQUE, head_ref TEXT NOT NULL,
    head_sha TEXT NOT NULL, base_ref TEXT NOT NULL, base_sha TEXT NOT NULL,
    draft INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sub_issues (
    parent_id INTEGER NOT NULL, child_id INTEGER NOT NULL UNIQUE, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issue_events (
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, issue_id INTEGER NOT NULL, event TEXT NOT NULL,
    actor_id INTEGER NOT NULL, commit_id TEXT, details TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS merges (
    pull_id INTEGER PRIMARY KEY, sha TEXT NOT NULL, user_id INTEGER NOT NULL, merged_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY, pull_id INTEGER NOT NULL, user_id INTEGER NOT NULL, state TEXT NOT NULL,
    body TEXT NOT NULL, commit_id TEXT NOT NULL, submitted_at TEXT);
CREATE TABLE IF NOT EXISTS review_comments (
    id INTEGER PRIMARY KEY, review_id INTEGER NOT NULL, pull_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    path TEXT NOT NULL, line INTEGER NOT NULL, side TEXT NOT NULL, body TEXT NOT NULL, commit_id TEXT NOT NULL,
    diff_hunk TEXT NOT NULL, position INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
"""

# Tables emptied by a reset; users (and so tokens) survive it.
RESET_TABLES = (
    "repos",
    "labels",
    "issues",
    "issue_labels",
    "issue_assignees",
    "comments",
    "pulls",
    "sub_issues",
    "events",
    "issue_events",
    "kv",
    "merges",
    "reviews",
    "review_comments",
)

# Where ids start, as large as GitHub's and in separate ranges, so an id is never mistaken for a
# number (an issue's id for its number, or a pull request's id for its issue's).
FIRST_IDS = {"issues": 3_100_000_001, "pulls": 2_700_000_001, "comments": 3_400_000_001}

# Seeded on every start: login → (type, permission).
SEED_USERS = {
    "maintainer": ("User", "admin"),
    "github-actions[bot]": ("Bot", "write"),
    "outside-triager": ("User", "triage"),
    "outside-reader": ("User", "read"),
}
# github-actions[bot] has this id on github.com; keeping it makes payloads look familiar.
BOT_IDS = {"github-actions[bot]": 41898282}

# The labels GitHub creates in every new repository.
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)


class Store:
    """The sandbox database in DATA/sandbox.db plus the bare repositories under DATA/git."""

    # New repositories' "Allow GitHub Actions to create and approve pull requests" (the profile sets it).
    actions_create_pulls_default = True

    def __init__(self, data_dir: Path, db: sqlite3.Connection | None = None):
        self.data_dir = data_dir
        self.lock = threading.RLock()
        self.users_by_id: dict[int, User] = {}  # rendering looks authors up often; users change rarely
        if db is None:
            data_dir.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(data_dir / "sandbox.db", check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            for table, first in FIRST_IDS.items():
                db.execute(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? "
                    "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                    (table, first - 1, table),
                )
        db.row_factory = sqlite3.Row
        self.db = db

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One write transaction; nested calls join the outer one."""
        with self.lock:
            if self.db.in_transaction:
                yield
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def row(self, sql: str, *params: Any) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, params).fetchone()

    def execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        with self.tx():
            return self.db.execute(sql, params)

    def snapshot(self) -> Store:
        """A frozen in-memory copy (for stale reads); writes to it are never seen by anyone else."""
        copy = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        with self.lock:
            self.db.backup(copy)
        snapshot = Store(self.data_dir, copy)
        snapshot.actions_create_pulls_default = self.actions_create_pulls_default
        return snapshot

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # -- key/value (counters that survive restarts) ---------------------------------------------

    def get_json(self, key: str, default: Any = None) -> Any:
        found = self.row("SELECT value FROM kv WHERE key = ?", key)
        return json.loads(found["value"]) if found else default

    def put_json(self, key: str, value: Any) -> None:
        self.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", key, json.dumps(value))

    # -- users ----------------------------------------------------------------------------------

    def ensure_user(self, login: str, *, type: str = "User", permission: str = "none", with_token: bool = True) -> User:
        """Create or update a user; a token is made once and then kept across restarts."""
        self.users_by_id.clear()
        with self.tx():
            found = self.user_by_login(login)
            if found is None:
                token = new_token("ghs" if type == "Bot" else "ghp") if with_token else None
                self.db.execute(
                    "INSERT INTO users (id, login, type, permission, token, created_at) VALUES (?,?,?,?,?,?)",
                    (BOT_IDS.get(login), login, type, permission, token, now_iso()),
                )
            elif with_token:
                token = found.token or new_token("ghs" if type == "Bot" else "ghp")
                self.db.execute(
                    "UPDATE users SET type = ?, permission = ?, token = ? WHERE id = ?",
                    (type, permission, token, found.id),
                )
            return self.user_by_login(login)

    def _user(self, found: sqlite3.Row | None) -> User | None:
        if found is None:
            return None
        return User(found["id"], found["login"], found["type"], found["permission"], found["token"])

    def user_by_login(self, login: str) -> User | None:
        return self._user(self.row("SELECT * FROM users WHERE login = ?", login))

    def user_by_id(self, user_id: int) -> User | None:
        if user_id not in self.users_by_id:
            found = self._user(self.row("SELECT * FROM users WHERE id = ?", user_id))
            if found is None:
                return None
            self.users_by_id[user_id] = found
        return self.users_by_id[user_id]

    def user_by_token(self, token: str) -> User | None:
        return self._user(self.row("SELECT * FROM users WHERE token = ?", token))

    def token_users(self) -> list[User]:
        return [self._user(r) for r in self.rows("SELECT * FROM users WHERE token IS NOT NULL ORDER BY id")]

    def permission(self, user: User, repo: Repo) -> str:
        """The user's permission on a repository: the owner is admin, others have their token's level."""
        return "admin" if user.login == repo.owner else user.permission

    def author_association(self, user: User, repo: Repo) -> str:
        """GitHub's relation of an author to a repository."""
        if user.login == repo.owner:
            return "OWNER"
        if user.type == "Bot" or user.permission == "none":
            return "NONE"
        # Admins and maintainers are members of the owning organisation; others are invited collaborators.
        return "MEMBER" if user.permission in ("admin", "maintain") else "COLLABORATOR"

    # -- repositories ---------------------------------------------------------------------------

    def git_path(self, owner: str, name: str) -> Path:
        return self.data_dir / "git" / owner / f"{name}.git"

    def _repo(self, found: sqlite3.Row | None) -> Repo | None:
        if found is None:
            return None
        return Repo(
            found["id"],
            found["owner"],
            found["name"],
            found["default_branch"],
            found["created_at"],
            self.git_path(found["owner"], found["name"]),
        )

    def repo(self, owner: str, name: str) -> Repo | None:
        return self._repo(self.row("SELECT * FROM repos WHERE owner = ? AND name = ? COLLATE NOCASE", owner, name))

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return self._repo(self.row("SELECT * FROM repos WHERE id = ?", repo_id))

    def repos(self) -> list[Repo]:
        return [self._repo(r) for r in self.rows("SELECT * FROM repos ORDER BY id")]

    def create_repo(self, full_name: str, default_branch: str = "main") -> Repo:
        """Create the repository with GitHub's default labels and a bare git repo (idempotent)."""
        from ccc.sandbox.gitrepo import GitRepo

        owner, name = full_name.split("/", 1)
        if self.user_by_login(owner) is None:
            self.ensure_user(owner, type="Organization", with_token=False)
        with self.tx():
            existing = self.repo(owner, name)
            if existing is None:
                cursor = self.db.execute(
                    "INSERT INTO repos (owner, name, default_branch, created_at) VALUES (?,?,?,?)",
                    (owner, name, default_branch, now_iso()),
                )
                self.db.executemany(
                    "INSERT INTO labels (repo_id, name, color, description, is_default) VALUES (?,?,?,?,1)",
                    [(cursor.lastrowid, *label) for label in DEFAULT_LABELS],
                )
            existing = self.repo(owner, name)
        GitRepo.init(existing.git_path, default_branch=existing.default_branch)
        return existing

    def reset(self) -> None:
        """Drop every repository and record (users and tokens stay) and their git data."""
        with self.tx():
            for table in RESET_TABLES:
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        shutil.rmtree(self.data_dir / "git", ignore_errors=True)

    def next_number(self, repo: Repo) -> int:
        """The repository's next issue/PR number; call inside the transaction that uses it."""
        with self.tx():
            number = self.row("SELECT next_number FROM repos WHERE id = ?", repo.id)["next_number"]
            self.db.execute("UPDATE repos SET next_number = ? WHERE id = ?", (number + 1, repo.id))
            return number
