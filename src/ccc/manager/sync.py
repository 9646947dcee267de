"""`sync`: apply the plan task by task — create, update, close — idempotent, crash-safe and paced.

Tasks are created dependencies first, so each marker carries its dependencies' issue numbers.
References that cannot be known yet (a parent lists parts created after it) are filled in by a
second pass. A sync killed halfway and run again finds what it made in the listing by marker and
creates nothing twice; an ambiguous create is read back by the client before it is retried. A sync that
reaches its budget (the hour's writes, --max-writes-per-run, --max-requests, the rate-limit reserve) stops
the same way on purpose, reports what is left and when to continue, and the next run resumes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from ccc.actions_io import annotate
from ccc.client import Issue, RepoClient
from ccc.errors import AuthError, BadCredentialsError, BudgetSpent, InputError, UnprocessableError
from ccc.manager.apply import edited, write_edit
from ccc.manager.inventory import Inventory, ManagedIssue, take_inventory
from ccc.manager.pacing import HOUR, Pacer, writes_pacer
from ccc.manager.plan import Action, Plan, Row, plan_task, removed_rows, task_order
from ccc.manager.progress import Progress
from ccc.manager.settings import ManagerSettings
from ccc.manifest import Manifest, Task
from ccc.protocol.lifecycle import task_state
from ccc.protocol.markers import comment_marker, read_task_marker
from ccc.protocol.states import worker_label_spec
from ccc.render import render

log = logging.getLogger(__name__)

RETIRE_COMMENT_TEMPLATE = "retire_comment.md.j2"


@dataclass(frozen=True)
class Stopped:
    """Why a sync stopped before the end of its plan, and what is left for the next run."""

    reason: str  # names the setting to raise
    remaining: int  # tasks not yet applied
    resume_at: float | None  # epoch seconds when the next run can continue; None: at once

    def to_json(self) -> dict:
        return {"reason": self.reason, "remaining": self.remaining, "resume_at": self.resume_at}


@dataclass(frozen=True)
class SyncResult:
    plan: Plan
    dispatched: tuple[str, ...]  # worker labels woken by repository_dispatch
    requests: dict
    stopped: Stopped | None = None

    def to_json(self) -> dict:
        stopped = self.stopped and self.stopped.to_json()
        return {
            **self.plan.to_json(),
            "dispatched": list(self.dispatched),
            "requests": self.requests,
            "stopped": stopped,
        }


def manager_login(client: RepoClient, settings: ManagerSettings) -> str:
    """Whose issues are managed: the setting, else the token's own login (one request)."""
    if settings.manager_login:
        return settings.manager_login
    try:
        return client.authenticated_login()
    except BadCredentialsError:
        raise  # a wrong token is not fixed by naming a login
    except AuthError as error:
        # Actions and App installation tokens may not call GET /user.
        raise InputError(
            f"cannot ask GitHub which login this token acts as ({error.message}): pass --manager-login "
            "(github-actions[bot] for the Actions GITHUB_TOKEN, <app-slug>[bot] for a GitHub App token)"
        ) from None


def read_inventory(client: RepoClient, settings: ManagerSettings) -> Inventory:
    """One paginated listing of every issue (open and closed), sorted into what the manager owns."""
    login = manager_login(client, settings)
    inventory = take_inventory(client.list_issues(state="all", operation="list_managed"), manager_login=login)
    for issue in inventory.ignored:
        annotate("warning", f"#{issue.number} has a task marker but was opened by {issue.author}: ignored")
    for managed in inventory.duplicates:
        first = inventory.tasks[managed.marker.id].number
        annotate(
            "warning",
            f"#{managed.number} is a second issue for task {managed.marker.id} (first: #{first}): "
            "ignored; close it as a duplicate",
        )
    return inventory


