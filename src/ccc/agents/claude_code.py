"""Claude Code preset: runs the real `claude` CLI on a prompt in a work tree, within turn, time and cost limits."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from ccc.agents.logtail import tail_of
from ccc.agents.proctree import kill_process_tree
from ccc.agents.progress import Progress
from ccc.agents.report import AgentReport, Outcome, Stop, build_report
from ccc.agents.stream import TODO_TOOL, StreamParser
from ccc.errors import InputError
from ccc.isolation.confine import Confinement, ModelApi

# The version the tests run against (tools/claude/package-lock.json pins it).
TESTED_VERSION = "2.1.330"
DEFAULT_ALLOWED_TOOLS = ("Bash", "Read", "Edit", "Write")
# Keeps the CLI from contacting anything but the Messages API (update checks, telemetry, error reports).
QUIET_ENV = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1"}
# 2.1.x turns its TodoWrite checklist off in favour of background-task tools unless told otherwise; the
# todo list is what the status comment shows, and TodoWrite changes nothing, so it is always allowed.
CHECKLIST_ENV = {"CLAUDE_CODE_ENABLE_TASKS": "0"}
# What a shell needs from the worker's environment; everything else (GitHub tokens above all) stays out.
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
DEFAULT_BASE_URL = "https://api.anthropic.com"
# What the CLI holds instead of the key when the worker's API proxy adds the real one outside the confinement.
PLACEHOLDER_CREDENTIAL = "ccc-isolated-the-worker-adds-the-key"
# Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN); the prompt travels as one.
MAX_PROMPT_BYTES = 128 * 1024 - 1
# How long the CLI gets to stop its tools and exit after SIGTERM before everything left is killed.
TERMINATE_GRACE_SECONDS = 5.0
# How often the wait for the next stream line looks at the clock and the stop request.
POLL_SECONDS = 0.25

ProgressCallback = Callable[[Progress], None]

# Rendered when the CLI cannot be found; names every way to fix it.
MISSING_CLI = (
    "Claude Code CLI not found: {executable!r} is not an executable on PATH. Install it with "
    f"`npm install -g @anthropic-ai/claude-code@{TESTED_VERSION}` (or `make claude-cli` in a ccc checkout) "
    "or point --claude-executable at it."
)
# Rendered when neither credential is set; the GitHub token is never a substitute.
MISSING_CREDENTIALS = (
    "No Anthropic credentials for Claude Code: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN "
    "(in Actions, from a repository secret)."
)


@dataclass(frozen=True)
class ClaudeCodeSettings:
    """How to run the CLI; read once from flags and environment, then frozen."""

    api_key: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    executable: str = "claude"
    allowed_tools: tuple[str, ...] = DEFAULT_ALLOWED_TOOLS
    max_turns: int = 50
    model: str | None = None
    timeout_seconds: float = 3600.0
    max_cost_usd: float | None = None
    base_url: str | None = None
    max_api_retries: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: object) -> ClaudeCodeSettings:
        """Credentials and endpoint from the worker's environment; the rest from `overrides` (flags)."""
        found = {
            "api_key": env.get("ANTHROPIC_API_KEY") or None,
            "oauth_token": env.get("CLAUDE_CODE_OAUTH_TOKEN") or None,
            "base_url": env.get("ANTHROPIC_BASE_URL") or None,
        }
        return cls(**(found | overrides))  # type: ignore[arg-type]

    def validate(self) -> None:
        if not (self.api_key or self.oauth_token):
            raise InputError(MISSING_CREDENTIALS)
        if self.max_turns < 1:
            raise InputError(f"--max-turns must be at least 1, got {self.max_turns}")
        if self.timeout_seconds <= 0:
            raise InputError(f"the agent timeout must be positive, got {self.timeout_seconds}")
        if self.max_cost_usd is not None and self.max_cost_usd <= 0:
            raise InputError(f"--max-cost-usd must be positive, got {self.max_cost_usd}")
        if not self.allowed_tools:
            raise InputError("--allowed-tools is empty: Claude Code could not change anything")
        self.resolved_executable()

    def resolved_executable(self) -> str:
        found = shutil.which(self.executable)
        if not found:
            raise InputError(MISSING_CLI.format(executable=self.executable))
        return os.path.realpath(found)  # the file itself: a confined agent sees its package, not the symlinks


