"""Hidden HTML-comment markers that let ccc find and rewrite its own text on GitHub.

Only the manager writes task markers, always as the body's last line; `read_task_marker` reads only
that trailing marker, so a marker quoted or forged inside the body text is ignored. Markers carry
JSON with `>` escaped, so no value can close the comment early.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

TASK_MARKER_PREFIX = "<!-- ccc:task "
DASHBOARD_MARKER = "<!-- ccc:dashboard -->"
_TRAILING_TASK_MARKER = re.compile(r"<!-- ccc:task (\{[^\n]*\}) -->\s*\Z")
_HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)


@dataclass(frozen=True)
class TaskMarker:
    """What the manager records on each managed issue."""

    id: str  # task id from the manifest ("dashboard/frontend" for parts)
    manifest: str  # manifest path relative to the repository root
    hash: str  # content hash of the task as last synced
    deps: tuple[int, ...] = ()  # issue numbers of the tasks this one depends on
    dep_ids: tuple[str, ...] = ()
    parent: int | None = None  # parent issue number, for parts of a coordinated task
    parts: tuple[int, ...] = field(default=())  # part issue numbers, for a parent
    # Labels the manifest owns on this issue, so sync keeps the ones people add. (Named to sort after
    # "manifest": `uid()` relies on "id" and "manifest" being adjacent in the rendered JSON.)
    owned_labels: tuple[str, ...] = ()
    retired: bool = False  # closed by the manager (removed or `state: closed`), so re-adding reopens it
    worker: str | None = None  # the routing label (cc02, or the pool's), so reports group tasks by worker

    def render(self) -> str:
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        payload = json.dumps(data, sort_keys=True, separators=(",", ":")).replace(">", "\\u003e")
        return f"{TASK_MARKER_PREFIX}{payload} -->"

    def uid(self) -> str:
        """Unique text identifying this task's issue, used to read back an ambiguous create."""
        # Keys are rendered sorted, so "id" and "manifest" stand next to each other in every marker.
        pair = json.dumps({"id": self.id, "manifest": self.manifest}, separators=(",", ":"))[1:-1]
        return pair.replace(">", "\\u003e")


def with_task_marker(body: str, marker: TaskMarker) -> str:
    """The issue body with the marker as its last line (any earlier trailing marker replaced)."""
    return f"{strip_task_marker(body).rstrip()}\n\n{marker.render()}\n"


def strip_task_marker(body: str) -> str:
    return _TRAILING_TASK_MARKER.sub("", body or "")


def read_task_marker(body: str) -> TaskMarker | None:
    """The trailing task marker of an issue body, or None (absent, malformed, or not at the end)."""
    match = _TRAILING_TASK_MARKER.search(body or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
        return TaskMarker(
            id=str(data["id"]),
            manifest=str(data["manifest"]),
            hash=str(data["hash"]),
            deps=tuple(int(n) for n in data.get("deps", ())),
            dep_ids=tuple(str(s) for s in data.get("dep_ids", ())),
            parent=int(data["parent"]) if data.get("parent") is not None else None,
            parts=tuple(int(n) for n in data.get("parts", ())),
            owned_labels=tuple(str(s) for s in data.get("owned_labels", ())),
            retired=bool(data.get("retired", False)),
            worker=str(data["worker"]) if data.get("worker") else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def comment_marker(kind: str, issue: int, nonce: str) -> str:
    """A unique marker for one comment ccc posts, so an ambiguous create can be read back."""
    return f"<!-- ccc:{kind} issue={issue} nonce={nonce} -->"


def strip_hidden(text: str) -> str:
    """Text as a person sees it rendered: HTML comments (and any markers in them) removed."""
    return _HTML_COMMENT.sub("", text or "")
