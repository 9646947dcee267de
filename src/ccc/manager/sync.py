"""`sync`: apply the plan task by task — create, update, close — idempotent, crash-safe and paced.

Tasks are created dependencies first, so each marker carries its dependencies' issue numbers.
References that cannot be known yet (a parent lists parts created after it) are filled in by a
second pass. A sync killed halfway and run again finds what it made in the listing by marker and
creates nothing twice; an ambiguous create is read back by the client before it is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ccc.actions_io import annotate
from ccc.client import Issue, RepoClient
from ccc.errors import AuthError, BadCredentialsError, InputError, UnprocessableError
from ccc.manager.apply import edited, write_edit
from ccc.manager.inventory import Inventory, ManagedIssue, take_inventory
from ccc.manager.pacing import Pacer
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
class SyncResult:
    plan: Plan
    dispatched: tuple[str, ...]  # worker labels woken by repository_dispatch
    requests: dict

    def to_json(self) -> dict:
        return {**self.plan.to_json(), "dispatched": list(self.dispatched), "requests": self.requests}


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
    client: RepoClient, manifest: Manifest, settings: ManagerSettings, *, progress: Progress | None = None
) -> SyncResult:
    inventory = read_inventory(client, settings)
    applier = Applier(client, settings, inventory)
    ensure_labels(client, applier.pacer, manifest, settings)
    rows = {}
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
    result_plan = Plan(tuple(rows.values()) + tuple(removed))
    dispatched = wake_workers(client, result_plan, settings)
    return SyncResult(result_plan, dispatched, client.counter.snapshot())


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

    def __init__(self, client: RepoClient, settings: ManagerSettings, inventory: Inventory):
        self.client = client
        self.settings = settings
        self.pacer = Pacer(0 if client.dry_run else settings.max_writes_per_minute)
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
            for part in parts:
                self.pacer.wait()
                self.client.add_sub_issue(parent.number, part.issue.id)
            self.current[task.id] = replace(parent, issue=replace(parent.issue, sub_issues_total=len(parts)))

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
