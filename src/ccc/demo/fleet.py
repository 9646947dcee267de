"""The demo's workers: independent `ccc worker run --loop` OS processes, each with its own label, token and directory.

They share nothing with the demo or each other but the sandbox's API and git, as workers on
separate machines share only GitHub. Each writes its log to `<data>/workers/<label>.log`.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ccc.demo.manager import child_env
from ccc.isolation.confine import BASE_PYTHON
from ccc.sandbox.process import SandboxProcess

STOP_GRACE_SECONDS = 10
# A crashed worker is started again, as its schedule would on a runner, at most this many times.
MAX_RESTARTS = 5


def worker_login(label: str) -> str:
    """The sandbox user a worker acts as (write permission: enough to claim, push and open PRs)."""
    return f"worker-{label}"


@dataclass(frozen=True)
class WorkerPlan:
    """How one worker runs: its label, the agent and test commands, and how often it polls."""

    label: str
    agent: Path
    pace: float = 0.3
    interval: float = 1.0
    lease_minutes: float = 0.5  # short, so a crashed worker's task is taken over within the demo

    # The agent and the tests run confined: with the bare interpreter (the venv is not visible to them).
    def agent_command(self) -> str:
        return f"{shlex.quote(str(BASE_PYTHON))} {shlex.quote(str(self.agent))} --pace {self.pace}"

    @staticmethod
    def test_command() -> str:
        return f"{shlex.quote(str(BASE_PYTHON))} -m unittest discover -s tests -q"

    def argv(self, sandbox: SandboxProcess, workdir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ccc",
            "worker",
            "run",
            "--loop",
            "--interval",
            str(self.interval),
            "--worker",
            self.label,
            "--repo",
            sandbox.repo,
            "--api-url",
            sandbox.api_url,
            "--git-url",
            sandbox.git_url,
            "--workdir",
            str(workdir),
            "--cache-dir",
            str(workdir / "listings"),
            "--command",
            self.agent_command(),
            "--read-only-paths",
            str(self.agent.parent),
            "--test-command",
            self.test_command(),
            "--lease-minutes",
            str(self.lease_minutes),
            "--progress-interval",
            "1",
            # The sandbox has no secondary rate limit to respect; GitHub asks for a second between writes.
            "--write-pacing",
            "0",
        ]


class Fleet:
    """Starts, watches and stops the worker processes."""

    def __init__(self, sandbox: SandboxProcess, data_dir: Path):
        self.sandbox = sandbox
        self.data_dir = Path(data_dir) / "workers"
        self.processes: dict[str, subprocess.Popen] = {}
        self.plans: dict[str, WorkerPlan] = {}
        self.restarts: dict[str, int] = {}

    def start(self, plan: WorkerPlan) -> subprocess.Popen:
        self.plans[plan.label] = plan
        self.restarts.setdefault(plan.label, 0)
        # A fresh directory per start, as each scheduled runner job gets: a restart does not
        # inherit the work trees its crashed predecessor left behind.
        workdir = self.data_dir / plan.label / f"run-{self.restarts[plan.label] + 1}"
        workdir.mkdir(parents=True, exist_ok=True)
        env = child_env(self.sandbox.token(worker_login(plan.label)))
        with open(self.log_path(plan.label), "ab") as log:
            process = subprocess.Popen(
                plan.argv(self.sandbox, workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: stopping it stops its agent too
            )
        self.processes[plan.label] = process
        return process

    def restart_crashed(self) -> list[tuple[str, str]]:
        """Start again every worker that exited, while it has restarts left; (label, why it exited)."""
        restarted = []
        for label, code in self.exited().items():
            if self.restarts[label] < MAX_RESTARTS:
                why = f"killed by signal {-code}" if code < 0 else f"exit {code}: {self.last_error(label)}"
                restarted.append((label, why))
                self.restarts[label] += 1
                self.start(self.plans[label])
        return restarted

    def last_error(self, label: str) -> str:
        """The last `error:` line of a worker's log (what the CLI printed before exiting)."""
        lines = [line for line in self.log_tail(label, 40).splitlines() if line.startswith("error:")]
        return lines[-1] if lines else "no error line"

    def log_path(self, label: str) -> Path:
        return self.data_dir / f"{label}.log"

    def running(self) -> list[str]:
        return [label for label, process in self.processes.items() if process.poll() is None]

    def exited(self) -> dict[str, int]:
        return {label: code for label, process in self.processes.items() if (code := process.poll()) is not None}

    def stop(self) -> dict[str, int]:
        """SIGTERM every worker's process group, then SIGKILL what is left after a grace period."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        return {label: process.returncode for label, process in self.processes.items()}

    def kill(self, label: str) -> None:
        """SIGKILL a worker's process group, as a runner that dies mid-task: no release, its lease runs out."""
        _signal_group(self.processes[label], signal.SIGKILL)

    def log_tail(self, label: str, lines: int = 15) -> str:
        path = self.log_path(label)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass
