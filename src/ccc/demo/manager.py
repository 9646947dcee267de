"""The demo's manager: `ccc manager …` run as its own process with the manager's token, as its workflow would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ccc.errors import CccError
from ccc.sandbox.process import SandboxProcess

# The sandbox's seeded admin: it opens the task issues, so workers trust them.
MANAGER_LOGIN = "maintainer"
# The subcommands that read manifests, and those that write (and so pace their writes).
MANIFEST_COMMANDS = ("plan", "sync")
WRITING_COMMANDS = ("sync", "summarize", "reap")
# Workflow variables that would make a child process act as if it ran in GitHub Actions.
ACTIONS_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT")


def child_env(token: str) -> dict[str, str]:
    """The environment of a demo process: ours, its own token, and nothing that says "Actions"."""
    env = {**os.environ, "GITHUB_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    for name in ACTIONS_VARIABLES:
        env.pop(name, None)  # the demo is not a workflow run, even when started from one
    return env


class ManagerCommands:
    """Runs `ccc manager …` as its own process, as the manager's workflow would, with the manager's token."""

    def __init__(self, sandbox: SandboxProcess, root: Path, log: Path):
        self.sandbox = sandbox
        self.root = root
        self.log = log
        self.lock = threading.Lock()

    def result(self, command: str) -> dict:
        """Run `command` with --json; its decoded result ({} when it printed none)."""
        try:
            return json.loads(self.run(command, "--json"))
        except json.JSONDecodeError:
            return {}

    def run(self, command: str, *flags: str) -> str:
        """Run `ccc manager <command>`; its stdout. Raises CccError (log in `self.log`) when it fails."""
        argv = [
            sys.executable,
            "-m",
            "ccc",
            "manager",
            command,
            *(("--root", str(self.root)) if command in MANIFEST_COMMANDS else ()),
            "--repo",
            self.sandbox.repo,
            "--api-url",
            self.sandbox.api_url,
            "--manager-login",
            MANAGER_LOGIN,
            *(("--max-writes-per-minute", "0") if command in WRITING_COMMANDS else ()),
            *flags,
        ]
        env = child_env(self.sandbox.token(MANAGER_LOGIN))
        with self.lock, open(self.log, "a", encoding="utf-8") as log:
            log.write(f"$ ccc manager {command}\n")
            log.flush()
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env, check=False)
            log.write(done.stdout)
        if done.returncode != 0:
            raise CccError(f"ccc manager {command} failed (exit {done.returncode}); see {self.log}")
        return done.stdout


class Background:
    """Runs one job at a time in a thread; a request while it runs schedules exactly one more run."""

    def __init__(self, job: Callable[[], object]):
        self.job = job
        self.lock = threading.Lock()
        self.pending = False
        self.thread: threading.Thread | None = None

    def request(self) -> None:
        with self.lock:
            if self.thread and self.thread.is_alive():
                self.pending = True
                return
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self.job()
            except CccError:
                pass  # the final summarize reports failures; a missed intermediate one only delays
            with self.lock:
                if not self.pending:
                    return
                self.pending = False
