"""One bare git repository of the sandbox, driven through the real `git` binary (plumbing only).

Every ref write is an atomic compare-and-set through `git update-ref REF NEW OLD`, so the API
and `git push` (which also goes through update-ref in receive-pack) can never overwrite each
other silently.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ZERO_SHA = "0" * 40
# The tree with no entries; claim commits use it, so it must exist in every repository.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

# Author and committer of the initial commit, so a fresh repository never depends on who runs it.
INITIAL_IDENTITY = {"name": "ccc sandbox", "email": "sandbox@ccc.invalid"}

# Settings for a bare repository served over HTTP. gc is off so no background repack races
# with concurrent ref updates; the lock timeouts make writers to one ref queue for the lock, so
# a loser fails on the compare (the ref moved), not on finding the lock taken.
REPO_CONFIG = {
    "http.receivepack": "true",
    "receive.hideRefs": "refs/pull",  # GitHub's pull refs are read-only: a push to them is denied
    "uploadpack.allowAnySHA1InWant": "true",
    "uploadpack.allowFilter": "true",
    "gc.auto": "0",
    "receive.autogc": "false",
    "core.logAllRefUpdates": "false",
    "core.filesRefLockTimeout": "1000",
    "core.packedRefsTimeout": "5000",
}


class GitCommandError(Exception):
    """A git command failed in a way that is not an answer (not "missing" or "lost the race")."""


def git_env(home: Path) -> dict[str, str]:
    """An environment where no system, global or user configuration can change git's behaviour."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


