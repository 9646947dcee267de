"""What a worker run reports: per task and overall, as printed JSON and step outputs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Status(str, Enum):
    IDLE = "idle"  # no task could be taken
    DELIVERED = "delivered"  # PR open, task completed
    FAILED = "failed"  # this attempt failed (released for retry, or out of attempts)
    LEASE_LOST = "lease-lost"  # another worker took the task over; we published nothing
    CANCELLED = "cancelled"  # the issue was closed, retired or unlabelled while we worked: not delivered
    RATE_LIMITED = "rate-limited"  # GitHub's rate limit stopped us; see reset_at
    BUDGET_SPENT = "budget-spent"  # the run's own budget (--max-requests, --rate-limit-reserve) stopped it
    DRY_RUN = "dry-run"  # nothing claimed: what would have been taken is listed


@dataclass
class TaskResult:
    issue: int
    status: Status
    attempt: int = 0
    branch: str = ""
    pr: int | None = None
    pr_url: str | None = None
    tests: str | None = None  # "passed", "not run"
    reason: str | None = None
    final: bool = False  # failed with no attempts left
    agent: dict | None = None  # turns, duration, cost, tokens, files, summary (agent presets)
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class WorkerResult:
    worker: str
    status: Status
    tasks: list[TaskResult] = field(default_factory=list)
    requests: dict = field(default_factory=dict)
    seconds: float = 0.0
    polls: int = 0
    reset_at: float | None = None
    message: str | None = None
    candidates: list[int] = field(default_factory=list)  # dry run: what would be claimed, in order
    isolation: str = "bwrap"  # how the agent was confined ("none": the opt-out, shown loudly)

    @property
    def exit_code(self) -> int:
        """Non-zero only when a task failed or could not be finished; idle and rate-limited polls are fine."""
        return 1 if any(t.status in (Status.FAILED, Status.LEASE_LOST) for t in self.tasks) else 0

    def to_json(self) -> dict:
        last = self.tasks[-1] if self.tasks else None
        return {
            "status": self.status.value,
            "worker": self.worker,
            "issue": last.issue if last else None,
            "pr": last.pr if last else None,
            "pr_url": last.pr_url if last else None,
            "tasks": [t.to_json() for t in self.tasks],
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "polls": self.polls,
            "reset_at": self.reset_at,
            "message": self.message,
            "candidates": self.candidates,
            "isolation": self.isolation,
        }


def overall(tasks: list[TaskResult]) -> Status:
    """Failed if any task failed or was lost, delivered if any was delivered, else idle."""
    statuses = {t.status for t in tasks}
    for status in (Status.FAILED, Status.LEASE_LOST, Status.DELIVERED, Status.CANCELLED):
        if status in statuses:
            return status
    return Status.IDLE
