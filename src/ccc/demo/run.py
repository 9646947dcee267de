"""The demo scenario: sandbox → example repository → manager sync → worker processes → live table → dashboard.

The demo plays the manager's scheduled workflow (sync once, summarize after completions) and
watches the queue as `ccc status` does. Every actor is a separate `ccc` process talking to the
sandbox only through its API and git, as on separate machines.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from ccc.client import connect
from ccc.demo.example import build_tree, check_example, example_dir, push_tree, worker_label
from ccc.demo.faults import fault_rules
from ccc.demo.fleet import Fleet, WorkerPlan, worker_login
from ccc.demo.manager import MANAGER_LOGIN, Background, ManagerCommands
from ccc.errors import CccError, InputError, TransientError
from ccc.protocol.states import TaskState
from ccc.sandbox.process import SandboxProcess
from ccc.status import LiveView, QueueStatus, StatusReader, render_table, short_duration

DEMO_REPO = "acme/widgets"
SHIPPED_WORKERS = 3  # the shipped manifest routes tasks to cc01..cc03
REFRESH_SECONDS = 0.5
STOPPED_CODES = (0, 130, -signal.SIGTERM, -signal.SIGKILL)


@dataclass(frozen=True)
class DemoSettings:
    workers: int = SHIPPED_WORKERS
    tasks: int | None = None  # None: the shipped manifest; M: M generated tasks
    faults: str = "none"
    keep: bool = False
    pace: float = 0.3  # seconds the example agent pauses per progress line, so people can watch
    timeout: float = 600.0
    data_dir: Path | None = None
    example: Path = field(default_factory=example_dir)
    terminal: bool | None = None  # None: redraw the table only when stdout is a terminal

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InputError(f"--workers must be at least 1, got {self.workers}")
        if self.tasks is None and self.workers < SHIPPED_WORKERS:
            raise InputError(
                f"the shipped tasks need workers cc01..cc0{SHIPPED_WORKERS}: use --workers {SHIPPED_WORKERS} "
                "or more, or generate tasks for fewer workers with --tasks M"
            )
        if self.tasks is not None and self.tasks < 1:
            raise InputError(f"--tasks must be at least 1, got {self.tasks}")
        fault_rules(self.faults)  # an unknown profile fails here, before anything starts


@dataclass
class DemoResult:
    ok: bool
    status: QueueStatus
    data_dir: Path
    dashboard: Path | None
    seconds: float
    requests: int
    sandbox: SandboxProcess | None = None  # still running: --keep

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 1),
            "requests": self.requests,
            "data_dir": str(self.data_dir),
            "dashboard": str(self.dashboard) if self.dashboard else None,
            "queue": self.status.to_json(),
        }


def run_demo(settings: DemoSettings, out: TextIO | None = None) -> DemoResult:
    out = out or sys.stdout
    example = check_example(settings.example)
    data_dir = Path(settings.data_dir or tempfile.mkdtemp(prefix="ccc-demo-"))
    labels = [worker_label(index) for index in range(settings.workers)]
    say = Narrator(out)
    temporary = settings.data_dir is None
    try:
        sandbox = SandboxProcess.start(
            data_dir / "sandbox", repos=[DEMO_REPO], tokens={worker_login(label): "write" for label in labels}
        )
        try:
            result = Demo(settings, sandbox, data_dir, example, labels, say).run()
        except BaseException:
            sandbox.stop()
            raise
    except BaseException:  # Ctrl-C or a crash: nothing is left running, and temporary data goes
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    if settings.keep:
        result.sandbox = sandbox
        say.keep(sandbox, data_dir if temporary else None)
    else:
        sandbox.stop()
        if temporary and result.ok:  # a failed run keeps its logs, and says where they are
            shutil.rmtree(data_dir, ignore_errors=True)
    return result


class Demo:
    """One run of the scenario on a started sandbox."""

    def __init__(
        self,
        settings: DemoSettings,
        sandbox: SandboxProcess,
        data_dir: Path,
        example: Path,
        labels: list[str],
        say: Narrator,
    ):
        self.settings = settings
        self.sandbox = sandbox
        self.data_dir = data_dir
        self.example = example
        self.labels = labels
        self.say = say
        self.tree = data_dir / "repository"
        self.client = connect(repo=sandbox.repo, api_url=sandbox.api_url, token=sandbox.token(MANAGER_LOGIN))
        self.manager = ManagerCommands(sandbox, self.tree, data_dir / "manager.log")
        self.fleet = Fleet(sandbox, data_dir)
        self.view = LiveView(say.out, terminal=settings.terminal)
        # One reader for the whole run, so each claim commit is read once.
        self.reader = StatusReader(self.client, manager_login=MANAGER_LOGIN)
        self.crashed: int | None = None  # the task whose worker chaos killed

    def run(self) -> DemoResult:
        self.prepare_repository()
        self.start_workers()
        try:
            self.watch()
        finally:
            codes = self.fleet.stop()
        # Exit 130 (SIGTERM, handled as an interrupt: the task was handed back) or the signal itself is
        # our stop; only another code is worth showing.
        self.note(
            "workers stopped: "
            + ", ".join(f"{k}" + ("" if v in STOPPED_CODES else f" (exit {v})") for k, v in codes.items())
        )
        self.sandbox.clear_faults()
        dashboard = self.summarize()
        return self.finish(self.reader.read(), dashboard, self.say.elapsed)

    def prepare_repository(self) -> None:
        """Push the example project with its manifest, and let the manager turn the manifest into issues."""
        self.say(f"sandbox up: {self.sandbox.api_url} (data in {self.data_dir})")
        build_tree(self.example, self.tree, tasks=self.settings.tasks, workers=len(self.labels))
        sha = push_tree(self.tree, self.sandbox.clone_url(MANAGER_LOGIN), self.data_dir / "push")
        self.say(f"pushed the example project to {self.sandbox.repo} (main at {sha[:12]})")
        synced = self.manager.result("sync")
        self.say(f"manager sync: {describe_counts(synced.get('counts', {}))}")

    def start_workers(self) -> None:
        """Faults on (workers face them, the set-up did not), then one process per worker label."""
        rules = fault_rules(self.settings.faults)
        if rules:
            self.sandbox.faults(rules, seed=7)
            self.say(f"faults on: {self.settings.faults} ({len(rules)} rules)")
        plans = [WorkerPlan(label, self.example / "agent.py", pace=self.settings.pace) for label in self.labels]
        for plan in plans:
            process = self.fleet.start(plan)
            self.say(f"worker {plan.label} started (pid {process.pid}, log {self.fleet.log_path(plan.label)})")

    def watch(self) -> None:
        """Refresh the live view until every task settled, time ran out, or no worker is left."""
        summarizer = Background(lambda: self.manager.result("summarize"))
        status, completed = None, 0
        while True:
            status = self.read_quietly() or status
            if status is not None:
                self.view.show(status, footer=[self.footer()], prefix=self.say.stamp)
                self.crash_a_worker(status)
                done = status.counts()[TaskState.COMPLETED.value]
                if done > completed:
                    completed = done
                    summarizer.request()  # the manager's cron: unblock dependents, complete parents
                if settled(status):
                    return
            if self.say.elapsed > self.settings.timeout:
                self.note(f"timed out after {short_duration_seconds(self.say.elapsed)}")
                return
            for label, why in self.fleet.restart_crashed():
                self.note(f"worker {label} exited ({why}): started again, as its schedule would")
            if not self.fleet.running():
                self.note("no worker left: " + "; ".join(f"{k} exit {v}" for k, v in self.fleet.exited().items()))
                return
            time.sleep(REFRESH_SECONDS)

    def crash_a_worker(self, status: QueueStatus) -> None:
        """Under chaos, kill the first worker seen holding a task, once: its lease runs out and the task is
        retried (attempt 2). Random faults may or may not cost a claim; this always shows a retry."""
        if self.settings.faults != "chaos" or self._retry_shown(status):
            return
        held = [
            task
            for task in status.tasks
            if task.state is TaskState.IN_PROGRESS and task.holder in self.labels and not task.pr
        ]
        if held:
            task = held[0]
            self.crashed = task.number
            self.fleet.kill(task.holder)
            self.note(f"chaos: killed worker {task.holder} while it held #{task.number}; the task is retried")

    def _retry_shown(self, status: QueueStatus) -> bool:
        """A crash was staged and has not been outrun: the killed worker may have recorded its completion
        before the signal landed, and then another worker is killed instead."""
        if not self.crashed:
            return False
        crashed = next((task for task in status.tasks if task.number == self.crashed), None)
        return not (crashed and crashed.state is not TaskState.IN_PROGRESS and crashed.attempt == 1)

    def note(self, line: str) -> None:
        """A line between live frames: the next frame is drawn below it instead of over it."""
        self.say(line)
        self.view.detach()

    def read_quietly(self) -> QueueStatus | None:
        """A fresh snapshot, or None when the API keeps failing (injected faults hit the demo too)."""
        try:
            return self.reader.read()
        except TransientError:
            return None

    def footer(self) -> str:
        running = self.fleet.running()
        return (
            f"{short_duration_seconds(self.say.elapsed)} · workers running: {', '.join(running) or 'none'}"
            f" · faults: {self.settings.faults}"
        )

    def summarize(self) -> Path | None:
        """The last summarize (completes coordinated parents whose parts are done): its dashboard, as a file."""
        try:
            markdown = self.manager.run("summarize")
        except CccError as exc:
            self.note(exc.message)
            return None
        path = self.data_dir / "dashboard.md"
        path.write_text(markdown, encoding="utf-8")
        self.note(f"manager summarize: dashboard written to {path}")
        return path

    def finish(self, status: QueueStatus, dashboard: Path | None, seconds: float) -> DemoResult:
        stats = self.sandbox.stats()
        ok = status.all_completed
        self.view.show(status, footer=[f"done in {short_duration_seconds(seconds)}"], prefix=self.say.stamp)
        if not self.view.terminal:
            self.say.block(render_table(status))
        if dashboard:
            self.say.block(["", f"--- dashboard ({dashboard}) ---", dashboard.read_text(encoding="utf-8")])
        pulls = sum(1 for task in status.tasks if task.pr)
        verdict = "all tasks completed" if ok else "NOT all tasks completed"
        self.say(
            f"{verdict}: {describe_counts(status.counts())}; {pulls} pull requests; "
            f"{stats['total']} API requests in {short_duration_seconds(seconds)}"
        )
        if not ok:
            self.say(f"logs: {self.data_dir}/workers/*.log, {self.data_dir}/manager.log")
        return DemoResult(ok, status, self.data_dir, dashboard, seconds, stats["total"])


def settled(status: QueueStatus) -> bool:
    """Nothing more will happen: every worker task is final, or what is left waits on a failed task."""
    tasks = [task for task in status.tasks if not task.is_parent]
    states = {task.state for task in tasks}
    if not tasks:
        return False
    if all(state.is_terminal for state in states):
        return True
    stuck = states <= {TaskState.COMPLETED, TaskState.MERGED, TaskState.FAILED, TaskState.RETIRED, TaskState.BLOCKED}
    return stuck and TaskState.FAILED in states


def describe_counts(counts: dict) -> str:
    return ", ".join(f"{value} {name}" for name, value in counts.items() if value) or "nothing"


def short_duration_seconds(seconds: float) -> str:
    return short_duration(timedelta(seconds=seconds))


class Narrator:
    """The demo's own lines on stdout (the live view shares the stream), stamped with the time since the start."""

    def __init__(self, out: TextIO):
        self.out = out
        self.started = time.monotonic()

    @property
    def stamp(self) -> str:
        return f"[{time.monotonic() - self.started:5.1f}s] "

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, line: str) -> None:
        self.out.write(f"{self.stamp}{line}\n")
        self.out.flush()

    def block(self, lines: list[str]) -> None:
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def keep(self, sandbox: SandboxProcess, temporary: Path | None) -> None:
        """Where the kept sandbox is, and commands that work when pasted (ccc by its full path)."""
        pid, token = sandbox.proc.pid, sandbox.token(MANAGER_LOGIN)
        connection = f"--repo {sandbox.repo} --api-url {sandbox.api_url}"
        clone = sandbox.repo.split("/")[1]  # where `git clone` above puts it
        stop = f"kill {pid}" + (f" && rm -rf {shlex.quote(str(temporary))}" if temporary else "")
        self.block(
            [
                "",
                f"The sandbox keeps running (pid {pid}); stop it with: {stop}",
                f"  browse: {sandbox.git_url}/{sandbox.repo}/issues",
                f"  API:    {sandbox.api_url}",
                f"  token:  {token}  ({MANAGER_LOGIN}, admin)",
                f"  git:    git clone {sandbox.clone_url(MANAGER_LOGIN)}",
                f"  status: GITHUB_TOKEN={token} {ccc_command()} status {connection}",
                f"  doctor: GITHUB_TOKEN={token} {ccc_command()} doctor {connection} --root {clone}",
            ]
        )


def ccc_command() -> str:
    """How to run this ccc from any shell: `make demo` puts it in .venv/bin, which is not on PATH."""
    script = Path(sys.executable).with_name("ccc")
    return shlex.quote(str(script)) if script.exists() else f"{shlex.quote(sys.executable)} -m ccc"
