"""Per-task history kept hidden in the dashboard issue, so summarize reads claim records only for changes.

One listing of the issues shows every task's state, but not its claim details (worker, attempts,
lease, timings): those cost two requests per task. The dashboard issue's body is in that listing
anyway, so the details read once are kept there and re-read only when the task's state changes
(or its recorded lease runs out).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ccc.protocol.states import TaskState

HISTORY_PREFIX = "<!-- ccc:dashboard-history "
_HISTORY = re.compile(r"<!-- ccc:dashboard-history (\{[^\n]*\}) -->")
_CODES = {
    TaskState.READY: "r",
    TaskState.BLOCKED: "b",
    TaskState.IN_PROGRESS: "i",
    TaskState.COMPLETED: "c",
    TaskState.MERGED: "m",
    TaskState.FAILED: "f",
    TaskState.RETIRED: "x",
}
_STATES = {code: state for state, code in _CODES.items()}
# States whose claim record tells something (who, which attempt, since when, which PR).
CLAIMED_STATES = (TaskState.IN_PROGRESS, TaskState.COMPLETED, TaskState.MERGED, TaskState.FAILED)


@dataclass(frozen=True)
class TaskHistory:
    state: TaskState  # at the last summary
    read_at_state: TaskState | None = None  # state the claim details below were read in; None: never read
    worker: str = ""
    attempts: int = 0
    started: int = 0  # epoch seconds: the first claim we saw
    finished: int = 0  # epoch seconds: completed or failed
    lease: int = 0  # epoch seconds: lease expiry when last read
    pr: str = ""

    def needs_claim_read(self, state: TaskState, now: datetime) -> bool:
        """Claim details are stale: the state changed since they were read, or the lease they show ran out."""
        if state not in CLAIMED_STATES:
            return False
        if self.read_at_state is not state:
            return True
        return state is TaskState.IN_PROGRESS and self.lease <= now.timestamp()

    def encode(self) -> list:
        fields = [
            _CODES[self.state],
            _CODES[self.read_at_state] if self.read_at_state else "",
            self.worker,
            self.attempts,
            self.started,
            self.finished,
            self.lease,
            self.pr,
        ]
        while len(fields) > 1 and fields[-1] in ("", 0):
            fields.pop()  # trailing defaults cost space in a body of at most 65,536 characters
        return fields

    @classmethod
    def decode(cls, fields: list) -> TaskHistory:
        defaults = ["r", "", "", 0, 0, 0, 0, ""]
        values = [*fields, *defaults[len(fields) :]]
        return cls(
            _STATES[values[0]],
            _STATES.get(values[1]),
            str(values[2]),
            int(values[3]),
            int(values[4]),
            int(values[5]),
            int(values[6]),
            str(values[7]),
        )

    def with_state(self, state: TaskState) -> TaskHistory:
        return replace(self, state=state)


@dataclass(frozen=True)
class History:
    tasks: dict[int, TaskHistory]  # by issue number
    at: int = 0  # epoch seconds of the summary that wrote it; 0: there was none

    def get(self, number: int) -> TaskHistory | None:
        return self.tasks.get(number)

    def compacted(self) -> History:
        """Finished tasks keep only their states (so they are neither re-read nor reported again as new):
        their worker, timings and PR leave the dashboard's statistics, but the history fits 1,000s of tasks."""
        finished = (TaskState.COMPLETED, TaskState.MERGED, TaskState.FAILED, TaskState.RETIRED)
        return History(
            {n: TaskHistory(h.state, h.read_at_state) if h.state in finished else h for n, h in self.tasks.items()},
            self.at,
        )

    def render(self) -> str:
        data = {"v": 1, "at": self.at, "t": {str(n): h.encode() for n, h in sorted(self.tasks.items())}}
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace(">", "\\u003e")
        return f"{HISTORY_PREFIX}{payload} -->"


def read_history(body: str | None) -> History:
    """The history in a dashboard body; an empty one when absent or unreadable (the next summary rebuilds it)."""
    match = _HISTORY.search(body or "")
    if not match:
        return History({})
    try:
        data = json.loads(match.group(1))
        tasks = {int(number): TaskHistory.decode(fields) for number, fields in data["t"].items()}
        return History(tasks, int(data.get("at", 0)))
    except (ValueError, KeyError, TypeError, IndexError):
        return History({})


def epoch(moment: datetime | None) -> int:
    return int(moment.astimezone(timezone.utc).timestamp()) if moment else 0
