"""Everything a worker run needs, read and validated once (CLI flags and CCC_* variables) and then frozen."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ccc.agents.claude_code import ClaudeCodeSettings
from ccc.errors import InputError
from ccc.isolation.confine import IsolationSettings
from ccc.protocol.claims import DEFAULT_NAMESPACE
from ccc.protocol.states import Labels

# "command" runs --command; "claude-code" drives the Claude Code CLI (ccc.agents.claude_code).
AGENTS = ("command", "claude-code")
DEFAULT_TRUSTED_AUTHORS = ("github-actions[bot]",)
_LABEL = re.compile(r"[^,]{1,50}")


@dataclass(frozen=True)
class WorkerSettings:
    worker: str  # the worker's label and name, e.g. cc02
    repo: str  # OWNER/NAME
    token: str = field(repr=False)
    api_url: str
    git_url: str  # server root for git over HTTP, e.g. https://github.com
    workdir: Path
    pool: str | None = None  # a shared label served as well
    command: str | None = None  # the agent, any shell command
    agent: str = "command"  # one of AGENTS
    claude: ClaudeCodeSettings = field(default_factory=ClaudeCodeSettings)  # with agent claude-code
    test_command: str | None = None
    prompt_template: Path | None = None
    template_dir: Path | None = None  # overrides for the comment and PR templates
    agent_env: tuple[str, ...] = ()  # extra variables the agent may see (e.g. its API key)
    secret_env: tuple[str, ...] = ()  # variables holding more secrets: masked, and refused in the agent's commit
    pass_token: bool = False  # give the agent GITHUB_TOKEN as well
    isolation: IsolationSettings = field(default_factory=IsolationSettings)  # how the agent is confined
    allow_workflow_changes: bool = False  # let the agent's commit touch .github/workflows/
    max_change_bytes: int = 10_000_000  # the most the agent's changed files may hold together
    max_tasks: int = 1  # per run; 0 = no limit (with --loop)
    timeout: timedelta = timedelta(minutes=60)
    lease: timedelta = timedelta(minutes=10)
    max_attempts: int = 3
    trusted_authors: tuple[str, ...] = DEFAULT_TRUSTED_AUTHORS
    manager_login: str = DEFAULT_TRUSTED_AUTHORS[0]  # whose task markers count (the Actions token's bot)
    assignee: str | None = None
    base_branch: str | None = None  # None: the repository's default branch
    draft: bool = False
    pr_token: str | None = field(default=None, repr=False)
    checkout: Path | None = None  # an existing clone (actions/checkout) to add worktrees to
    loop: bool = False
    interval: float = 300.0  # seconds between polls with --loop
    max_idle_polls: int = 0  # --loop stops after this many polls in a row saw no ready or held task; 0 = never
    dry_run: bool = False
    progress_interval: float = 30.0  # least seconds between edits of the progress comment
    write_pacing: float = 1.0  # seconds between write requests, as GitHub asks (0 in tests)
    max_requests: int = 0  # per run, checked before each poll so a claimed task is always finished; 0: no limit
    rate_limit_reserve: int = 0  # units of the hourly rate limit a poll never starts into
    max_wait: float = 300.0  # longest one request waits out rate limits before the run stops
    # Who this worker is among the runners serving its labels (runner name and process): spreads first
    # choices by rendezvous hashing. None: oldest first, as for a lone worker.
    spread: str | None = None
    cache_dir: Path | None = None  # where listing views persist between runs; None: only within this run
    labels: Labels = Labels()
    claims_namespace: str = DEFAULT_NAMESPACE
    run_id: str = ""
    run_url: str = ""

    def __post_init__(self) -> None:
        if not self.worker or not _LABEL.fullmatch(self.worker):
            raise InputError(f"--worker must be a label name (1-50 characters, no commas), got {self.worker!r}")
        if self.pool is not None and not _LABEL.fullmatch(self.pool):
            raise InputError(f"--pool must be a label name (1-50 characters, no commas), got {self.pool!r}")
        if self.agent not in AGENTS:
            raise InputError(f"--agent must be one of {', '.join(AGENTS)}, got {self.agent!r}")
        if self.agent == "claude-code" and not self.dry_run:
            self.claude.validate()
        if not self.command and self.agent == "command" and not self.dry_run:
            raise InputError("--command (CCC_COMMAND) is required: the shell command that runs the agent")
        if self.max_tasks < 0 or self.max_attempts < 1:
            raise InputError("--max-tasks must be >= 0 and --max-attempts >= 1")
        if self.lease <= timedelta(0) or self.timeout <= timedelta(0):
            raise InputError("--lease-minutes and --timeout-minutes must be positive")
        if self.prompt_template is not None and not self.prompt_template.is_file():
            raise InputError(f"--prompt-template {self.prompt_template}: no such file")

    @property
    def served_labels(self) -> tuple[str, ...]:
        return (self.worker,) if not self.pool or self.pool == self.worker else (self.worker, self.pool)

    @property
    def heartbeat_seconds(self) -> float:
        """Renew well before expiry: three chances per lease."""
        return self.lease.total_seconds() / 3

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in anything we publish or log."""
        values = [self.token, self.pr_token or "", self.claude.api_key or "", self.claude.oauth_token or ""]
        values += [os.environ.get(name, "") for name in (*self.agent_env, *self.secret_env)]
        return tuple(v for v in values if len(v) >= 4)

    @property
    def remote_url(self) -> str:
        return f"{self.git_url.rstrip('/')}/{self.repo}.git"


def actions_run_url(env: Mapping[str, str] = os.environ) -> str:
    """The link to this workflow run, when running in GitHub Actions."""
    server, repo, run_id = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else ""


def split_list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())
