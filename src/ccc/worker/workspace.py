"""Work trees for tasks: one git worktree per task, made from a clone (or an actions/checkout checkout).

The worker's git never trusts the work tree. Each task tree loses its `.git` file once made: the
worker names the git directory explicitly (`--git-dir`, `--work-tree`), and that directory lies
outside everything the confined agent can write, so no config, hook or attribute filter the agent
plants is ever read. Every git command runs through `run_git`: no system or global config, hooks
off, only the remote's transport protocol allowed, a minimal environment. The token reaches git
solely as an `http.extraheader` in GIT_CONFIG_* variables of the commands that talk to the server:
never in a URL, an argument or `.git/config`.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
from pathlib import Path

from ccc.errors import CccError
from ccc.worker.masking import Masker
from ccc.worker.treecheck import TreePolicy, check, staged_changes

log = logging.getLogger(__name__)

# Config that nothing on disk may override for the worker's own git: no hooks, no helpers, no fsmonitor,
# no submodule recursion, and no transport but the remote's (protocol.<scheme>.allow is added per remote).
_SAFE = (
    "-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false",
    "-c", "submodule.recurse=false", "-c", "protocol.allow=never", "-c", "core.sshCommand=false",
)  # fmt: skip
# What git needs from the environment; nothing else of the worker's reaches it.
_GIT_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ")


class GitError(CccError):
    """A git command failed; the message carries its (masked) output."""


class Workspace:
    """The repository on disk, and the work trees cut from it for tasks."""

    def __init__(
        self,
        *,
        remote_url: str,
        token: str,
        root: Path,
        masker: Masker,
        checkout: Path | None = None,
        policy: TreePolicy | None = None,
    ):
        self.remote_url = remote_url
        self.root = root
        self.repo_dir = checkout or root / "repo"
        self.masker = masker
        self.policy = policy or TreePolicy(secrets=tuple(masker.values))
        self._auth = _auth_config(remote_url, token)
        self._protocol = ("-c", f"protocol.{remote_url.partition('://')[0] or 'file'}.allow=always")
        self._git_dirs: dict[Path, Path] = {}  # task tree -> its git directory, recorded before the agent ran
        self._default_branch: str | None = None

    # -- the shared clone ----------------------------------------------------------------------

    def ensure_repo(self) -> None:
        """Clone once; later tasks only fetch."""
        if (self.repo_dir / ".git").exists() or (self.repo_dir / "HEAD").is_file():
            return
        self.repo_dir.parent.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self._git(
            "clone",
            "--no-checkout",
            "--origin",
            "origin",
            self.remote_url,
            str(self.repo_dir),
            cwd=self.root,
            auth=True,
        )

    def default_branch(self) -> str:
        """The branch the server's HEAD names (asked once)."""
        if self._default_branch is None:
            self.root.mkdir(parents=True, exist_ok=True)
            out = self._git("ls-remote", "--symref", self.remote_url, "HEAD", cwd=self.root, auth=True)
            for line in out.splitlines():
                if line.startswith("ref: refs/heads/"):
                    self._default_branch = line.split()[1].removeprefix("refs/heads/")
                    break
            else:
                raise GitError(f"{self.masker(self.remote_url)}: the server did not name a default branch")
        return self._default_branch

    # -- per task ------------------------------------------------------------------------------

    def prepare(self, *, base: str, name: str) -> Path:
        """A clean work tree at the tip of `base`, detached: the work branch exists only on the server,
        so no tree left over from an earlier attempt can hold it."""
        self.ensure_repo()
        tracking = f"refs/remotes/origin/{base}"
        self._git("fetch", "--no-tags", "--force", self.remote_url, f"+refs/heads/{base}:{tracking}", auth=True)
        tree = self.root / "trees" / name
        self.remove(tree)
        # Locked, so that no prune removes its git directory while the tree has no .git file.
        self._git("worktree", "add", "--force", "--lock", "--detach", str(tree), tracking)
        self._git_dirs[tree] = Path(self._git("rev-parse", "--absolute-git-dir", cwd=tree).strip())
        (tree / ".git").unlink()  # the agent sees a plain tree; the worker names the git directory itself
        return tree

    def commit_all(self, tree: Path, *, message: str, author: str, email: str) -> bool:
        """Commit every change in the work tree; False when there was nothing to commit.

        Raises TreeRefused (nothing committed) when the changes break a rule of the tree policy.
        """
        self._tree_git(tree, "add", "--all")
        changes = staged_changes(lambda *args: self._tree_git(tree, *args))
        if not changes:
            return False
        check(changes, tree, lambda *args: self._tree_git(tree, *args), self.policy)
        identity = ("-c", f"user.name={author}", "-c", f"user.email={email}")
        self._tree_git(tree, *identity, "commit", "--quiet", "--no-verify", "-m", message)
        return True

    def has_commits_beyond(self, tree: Path, base: str) -> bool:
        out = self._tree_git(tree, "rev-list", "--count", f"refs/remotes/origin/{base}..HEAD")
        return int(out.strip() or 0) > 0

    def push(self, tree: Path, branch: str) -> None:
        """Push the work branch; a retry's branch replaces the one a failed attempt left for inspection."""
        self._tree_git(tree, "push", "--force", "--quiet", self.remote_url, f"HEAD:refs/heads/{branch}", auth=True)

    def push_with_ref(self, tree: Path, branch: str, *, ref: str, old: str, new: str) -> None:
        """Push the work branch and move `ref` from `old` to `new` atomically: both land, or neither.

        `--force-with-lease` makes the server refuse `ref` unless it still points at `old`, and
        `--atomic` makes that refusal take the branch down with it.
        """
        self._tree_git(
            tree, "push", "--atomic", "--porcelain", f"--force-with-lease={ref}:{old}", self.remote_url,
            f"+HEAD:refs/heads/{branch}", f"{new}:{ref}", auth=True,
        )  # fmt: skip

    def fetch_ref(self, ref: str) -> str | None:
        """Copy the server's `ref` (and the commits it reaches) into the clone; its sha, or None when absent."""
        self.ensure_repo()
        if not self.remote_sha(ref):
            return None
        self._git("fetch", "--no-tags", "--force", self.remote_url, f"+{ref}:{ref}", auth=True)
        return self._git("rev-parse", "--verify", "--quiet", ref).strip()

    def remote_sha(self, ref: str) -> str | None:
        """Where `ref` points on the server now (git's own answer, never a lagging API replica)."""
        self.root.mkdir(parents=True, exist_ok=True)
        out = self._git("ls-remote", self.remote_url, ref, cwd=self.root, auth=True)
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def write_commit(self, raw: Path) -> str:
        """Store a commit object written out in git's own format (`raw`); its sha."""
        return self._git("hash-object", "-t", "commit", "-w", str(raw)).strip()

    def remove(self, tree: Path) -> None:
        git_dir = self._git_dirs.pop(tree, None)
        if tree.exists():
            shutil.rmtree(tree, ignore_errors=True)
        if git_dir is not None:
            shutil.rmtree(git_dir, ignore_errors=True)  # the tree's own git directory (HEAD, index)
        self._git("worktree", "prune", check=False)

    # -- plumbing ------------------------------------------------------------------------------

    def _tree_git(self, tree: Path, *args: str, auth: bool = False) -> str:
        """git on a task tree, with its git directory named explicitly: nothing in the tree can redirect it."""
        git_dir = self._git_dirs[tree]
        return self._git("--git-dir", str(git_dir), "--work-tree", str(tree), *args, cwd=tree, auth=auth)

    def _git(self, *args: str, cwd: Path | None = None, auth: bool = False, check: bool = True) -> str:
        return run_git(
            *self._protocol, *args, cwd=cwd or self.repo_dir, env=self._auth if auth else {}, check=check,
            masker=self.masker,
        )  # fmt: skip