def to_git_date(iso: str) -> str:
    """ISO 8601 (as the API takes it, e.g. 2024-01-02T03:04:05Z) → git's `@epoch +hhmm` form."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    offset_minutes = int(when.utcoffset().total_seconds() // 60)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"@{int(when.timestamp())} {sign}{hours:02d}{minutes:02d}"


def from_git_date(epoch: str) -> str:
    """git's epoch seconds → the API's UTC timestamp (2024-01-02T03:04:05Z)."""
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_person(line: str) -> dict[str, str]:
    """`Name <email> 1700000000 +0100` → {name, email, date}."""
    name_email, _, stamp = line.rpartition(">")
    name, _, email = name_email.partition("<")
    epoch = stamp.split()[0]
    return {"name": name.strip(), "email": email, "date": from_git_date(epoch)}


class GitRepo:
    """A bare repository at `path`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"GitRepo({str(self.path)!r})"

    # --- running git -------------------------------------------------------------------------

    def run(
        self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess:
        """`git --git-dir=PATH ARGS`; raises GitCommandError when `check` and git fails."""
        full_env = {**git_env(self.path), **(env or {})}
        result = subprocess.run(
            ["git", f"--git-dir={self.path}", *args], input=input, env=full_env, capture_output=True, check=False
        )
        if check and result.returncode != 0:
            raise GitCommandError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
        return result

    def _out(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return self.run(*args, input=input, env=env).stdout.decode().strip()

    # --- creation ----------------------------------------------------------------------------

    @classmethod
    def init(cls, path: Path, default_branch: str = "main") -> GitRepo:
        """A bare repository whose default branch holds "Initial commit" (README.md); idempotent."""
        repo = cls(path)
        repo.path.parent.mkdir(parents=True, exist_ok=True)
        if not (repo.path / "HEAD").exists():
            subprocess.run(
                ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(repo.path)],
                env=git_env(repo.path.parent),
                capture_output=True,
                check=True,
            )
        for key, value in REPO_CONFIG.items():
            repo.run("config", key, value)
        repo.run("hash-object", "-w", "-t", "tree", "--stdin", input=b"")  # writes EMPTY_TREE
        branch = f"refs/heads/{default_branch}"
        if repo.resolve(branch) is None:
            repo.create_ref(branch, repo._initial_commit(readme=f"# {repo.path.name.removesuffix('.git')}\n"))
        return repo

    def _initial_commit(self, readme: str) -> str:
        blob = self._out("hash-object", "-w", "--stdin", input=readme.encode())
        tree = self._out("mktree", input=f"100644 blob {blob}\tREADME.md\n".encode())
        person = {**INITIAL_IDENTITY, "date": now_iso()}
        return self.create_commit(tree, [], "Initial commit", person, person)

    # --- objects -----------------------------------------------------------------------------

    def object_type(self, sha: str) -> str | None:
        """The object's type ("commit", "tree", "blob" or "tag"); None when there is no such object."""
        return self.object_types([sha]).get(sha)

    def object_types(self, shas: list[str]) -> dict[str, str]:
        """The type of each existing object among `shas`, in one git call."""
        shas = [sha for sha in shas if _is_full_sha(sha)]  # no revision syntax, no line breaks
        if not shas:
            return {}
        listing = self._out(
            "cat-file", "--batch-check=%(objectname) %(objecttype)", input="".join(f"{sha}\n" for sha in shas).encode()
        )
        pairs = (line.split(" ", 1) for line in listing.splitlines())
        return {sha: kind for sha, kind in pairs if kind != "missing"}

    def create_commit(
        self, tree: str, parents: list[str], message: str, author: dict[str, str], committer: dict[str, str]
    ) -> str:
        """Write a commit object (not moving any ref); people are {name, email, date (ISO 8601)}."""
        env = {
            "GIT_AUTHOR_NAME": author["name"],
            "GIT_AUTHOR_EMAIL": author["email"],
            "GIT_AUTHOR_DATE": to_git_date(author["date"]),
            "GIT_COMMITTER_NAME": committer["name"],
            "GIT_COMMITTER_EMAIL": committer["email"],
            "GIT_COMMITTER_DATE": to_git_date(committer["date"]),
        }
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        # -F - reads the message verbatim from stdin: no editing, no cleanup, any characters.
        return self._out("commit-tree", tree, *parent_args, "-F", "-", input=message.encode(), env=env)

    def create_tree(self, files: dict[str, str]) -> str:
        """Write a flat tree of regular files {path: text} (blobs included); its sha."""
        entries = []
        for path, text in sorted(files.items()):
            blob = self._out("hash-object", "-w", "--stdin", input=text.encode())
            entries.append(f"100644 blob {blob}\t{path}\n")
        return self._out("mktree", input="".join(entries).encode())

    def commit(self, sha: str) -> dict | None:
        """The commit's {sha, tree, parents, author, committer, message}; None if it is no commit."""
        result = self.run("cat-file", "commit", sha, check=False) if _is_full_sha(sha) else None
        if result is None or result.returncode != 0:
            return None
        raw = result.stdout.decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        fields: dict = {"sha": sha, "parents": [], "message": message}
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                fields["tree"] = value
            elif key == "parent":
                fields["parents"].append(value)
            elif key in ("author", "committer"):
                fields[key] = _parse_person(value)
        return fields

    def is_ancestor(self, ancestor_sha: str, descendant_sha: str) -> bool:
        """True when `ancestor_sha` is reachable from `descendant_sha` (a commit is its own ancestor)."""
        result = self.run("merge-base", "--is-ancestor", ancestor_sha, descendant_sha, check=False)
        return result.returncode == 0

    def share_history(self, sha: str, other: str) -> bool:
        """True when the two commits have a common ancestor."""
        return self.run("merge-base", sha, other, check=False).returncode == 0

    # --- refs --------------------------------------------------------------------------------

    def resolve(self, ref: str) -> str | None:
        """A full ref name (refs/...) or a sha → the sha it names; None when missing."""
        if _is_full_sha(ref):
            return ref if self.object_type(ref) else None
        target = self.ref_target(ref)
        return target[0] if target else None

    def ref_target(self, name: str) -> tuple[str, str] | None:
        """(sha, object type) of the ref named exactly `name`; None when there is no such ref.

        Exact names only: no revision syntax (main~1, @{0}) sneaks in through a URL.
        """
        if not name.startswith("refs/"):
            return None
        listing = self._out("for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", name)
        for line in listing.splitlines():
            found, sha, kind = line.split(" ")
            if found == name:  # the pattern also matches refs below it (refs/a matches refs/a/b)
                return sha, kind
        return None

    def list_refs(self, prefix: str = "refs/") -> list[tuple[str, str]]:
        """(name, sha) of every ref whose name starts with `prefix` (a plain string prefix, as
        GitHub's matching-refs), sorted by name."""
        listing = self._out("for-each-ref", "--format=%(refname) %(objectname)", "refs/")
        pairs = (line.split(" ", 1) for line in listing.splitlines() if line)
        return [(name, sha) for name, sha in pairs if name.startswith(prefix)]

    def is_valid_ref_name(self, name: str) -> bool:
        result = subprocess.run(
            ["git", "check-ref-format", name], env=git_env(self.path), capture_output=True, check=False
        )
        return result.returncode == 0

    def create_ref(self, name: str, sha: str) -> bool:
        """Create `name` at `sha`; False when it exists already (of concurrent creators one wins)."""
        return self.update_ref(name, sha, ZERO_SHA)

    def update_ref(self, name: str, new: str, old: str) -> bool:
        """Move `name` from `old` to `new` atomically; False when it was not at `old` any more."""
        if not (name.startswith("refs/") and _is_full_sha(new) and _is_full_sha(old)):
            return False  # nothing git could read as an option or a revision expression
        return self.run("update-ref", "--no-deref", name, new, old, check=False).returncode == 0

    def delete_ref(self, name: str, old: str) -> bool:
        """Delete `name` if it still points at `old`; False otherwise."""
        if not (name.startswith("refs/") and _is_full_sha(old)):
            return False
        return self.run("update-ref", "--no-deref", "-d", name, old, check=False).returncode == 0


def _is_full_sha(value: str) -> bool:
    return len(value) == 40 and all(c in "0123456789abcdef" for c in value)