def build_command(prompt: str, settings: ClaudeCodeSettings) -> list[str]:
    """The CLI's command line. The prompt comes last, after `--`, so no prompt text can read as an option."""
    command = [
        settings.resolved_executable(),
        "--print",
        "--output-format",
        "stream-json",
        "--verbose",
        # Partial messages carry each turn's output token count, which the running cost needs.
        "--include-partial-messages",
        "--no-session-persistence",
        "--allowedTools",
        ",".join(dict.fromkeys((*settings.allowed_tools, TODO_TOOL))),
        "--max-turns",
        str(settings.max_turns),
    ]
    if settings.model:
        command += ["--model", settings.model]
    if settings.max_cost_usd is not None:
        # Two guards: the CLI prices finished turns exactly and stops itself; the wrapper's estimate also
        # counts a turn's input as soon as it starts, and kills the run when the CLI does not stop.
        command += ["--max-budget-usd", f"{settings.max_cost_usd}"]
    return command + ["--", prompt]


def build_env(
    settings: ClaudeCodeSettings, home: Path, *, base_env: Mapping[str, str], extra_env: Mapping[str, str] = {}
) -> dict[str, str]:
    """A clean environment: a throwaway HOME, the quieting switches, the Anthropic credential and nothing else."""
    env = {name: base_env[name] for name in PASSTHROUGH_ENV if name in base_env}
    env |= dict(extra_env)
    env |= {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude")} | QUIET_ENV | CHECKLIST_ENV
    optional = {
        "ANTHROPIC_API_KEY": settings.api_key,
        "CLAUDE_CODE_OAUTH_TOKEN": settings.oauth_token,
        "ANTHROPIC_BASE_URL": settings.base_url,
        "CLAUDE_CODE_MAX_RETRIES": None if settings.max_api_retries is None else str(settings.max_api_retries),
    }
    env |= {name: value for name, value in optional.items() if value}
    return env


def model_api(settings: ClaudeCodeSettings) -> ModelApi:
    """The Messages API and the headers that authenticate to it, for the worker's auth-adding proxy."""

    def headers() -> dict[str, str]:
        if settings.api_key:
            return {"x-api-key": settings.api_key}
        return {"authorization": f"Bearer {settings.oauth_token}"}

    return ModelApi(settings.base_url or DEFAULT_BASE_URL, headers)


def keyless(settings: ClaudeCodeSettings, base_url: str) -> ClaudeCodeSettings:
    """The settings the confined CLI sees: a placeholder credential, and the proxy as its API."""
    credentials = {"api_key": None, "oauth_token": None}
    credentials["api_key" if settings.api_key else "oauth_token"] = PLACEHOLDER_CREDENTIAL
    return replace(settings, base_url=base_url, **credentials)


def run_claude_code(
    prompt: str,
    workdir: str | Path,
    settings: ClaudeCodeSettings,
    *,
    on_progress: ProgressCallback | None = None,
    stop_event: threading.Event | None = None,
    transcript: Path | None = None,
    extra_env: Mapping[str, str] = {},
    base_env: Mapping[str, str] | None = None,
    confinement: Confinement | None = None,
) -> AgentReport:
    """Run Claude Code in `workdir` until it finishes, a limit stops it or `stop_event` is set.

    Never raises for the agent's own failures: they are in the report. `transcript` receives the raw
    stream-json lines (kept for inspection next to the task's other files). Within a `confinement` that
    proxies the model API, the CLI holds a placeholder and the proxy adds the real credential.
    """
    settings.validate()
    if len(prompt.encode()) > MAX_PROMPT_BYTES:
        raise InputError(f"the rendered prompt is {len(prompt.encode())} bytes; Claude Code takes at most 128 KiB")
    command = build_command(prompt, settings)
    watch = _Watch(StreamParser(workdir), settings, on_progress, stop_event)
    environment = os.environ if base_env is None else base_env
    with (
        tempfile.TemporaryDirectory(prefix="ccc-claude-home-") as home,
        tempfile.TemporaryFile() as stderr,
        open(transcript or os.devnull, "a", encoding="utf-8") as transcript_file,
    ):
        proxied = confinement.model_base_url if confinement is not None else None
        seen = keyless(settings, proxied) if proxied else settings
        env = build_env(seen, Path(home), base_env=environment, extra_env=extra_env)
        if confinement is not None:
            command, env = confinement.wrap(command, env, writable_dirs=(Path(home),))
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,  # its own process group, so a limit can kill every tool it started
        )
        try:
            stop = watch.follow(process, transcript_file, deadline=started + settings.timeout_seconds)
        except BaseException:  # an interrupt (SIGINT, SIGTERM) or a failing callback: leave nothing running
            kill_process_tree(process, grace_seconds=TERMINATE_GRACE_SECONDS)
            raise
        exit_code = process.wait()
        wall_seconds = time.monotonic() - started
        log_tail = tail_of(stderr)
    state = watch.parser.state
    return build_report(state, exit_code=exit_code, wall_seconds=wall_seconds, stop=stop, log_tail=log_tail)


