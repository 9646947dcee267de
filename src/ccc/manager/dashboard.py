"""The dashboard: counts per state, per-worker throughput, leases, failures, completions, and the task graph.

Rendered from `dashboard.md.j2` for the job summary (whole graph) and the dashboard issue, whose body
holds at most 65,536 characters: there, long lists are cut and the graph is left out for large
task sets. Titles are untrusted text: table cells and mermaid labels are escaped.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from ccc.actions_io import SUMMARY_LIMIT_BYTES
from ccc.manager.history import History, epoch
from ccc.manager.markdown import cell, mermaid_label
from ccc.manager.settings import ManagerSettings
from ccc.protocol.markers import DASHBOARD_MARKER
from ccc.protocol.states import TaskState
from ccc.render import render

DASHBOARD_TEMPLATE = "dashboard.md.j2"
UPDATED_PREFIX = "<sub>Updated "
ISSUE_BODY_LIMIT = 65_536
DAY = 24 * 3600
# Mermaid's defaults (maxEdges 500, maxTextSize 50,000), which GitHub's renderer keeps: stay under both.
MERMAID_MAX_EDGES = 499
MERMAID_MAX_TEXT = 45_000
# Fill, text and stroke colours per state, as the labels' colours (states.Labels.specs).
STATE_STYLES = {
    TaskState.READY: "fill:#ffffff,stroke:#57606a,color:#24292f",
    TaskState.BLOCKED: "fill:#d4c5f9,stroke:#8250df,color:#24292f",
    TaskState.IN_PROGRESS: "fill:#fbca04,stroke:#9a6700,color:#24292f",
    TaskState.COMPLETED: "fill:#0e8a16,stroke:#055d0b,color:#ffffff",
    TaskState.MERGED: "fill:#8250df,stroke:#512a97,color:#ffffff",
    TaskState.FAILED: "fill:#b60205,stroke:#6e0001,color:#ffffff",
    TaskState.RETIRED: "fill:#eeeeee,stroke:#8c959f,color:#57606a",
}


@dataclass(frozen=True)
class TaskView:
    number: int
    task_id: str
    title: str
    url: str
    state: TaskState
    route: str  # routing label; "" for a coordinated task's tracking issue
    worker: str  # who last held its claim ("" if unknown)
    attempts: int
    created: int  # epoch seconds
    started: int
    finished: int
    lease: int
    pr: str
    deps: tuple[int, ...]
    parts: tuple[int, ...]

    @property
    def work_seconds(self) -> int | None:
        return self.finished - self.started if self.started and self.finished >= self.started else None

    @property
    def lead_seconds(self) -> int | None:
        return self.finished - self.created if self.finished else None

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(state=self.state.value, deps=list(self.deps), parts=list(self.parts))
        return data


@dataclass(frozen=True)
class WorkerStats:
    worker: str
    counts: dict[str, int]
    completed_last_day: int
    median_work_seconds: int | None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Dashboard:
    updated: int
    counts: dict[str, int]
    workers: tuple[WorkerStats, ...]
    in_progress: tuple[TaskView, ...]
    expired: tuple[TaskView, ...]  # in progress with a lease that ran out
    failed: tuple[TaskView, ...]
    recent: tuple[TaskView, ...]  # delivered (PR open or merged), newest first
    tasks: tuple[TaskView, ...]


def build_dashboard(views: list[TaskView], *, now: datetime, settings: ManagerSettings) -> Dashboard:
    stamp = epoch(now)
    counts = {state.value: 0 for state in TaskState}
    for view in views:
        counts[view.state.value] += 1
    in_progress = tuple(v for v in views if v.state is TaskState.IN_PROGRESS)
    completed = sorted((v for v in views if v.state.is_delivered), key=lambda v: -v.finished)
    return Dashboard(
        updated=stamp,
        counts=counts,
        workers=worker_stats(views, stamp),
        in_progress=in_progress,
        expired=tuple(v for v in in_progress if v.lease and v.lease <= stamp),
        failed=tuple(v for v in views if v.state is TaskState.FAILED),
        recent=tuple(completed),
        tasks=tuple(views),
    )


def worker_stats(views: list[TaskView], now: int) -> tuple[WorkerStats, ...]:
    by_route: dict[str, list[TaskView]] = defaultdict(list)
    for view in views:
        if view.route:  # tracking issues of coordinated tasks are nobody's work
            by_route[view.route].append(view)
    stats = []
    for route, tasks in sorted(by_route.items()):
        counts = {state.value: sum(1 for t in tasks if t.state is state) for state in TaskState}
        done = [t for t in tasks if t.state.is_delivered]
        work = [t.work_seconds for t in done if t.work_seconds is not None]
        recent = sum(1 for t in done if t.finished and now - t.finished <= DAY)
        stats.append(WorkerStats(route, counts, recent, int(statistics.median(work)) if work else None))
    return tuple(stats)


def render_dashboard(dashboard: Dashboard, settings: ManagerSettings, *, graph: bool, list_limit: int) -> str:
    drawn = mermaid_graph(dashboard.tasks) if graph and dashboard.tasks else None
    return render(
        DASHBOARD_TEMPLATE,
        override_dir=settings.template_dir,
        updated_prefix=UPDATED_PREFIX,
        updated=_time(dashboard.updated),
        counts=dashboard.counts,
        total=sum(dashboard.counts.values()),
        workers=[_worker_row(w) for w in dashboard.workers],
        in_progress=[_task_row(v) for v in dashboard.in_progress[:list_limit]],
        expired=[_task_row(v) for v in dashboard.expired[:list_limit]],
        failed=[_task_row(v) for v in dashboard.failed[:list_limit]],
        recent=[_task_row(v) for v in dashboard.recent[:list_limit]],
        more={
            name: max(0, len(getattr(dashboard, name)) - list_limit)
            for name in ("in_progress", "expired", "failed", "recent")
        },
        graph=drawn[0] if drawn else None,
        graph_shown=drawn[1] if drawn else 0,
        graph_left_out=not graph and bool(dashboard.tasks),
    )


def job_summary(dashboard: Dashboard, settings: ManagerSettings) -> str:
    """The whole dashboard with the graph; without it if that would not fit the 1 MiB summary limit."""
    text = render_dashboard(dashboard, settings, graph=True, list_limit=100)
    if len(text.encode()) > SUMMARY_LIMIT_BYTES:
        text = render_dashboard(dashboard, settings, graph=False, list_limit=100)
    return text


def dashboard_body(dashboard: Dashboard, history: History, settings: ManagerSettings) -> str:
    """The dashboard issue's body: marker, dashboard, hidden history; trimmed to fit an issue body.

    Trimmed step by step: the graph (left to the job summary), long lists, the details of finished
    tasks in the history, and last the history itself (the next summaries then re-read claims).
    """
    graph = len(dashboard.tasks) <= settings.issue_graph_limit
    attempts = [
        (graph, 20, history.render()),
        (False, 20, history.render()),
        (False, 20, history.compacted().render()),
        (False, 5, history.compacted().render()),
        (False, 5, ""),
    ]
    for with_graph, limit, hidden in attempts:
        visible = render_dashboard(dashboard, settings, graph=with_graph, list_limit=limit)
        body = f"{DASHBOARD_MARKER}\n{visible}\n{hidden}\n"
        if len(body) <= ISSUE_BODY_LIMIT:
            break
    return body


def mermaid_graph(tasks: tuple[TaskView, ...]) -> tuple[str, int]:
    """A flowchart of the tasks (dependency arrows, dotted links to parts, one class per state), and how
    many tasks it shows: within mermaid's default limits, open tasks first when not all fit."""
    shown = _fitting(tasks)
    present = {t.number for t in shown}
    lines = ["flowchart LR"]
    for task in shown:
        # "#12" is safe: mermaid decodes only "#name;" entities, and labels never contain ";".
        label = f"#{task.number} {mermaid_label(task.title)}"
        lines.append(f'  t{task.number}["{label}"]:::{_class(task.state)}')
    for task in shown:
        lines += [f"  t{dep} --> t{task.number}" for dep in task.deps if dep in present]
        lines += [f"  t{task.number} -.- t{part}" for part in task.parts if part in present]
    lines += [f"  classDef {_class(state)} {style}" for state, style in STATE_STYLES.items()]
    return "\n".join(lines), len(shown)


