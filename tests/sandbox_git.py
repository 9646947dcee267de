"""A git clone of a sandbox repository for tests that need branches with real file changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ccc.sandbox.gitrepo import git_env
from ccc.sandbox.process import SandboxProcess


class Clone:
    """A work tree of the sandbox's first repository, pushing with one login's token."""

    def __init__(self, sandbox: SandboxProcess, path: Path, login: str = "maintainer"):
        self.path, self.home = path, path.parent
        subprocess.run(
            ["git", "clone", "-q", sandbox.clone_url(login), str(path)],
            env=git_env(self.home),
            capture_output=True,
            check=True,
        )

    def git(self, *args: str) -> str:
        identity = ["-c", "user.name=cc01", "-c", "user.email=cc01@example.com"]
        result = subprocess.run(
            ["git", *identity, *args], cwd=self.path, env=git_env(self.home), capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def branch(self, name: str, files: dict[str, str], *, start: str = "origin/main", message: str = "") -> str:
        """Branch `name` from `start` with one commit writing `files`, pushed; its sha."""
        self.git("fetch", "-q", "origin")
        self.git("checkout", "-q", "-B", name, start)
        return self.commit(files, message or f"change {', '.join(files)} on {name}", push=name)

    def commit(self, files: dict[str, str], message: str, *, push: str) -> str:
        """One commit on the checked-out branch writing `files`, pushed to branch `push`; its sha."""
        for name, content in files.items():
            (self.path / name).parent.mkdir(parents=True, exist_ok=True)
            (self.path / name).write_text(content)
            self.git("add", name)
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", f"HEAD:refs/heads/{push}")
        return self.git("rev-parse", "HEAD")

    def show(self, ref: str, path: str) -> str:
        self.git("fetch", "-q", "--prune", "origin")
        return self.git("show", f"{ref}:{path}")