def run_git(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True, masker: Masker | None = None
) -> str:
    """The one way the worker runs git: hardened config, a minimal environment, `env` (credentials) added."""
    proc = subprocess.run(
        ["git", *_SAFE, *args],
        cwd=cwd,
        env=git_env(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()
        output = masker(output) if masker else output
        raise GitError(f"git {_subcommand(args)} failed ({proc.returncode}): {output[-2000:]}")
    return proc.stdout


def _subcommand(args: tuple[str, ...]) -> str:
    """The git command's name, past the global options (and their values) in front of it."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        del rest[: 2 if rest[0] in ("-c", "--git-dir", "--work-tree") else 1]
    return rest[0] if rest else "?"


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """No system or global config, no prompts, no inherited GIT_* variables: only what is passed on purpose."""
    env = {name: os.environ[name] for name in _GIT_PASSTHROUGH if name in os.environ}
    env |= {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "HOME": "/nonexistent",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
    }
    return env | (extra or {})


def _auth_config(remote_url: str, token: str) -> dict[str, str]:
    """GIT_CONFIG_* variables carrying the token as an Authorization header for `remote_url`'s server only.

    The empty first value clears headers other configuration set for that server (actions/checkout
    persists its own), so exactly one Authorization header is sent.
    """
    scheme, _, rest = remote_url.partition("://")
    key = f"http.{scheme}://{rest.split('/', 1)[0]}/.extraheader"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": key,
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": key,
        "GIT_CONFIG_VALUE_1": f"AUTHORIZATION: basic {basic}",
    }
