"""The loaded manifest: frozen tasks, the manifest that holds them, and the problems that stop a load."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from ccc.errors import InputError

PRIORITIES = ("high", "normal", "low")
STATES = ("open", "closed")
# The worker value that sends a task to the shared pool instead of one worker.
ANY_WORKER = "any"
# Bumped only if the hashed fields change meaning; part of the hash so old hashes never match new ones.
HASH_SCHEME = "ccc-task-v1"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a manifest, at a 1-based line and column of a file relative to the root."""

    file: str
    line: int | None
    col: int | None
    message: str

    def location(self) -> str:
        return ":".join(str(part) for part in (self.file, self.line, self.col) if part is not None)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


class ManifestError(InputError):
    """The manifests are invalid; carries every problem found, so one run shows them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the task manifests"
        super().__init__("\n".join([header, *(str(problem) for problem in self.problems)]))


@dataclass(frozen=True)
class Task:
    """One issue-to-be: a plain task, the parent of a coordinated task, or one of its parts."""

    id: str
    title: str
    body: str
    worker: str | None
    labels: tuple[str, ...]
    priority: str
    depends_on: tuple[str, ...]
    assignee: str | None
    state: str
    parent: str | None
    parts: tuple[str, ...]
    source: str
    line: int

    @property
    def is_parent(self) -> bool:
        return bool(self.parts)

    def content_hash(self) -> str:
        """sha256 hex of what the issue shows; label and dependency order do not count."""
        content = {
            "scheme": HASH_SCHEME,
            "title": self.title,
            "body": self.body,
            "worker": self.worker,
            "labels": sorted(self.labels),
            "priority": self.priority,
            "depends_on": sorted(self.depends_on),
            "assignee": self.assignee,
            "state": self.state,
            "parent": self.parent,
            "parts": list(self.parts),
        }
        encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """All tasks of all manifest files, in file order, each parent directly followed by its parts."""

    tasks: tuple[Task, ...]
    files: tuple[str, ...]
    _index: dict[str, Task] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {task.id: task for task in self.tasks})

    def by_id(self, task_id: str) -> Task:
        """The task with this full id (`parent/part` for parts); KeyError if there is none."""
        return self._index[task_id]

    @property
    def parts_count(self) -> int:
        return sum(1 for task in self.tasks if task.parent is not None)
