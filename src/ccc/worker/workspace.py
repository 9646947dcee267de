"""Work trees for tasks: one git worktree per task, made from a clone (or an actions/checkout checkout).

Only the real git binary is used. The token reaches git solely as an `http.extraheader` passed through
GIT_CONFIG_* variables of the one command that talks to the server: never in a URL, an argument
or `.git/config`, so nothing the agent can read in the work tree holds it.
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

log = logging.getLogger(__name__)

# Hooks planted in a work tree must not run with the token in the environment.
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false")


class GitError(CccError):
    """A git command failed; the message carries its (masked) output."""


class Workspace:
    """The repository on disk, and the work trees cut from it for tasks."""

    def __init__(self, *, remote_url: str, token: str, root: Path, masker: Masker, checkout: Path | None = None):
        self.remote_url = remote_url
        self.root = root
        self.repo_dir = checkout or root / "repo"
        self.masker = masker
        self._auth = _auth_config(remote_url, token)
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
        self._git("worktree", "add", "--force", "--detach", str(tree), tracking)
        return tree

    def commit_all(self, tree: Path, *, message: str, author: str, email: str) -> bool:
        """Commit every change in the work tree; False when there was nothing to commit."""
        self._git("add", "--all", cwd=tree)
        if subprocess.run(["git", *_SAFE, "diff", "--cached", "--quiet"], cwd=tree, env=_git_env()).returncode == 0:
            return False
        identity = ("-c", f"user.name={author}", "-c", f"user.email={email}")
        self._git(*identity, "commit", "--quiet", "--no-verify", "-m", message, cwd=tree)
        return True

    def has_commits_beyond(self, tree: Path, base: str) -> bool:
        out = self._git("rev-list", "--count", f"refs/remotes/origin/{base}..HEAD", cwd=tree)
        return int(out.strip() or 0) > 0

    def push(self, tree: Path, branch: str) -> None:
        """Push the work branch; a retry's branch replaces the one a failed attempt left for inspection."""
        self._git("push", "--force", "--quiet", self.remote_url, f"HEAD:refs/heads/{branch}", cwd=tree, auth=True)

    def push_with_ref(self, tree: Path, branch: str, *, ref: str, old: str, new: str) -> None:
        """Push the work branch and move `ref` from `old` to `new` atomically: both land, or neither.

        `--force-with-lease` makes the server refuse `ref` unless it still points at `old`, and
        `--atomic` makes that refusal take the branch down with it.
        """
        self._git(
            "push", "--atomic", "--porcelain", f"--force-with-lease={ref}:{old}", self.remote_url,
            f"+HEAD:refs/heads/{branch}", f"{new}:{ref}", cwd=tree, auth=True,
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
        if tree.exists():
            self._git("worktree", "remove", "--force", str(tree), check=False)
            shutil.rmtree(tree, ignore_errors=True)
        self._git("worktree", "prune", check=False)

    # -- plumbing ------------------------------------------------------------------------------

    def _git(self, *args: str, cwd: Path | None = None, auth: bool = False, check: bool = True) -> str:
        env = _git_env(self._auth if auth else {})
        proc = subprocess.run(
            ["git", *_SAFE, *args],
            cwd=cwd or self.repo_dir,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            output = self.masker((proc.stderr or proc.stdout).strip())
            raise GitError(f"git {args[0]} failed ({proc.returncode}): {output[-2000:]}")
        return proc.stdout


def _git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", **(extra or {}))
    return env


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