def _fitting(tasks: tuple[TaskView, ...]) -> list[TaskView]:
    """The tasks to draw: all if mermaid can render them, else open tasks first, then the rest, while they fit."""
    order = sorted(tasks, key=lambda t: (t.state.is_delivered or t.state is TaskState.RETIRED, t.number))
    linked_from: dict[int, list[int]] = defaultdict(list)  # number -> tasks whose arrows end there
    for task in tasks:
        for other in (*task.deps, *task.parts):
            linked_from[other].append(task.number)
    shown: list[TaskView] = []
    present: set[int] = set()
    edges, size = 0, 1000  # header and classDefs
    for task in order:
        new_edges = sum(1 for n in (*task.deps, *task.parts) if n in present)
        new_edges += sum(1 for n in linked_from[task.number] if n in present)
        cost = 40 + len(task.title) + 24 * new_edges  # generous: labels are cut to 60 characters
        if edges + new_edges > MERMAID_MAX_EDGES or size + cost > MERMAID_MAX_TEXT:
            continue
        shown.append(task)
        present.add(task.number)
        edges, size = edges + new_edges, size + cost
    return sorted(shown, key=lambda t: t.number)


def _class(state: TaskState) -> str:
    return state.value.replace("-", "_")


def _task_row(view: TaskView) -> dict:
    return {
        "issue": f"#{view.number}",
        "task": cell(view.task_id),
        "title": cell(view.title),
        "worker": cell(view.worker or view.route or "—"),
        "attempts": view.attempts or "—",
        "started": _time(view.started),
        "finished": _time(view.finished),
        "lease": _time(view.lease),
        "work": _duration(view.work_seconds),
        "lead": _duration(view.lead_seconds),
        "pr": cell(view.pr) if view.pr else "—",
        "state": "merged"
        if view.state is TaskState.MERGED
        else "PR open"
        if view.state.is_delivered
        else view.state.value,
    }


def _worker_row(stats: WorkerStats) -> dict:
    return {
        "worker": cell(stats.worker),
        **{k.replace("-", "_"): v for k, v in stats.counts.items()},
        "last_day": stats.completed_last_day,
        "median": _duration(stats.median_work_seconds),
    }


def _time(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if stamp else "—"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"