def sync(
    client: RepoClient,
    manifest: Manifest,
    settings: ManagerSettings,
    *,
    pacer: Pacer | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Apply the manifests; stops cleanly (result.stopped) when the run's budget is spent."""
    try:
        inventory = read_inventory(client, settings)
    except BudgetSpent as stop:
        return SyncResult(
            Plan(()), (), client.counter.snapshot(), Stopped(stop.message, len(manifest.tasks), stop.reset_at)
        )
    pacer = pacer or writes_pacer(settings, dry_run=client.dry_run, earlier=recent_creations(inventory))
    applier = Applier(client, settings, inventory, pacer)
    rows: dict[str, Row] = {}
    try:
        ensure_labels(client, pacer, manifest, settings)
        with progress or Progress("sync", len(manifest.tasks)) as shown:
            for task in task_order(manifest):
                rows[task.id] = applier.apply_task(task, manifest)
                shown.advance()
        for task_id, row in rows.items():
            # Now every reference has its number (in a dry run nothing was created: nothing to fill in).
            if row.desired is not None and row.desired.unresolved and task_id in applier.current:
                applier.apply_task(manifest.by_id(task_id), manifest)
        applier.link_parts(manifest)
        removed = [applier.apply_removed(row) for row in removed_rows(manifest, inventory, settings)]
    except BudgetSpent as stop:
        stopped = Stopped(stop.message, len(manifest.tasks) - len(rows), stop.reset_at)
        log.warning("sync stopped with %d tasks left: %s", stopped.remaining, stop.message)
        return SyncResult(Plan(tuple(rows.values())), (), client.counter.snapshot(), stopped)
    result_plan = Plan(tuple(rows.values()) + tuple(removed))
    dispatched = wake_workers(client, result_plan, settings)
    return SyncResult(result_plan, dispatched, client.counter.snapshot())


def recent_creations(inventory: Inventory, now: float | None = None) -> list[float]:
    """When the managed issues made in the last hour were created: earlier runs' share of the hour's cap."""
    since = (time.time() if now is None else now) - HOUR
    created = [managed.issue.created_at.timestamp() for managed in inventory.tasks.values()]
    return [moment for moment in created if moment > since]


def ensure_labels(client: RepoClient, pacer: Pacer, manifest: Manifest, settings: ManagerSettings) -> None:
    """Create the protocol's labels and the worker labels if missing: one listing when all exist."""
    workers = sorted({label for task in manifest.tasks if (label := settings.worker_label(task.worker))})
    wanted = [*settings.labels.specs(), *(worker_label_spec(label) for label in workers)]
    existing = {label.name.lower() for label in client.list_labels()}
    for spec in wanted:
        if spec.name.lower() not in existing:
            pacer.wait()
            client.create_label(spec.name, spec.color, spec.description)
            existing.add(spec.name.lower())


def wake_workers(client: RepoClient, result: Plan, settings: ManagerSettings) -> tuple[str, ...]:
    """One repository_dispatch naming the workers that have new work (cron stays the backstop)."""
    workers = sorted(
        {
            label
            for row in result.rows
            if row.unblocks and row.desired and (label := settings.worker_label(row.desired.task.worker))
        }
    )
    if not settings.dispatch_event or not workers:
        return ()
    client.dispatch(settings.dispatch_event, {"workers": workers})
    return tuple(workers)


class Applier:
    """Applies rows to GitHub and keeps its own view of the issues up to date as it goes."""

    def __init__(self, client: RepoClient, settings: ManagerSettings, inventory: Inventory, pacer: Pacer):
        self.client = client
        self.settings = settings
        self.pacer = pacer
        self.current: dict[str, ManagedIssue] = dict(inventory.tasks)
        self.numbers = {task_id: managed.number for task_id, managed in inventory.tasks.items()}
        self.states = inventory.states(settings.labels)

    def apply_task(self, task: Task, manifest: Manifest) -> Row:
        row = plan_task(task, manifest, self.current.get(task.id), self.numbers, self.states, self.settings)
        if row.action is Action.CREATE:
            return self._create(row)
        if row.action in (Action.UPDATE, Action.CLOSE):
            self.current[task.id] = self._edit(self.current[task.id], row)
        return row

    def apply_removed(self, row: Row) -> Row:
        if row.action is Action.CLOSE:
            self.current[row.task_id] = self._edit(self.current[row.task_id], row)
        return row

    def link_parts(self, manifest: Manifest) -> None:
        """Link each part to its parent with the sub-issues API, unless the parent's count says done."""
        for task in manifest.tasks:
            parent = self.current.get(task.id)
            parts = [self.current[part_id] for part_id in task.parts if part_id in self.current]
            if parent is None or not parts or parent.issue.sub_issues_total >= len(parts):
                continue
            linked = 0
            for part in parts:
                self.pacer.wait()
                try:
                    self.client.add_sub_issue(parent.number, part.issue.id)  # the issue's id, not its number
                    linked += 1
                except UnprocessableError as exc:  # the task tree still holds: parts are in the manifest
                    annotate("warning", f"task {task.id}: #{part.number} is not shown as its sub-issue: {exc.message}")
            self.current[task.id] = replace(parent, issue=replace(parent.issue, sub_issues_total=linked))

    # -- writes -------------------------------------------------------------------------------

    def _create(self, row: Row) -> Row:
        desired, edit = row.desired, row.edit
        self.pacer.wait()
        try:
            issue = self._create_issue(row, edit.assignees)
        except UnprocessableError:
            if not edit.assignees:
                raise
            annotate(
                "warning",
                f"task {row.task_id}: cannot assign {', '.join(edit.assignees)} (no access to "
                f"the repository?); the issue is created unassigned",
                file=desired.task.source,
                line=desired.task.line,
            )
            issue = self._create_issue(row, ())
        if issue is None:  # dry run
            return row
        self.current[row.task_id] = ManagedIssue(issue, desired.marker)
        self.numbers[row.task_id] = issue.number
        self.states[issue.number] = task_state(issue, self.settings.labels)
        log.debug("created #%d for task %s", issue.number, row.task_id)  # the plan table lists them all
        return replace(row, number=issue.number)

    def _create_issue(self, row: Row, assignees: tuple[str, ...]) -> Issue | None:
        desired = row.desired
        return self.client.create_issue(
            title=desired.title,
            body=desired.body,
            labels=row.edit.add_labels,
            assignees=assignees,
            marker=desired.marker.uid(),
        )

    def _edit(self, managed: ManagedIssue, row: Row) -> ManagedIssue:
        """Apply `row.edit`: one PATCH for fields, label deltas, assignees; a comment when retiring."""
        edit, number = row.edit, managed.number
        write_edit(self.client, self.pacer, number, edit)
        if row.action is Action.CLOSE:
            self._comment_retired(managed, row)
        log.info("%s #%d (task %s): %s", row.action.value, number, row.task_id, "; ".join(row.reasons))
        after = edited(managed.issue, edit)
        if row.action is Action.UPDATE:
            self.states[number] = task_state(after, self.settings.labels)
        return ManagedIssue(after, read_task_marker(after.body) or managed.marker)

    def _comment_retired(self, managed: ManagedIssue, row: Row) -> None:
        marker = comment_marker("retired", managed.number, managed.marker.hash[:12])
        body = render(
            RETIRE_COMMENT_TEMPLATE,
            override_dir=self.settings.template_dir,
            task_id=row.task_id,
            manifest=managed.marker.manifest,
            reason=row.reasons[0],
            state_reason=row.edit.state_reason,
            marker=marker,
        )
        self.pacer.wait()
        self.client.create_comment(managed.number, body, marker=marker)
