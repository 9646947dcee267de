"""One task a worker holds: the issue, its claim (via the heartbeat), its branch and its files on disk."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ccc.client import Issue
from ccc.worker.lease import Heartbeat

SLUG_CHARS = 40


class Cancelled(Exception):
    """The task was withdrawn while we worked (issue closed, retired, or its label removed): deliver nothing."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AttemptFailed(Exception):
    """This attempt cannot succeed: the reason goes on the issue, the claim is released."""

    def __init__(self, reason: str, log_tail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail


def slug(title: str) -> str:
    """A branch-safe slug: ASCII letters and digits joined by dashes ("task" when nothing is left)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:SLUG_CHARS].rstrip("-") or "task"


def branch_name(issue: Issue, attempt: int) -> str:
    """The work branch of one attempt: a stalled earlier attempt can never overwrite a later one's work,
    and each attempt's PR is found again by its own branch (the first attempt keeps the plain name)."""
    name = f"ccc/{issue.number}-{slug(issue.title)}"
    return name if attempt == 1 else f"{name}-attempt-{attempt}"


@dataclass
class Task:
    issue: Issue
    heartbeat: Heartbeat
    branch: str
    base: str
    files: Path  # prompt, progress and log files: outside the work tree, so never committed
    nonce: str
    tree: Path | None = None
    progress: list[str] = field(default_factory=list)
    tests: str = "not run"
    agent: dict | None = None  # an agent preset's report (AgentReport.as_dict())
    timings: dict[str, float] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    @property
    def number(self) -> int:
        return self.issue.number

    @property
    def attempt(self) -> int:
        return self.heartbeat.current.record.attempt

    @property
    def prompt_file(self) -> Path:
        return self.files / "prompt.md"

    @property
    def progress_file(self) -> Path:
        return self.files / "progress.log"

    @property
    def log_file(self) -> Path:
        return self.files / "agent.log"

    def mark(self, name: str) -> None:
        """Record seconds since the task was taken, under `name` (for the JSON result)."""
        self.timings[name] = round(time.monotonic() - self._started, 3)
