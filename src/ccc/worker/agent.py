"""The agents the worker runs: one `Agent` interface, a shell command and the Claude Code preset behind it.

Both get only the allow-listed environment (`clean_env`) plus the CCC_* task variables: no GitHub
token or other secret unless the settings pass it on purpose. Both run inside the task's confinement
(`ccc.isolation`), and a timeout or a lost lease kills everything they started with one process-tree
kill. Lines the agent appends to its progress file are handed to a callback while it runs.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from ccc.agents.claude_code import ClaudeCodeSettings, model_api, run_claude_code
from ccc.agents.logtail import tail
from ccc.agents.proctree import kill_process_tree
from ccc.agents.progress import Progress
from ccc.isolation.confine import Confinement, ModelApi

# What a shell and common tools need; everything else in the worker's environment stays out.
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "USER", "LOGNAME", "SHELL")
KILL_GRACE_SECONDS = 3.0


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
    confinement: Confinement | None = None,
) -> CommandRun:
    """Run `command` with `sh -c` in a new session (confined when given); output goes to `log_path` (appended)."""
    started = time.monotonic()
    argv = ["/bin/sh", "-c", command]
    if confinement is not None:
        argv, env = confinement.wrap(argv, env)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            argv,
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
                    break
                try:
                    proc.wait(timeout=tick_seconds)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            # Background children, or everything when stopped, timed out or interrupted.
            kill_process_tree(proc, grace_seconds=KILL_GRACE_SECONDS if (timed_out or stopped) else 0)
        if on_tick:
            on_tick()
    exit_code = None if (timed_out or stopped) else proc.returncode
    return CommandRun(exit_code, timed_out, stopped, time.monotonic() - started, tail(log_path))


# -- the agent interface -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentJob:
    """One run of an agent: the prompt, the tree it works in and what it may see, limits and callbacks."""

    prompt_file: Path
    tree: Path
    env: dict[str, str]  # already allow-listed (clean_env)
    log_file: Path
    timeout: float
    stop: threading.Event
    confinement: Confinement
    on_tick: Callable[[], None]  # new progress lines may be there
    on_checklist: Callable[[str], None]  # a preset's structured progress, as markdown


@dataclass(frozen=True)
class AgentOutcome:
    ok: bool
    reason: str  # why it failed ("" when ok)
    log_tail: str
    figures: dict | None = None  # a preset's turns, cost, tokens, summary


class Agent(Protocol):
    toolchain: tuple[Path, ...]  # what the agent's program needs read-only inside the confinement
    model_api: ModelApi | None  # the API whose key the worker adds outside the confinement, if any

    def run(self, job: AgentJob) -> AgentOutcome: ...


@dataclass(frozen=True)
class CommandAgent:
    """Any shell command; it reads $CCC_PROMPT_FILE and appends to $CCC_PROGRESS_FILE."""

    command: str
    toolchain: tuple[Path, ...] = ()
    model_api: ModelApi | None = None

    def run(self, job: AgentJob) -> AgentOutcome:
        done = run_command(
            self.command,
            cwd=job.tree,
            env=job.env,
            timeout=job.timeout,
            log_path=job.log_file,
            stop=job.stop,
            on_tick=job.on_tick,
            confinement=job.confinement,
        )
        return AgentOutcome(done.ok, "" if done.ok else done.describe("the agent"), done.log_tail)


class ClaudeCodeAgent:
    """The Claude Code CLI: its checklist as progress, its figures in the result, its key outside the confinement."""

    def __init__(self, settings: ClaudeCodeSettings, *, template_dir: str | None = None):
        self.settings = settings
        self.template_dir = template_dir
        self.toolchain = (_package_root(Path(settings.resolved_executable())),)
        self.model_api = model_api(settings)

    def run(self, job: AgentJob) -> AgentOutcome:
        def show(state: Progress) -> None:
            job.on_checklist(state.render_markdown(override_dir=self.template_dir))
            job.on_tick()

        report = run_claude_code(
            job.prompt_file.read_text(encoding="utf-8"),
            job.tree,
            replace(self.settings, timeout_seconds=job.timeout),
            on_progress=show,
            stop_event=job.stop,
            transcript=job.log_file,
            base_env=job.env,
            extra_env=job.env,
            confinement=job.confinement,
        )
        job.on_checklist(report.progress.render_markdown(done=True, override_dir=self.template_dir))
        log_tail = "\n".join(part for part in (report.summary, report.log_tail) if part)
        return AgentOutcome(report.ok, "" if report.ok else f"Claude Code: {report.reason}", log_tail, report.as_dict())


def _package_root(executable: Path) -> Path:
    """The installed package an executable belongs to (its node_modules), else its own directory."""
    real = executable.resolve()
    for parent in real.parents:
        if parent.name == "node_modules":
            return parent
    return real.parent
