"""Running the agent (or the test command): its own process group, a clean environment, a hard timeout.

The command gets only an allow-listed environment plus the CCC_* task variables: no GitHub token
or other secret unless the settings pass it on purpose. A timeout, or a lost lease, kills the whole
process group, so nothing the agent started outlives it. Lines the agent appends to its progress
file are handed to a callback while it runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# What a shell and common tools need; everything else in the worker's environment stays out.
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "USER", "LOGNAME", "SHELL")
KILL_GRACE_SECONDS = 3.0
TAIL_LINES = 40
TAIL_CHARS = 4000


@dataclass(frozen=True)
class CommandRun:
    exit_code: int | None  # None when killed
    timed_out: bool
    stopped: bool  # killed because we were told to stop (lease lost)
    seconds: float
    log_tail: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.stopped

    def describe(self, what: str) -> str:
        if self.timed_out:
            return f"{what} timed out after {self.seconds:.0f}s and was killed"
        if self.stopped:
            return f"{what} was stopped"
        return f"{what} exited with status {self.exit_code}"


def clean_env(task_vars: dict[str, str], *, pass_names: tuple[str, ...] = (), token: str | None = None) -> dict:
    """The agent's environment: base variables, explicitly passed ones, the task's CCC_* values."""
    env = {name: os.environ[name] for name in (*BASE_ENV, *pass_names) if name in os.environ}
    env.update(task_vars)
    if token:
        env.update(GITHUB_TOKEN=token, GH_TOKEN=token)
    return env


class ProgressTail:
    """New complete lines appended to a file since the last read."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0

    def read_new(self) -> list[str]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # a half-written last line waits for the next read
        self._offset += end
        return [line.strip() for line in data[:end].decode(errors="replace").splitlines() if line.strip()]


def run_command(
    command: str,
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    log_path: Path,
    stop: threading.Event | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_seconds: float = 0.2,
) -> CommandRun:
    """Run `command` with `sh -c` in a new session; output goes to `log_path` (appended)."""
    started = time.monotonic()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = stopped = False
        try:
            while proc.poll() is None:
                if on_tick:
                    on_tick()
                if time.monotonic() - started > timeout:
                    timed_out = True
                elif stop is not None and stop.is_set():
                    stopped = True
                if timed_out or stopped:
                    _kill_group(proc)
                    break
                try:
                    proc.wait(timeout=tick_seconds)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            _signal_group(proc, signal.SIGKILL)  # background children, or everything if we were interrupted
        if on_tick:
            on_tick()
    exit_code = None if (timed_out or stopped) else proc.returncode
    return CommandRun(exit_code, timed_out, stopped, time.monotonic() - started, tail(log_path))


def tail(path: Path) -> str:
    try:
        text = path.read_bytes()[-TAIL_CHARS * 2 :].decode(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-TAIL_LINES:])[-TAIL_CHARS:]


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the agent's whole process group, then SIGKILL whatever is left of it."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc, signal.SIGKILL)  # also children that ignored SIGTERM or outlived the leader
    proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
