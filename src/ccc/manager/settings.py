"""The manager's settings, read and validated once (by the CLI) and frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ccc.connection import Connection
from ccc.errors import InputError
from ccc.manifest import ANY_WORKER, DEFAULT_GLOBS
from ccc.protocol.claims import DEFAULT_NAMESPACE
from ccc.protocol.states import Labels

# GitHub's secondary limit for content creation is 80 requests a minute (500 an hour).
DEFAULT_WRITES_PER_MINUTE = 80


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
    dispatch_event: str | None = None  # repository_dispatch event type sent after a sync that made work
    dashboard_issue: bool = True
    dashboard_title: str = "ccc dashboard"
    reap: bool = False
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
        if self.max_writes_per_minute < 0:
            raise InputError(f"--max-writes-per-minute must be 0 (unpaced) or more, got {self.max_writes_per_minute}")
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