@dataclass
class _Watch:
    """Follows one run's stream and enforces the limits the CLI cannot: wall clock, cost estimate, stop requests."""

    parser: StreamParser
    settings: ClaudeCodeSettings
    on_progress: ProgressCallback | None
    stop_event: threading.Event | None

    def follow(self, process: subprocess.Popen[bytes], transcript: IO[str], *, deadline: float) -> Stop | None:
        lines = _line_queue(process.stdout)
        while (stop := self._limit_passed(deadline)) is None:
            try:
                line = lines.get(timeout=min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                continue
            if line is None:
                return None
            transcript.write(line)
            if self.parser.feed(line) and self.on_progress is not None:
                self.on_progress(self.parser.state.progress)
        kill_process_tree(process, grace_seconds=TERMINATE_GRACE_SECONDS)
        return stop

    def _limit_passed(self, deadline: float) -> Stop | None:
        if self.stop_event is not None and self.stop_event.is_set():
            return Stop(Outcome.STOPPED, "stopped by the worker before Claude Code finished")
        if time.monotonic() >= deadline:
            timeout = self.settings.timeout_seconds
            return Stop(Outcome.TIMEOUT, f"timed out after {timeout:g} s (raise the agent timeout)")
        if _over_budget(self.parser, self.settings):
            spent, cap = self.parser.state.estimated_cost_usd, self.settings.max_cost_usd
            return Stop(
                Outcome.MAX_COST, f"cost cap reached: about ${spent:.4f} spent, cap ${cap:g} (raise --max-cost-usd)"
            )
        return None


def _over_budget(parser: StreamParser, settings: ClaudeCodeSettings) -> bool:
    # Once the result line is in, the CLI has ended the run itself and reported the exact cost.
    cap = settings.max_cost_usd
    return cap is not None and parser.state.result is None and parser.state.estimated_cost_usd > cap


def _line_queue(stream: IO[bytes] | None) -> queue.Queue[str | None]:
    """Lines from a reader thread, so the main loop can wait with a deadline; None marks the end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert stream is not None
        for raw in stream:
            lines.put(raw.decode("utf-8", errors="replace"))
        lines.put(None)

    threading.Thread(target=pump, name="claude-stream", daemon=True).start()
    return lines
