"""The manager's settings, read and validated once (by the CLI) and frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ccc.connection import Connection
from ccc.errors import InputError
from ccc.manifest import ANY_WORKER, DEFAULT_GLOBS
from ccc.protocol.claims import DEFAULT_NAMESPACE
from ccc.protocol.states import Labels

# GitHub's secondary limit for content creation is 80 requests a minute and 500 an hour.
DEFAULT_WRITES_PER_MINUTE = 80
DEFAULT_WRITES_PER_HOUR = 500
DEFAULT_MAX_WAIT_SECONDS = 300.0  # longest one request waits out rate limits before the run stops (exit 3)


@dataclass(frozen=True)
class ManagerSettings:
    connection: Connection | None = None  # None: the caller hands the use case its client
    root: Path = Path(".")
    manifest_globs: tuple[str, ...] = DEFAULT_GLOBS
    working_tree: bool = False  # read manifests from the working tree instead of HEAD
    labels: Labels = field(default_factory=Labels)
    # The label of the shared pool: tasks with `worker: any` carry it (workers serve it with --pool).
    pool_label: str = ANY_WORKER
    # Whose issues are managed: an issue with a task marker by anyone else is a forgery and is ignored.
    # None: ask GitHub (GET /user, one request per run).
    manager_login: str | None = None
    close_removed: bool = True
    max_writes_per_minute: int = DEFAULT_WRITES_PER_MINUTE  # 0: unpaced
    max_writes_per_hour: int = DEFAULT_WRITES_PER_HOUR  # 0: no hourly cap
    max_writes_per_run: int = 0  # 0: as many as the hour allows
    max_requests: int = 0  # per run; 0: no limit
    rate_limit_reserve: int = 0  # units of the hourly rate limit never spent
    max_wait: float = DEFAULT_MAX_WAIT_SECONDS
    dispatch_event: str | None = None  # repository_dispatch event type sent after a sync that made work
    dashboard_issue: bool = True
    dashboard_title: str = "ccc dashboard"
    reap: bool = False
    claim_retention: timedelta = timedelta(days=30)  # reap deletes claim refs of tasks closed this long
    claims_namespace: str = DEFAULT_NAMESPACE
    max_attempts: int = 3
    # Claim records read per summarize run (each costs requests): only for tasks whose state changed.
    max_claim_reads: int = 20
    # The dashboard issue shows the task graph only up to this many tasks (an issue body holds 65,536
    # characters); the job summary always has it.
    issue_graph_limit: int = 150
    template_dir: Path | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        for flag in ("max_writes_per_minute", "max_writes_per_hour", "max_writes_per_run", "max_requests"):
            if getattr(self, flag) < 0:
                raise InputError(f"--{flag.replace('_', '-')} must be 0 (no limit) or more, got {getattr(self, flag)}")
        if self.rate_limit_reserve < 0 or self.max_wait < 0:
            raise InputError("--rate-limit-reserve and --max-wait must be 0 or more")
        if self.max_attempts < 1:
            raise InputError(f"--max-attempts must be at least 1, got {self.max_attempts}")
        if self.max_claim_reads < 0:
            raise InputError(f"--max-claim-reads must be 0 or more, got {self.max_claim_reads}")
        if not self.manifest_globs:
            raise InputError("give at least one --manifest glob")

    def worker_label(self, worker: str | None) -> str | None:
        """The label that routes a task to its worker; `any` means the shared pool."""
        if worker is None:
            return None
        return self.pool_label if worker == ANY_WORKER else worker
