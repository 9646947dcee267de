"""The manager's use cases as the CLI runs them: load, connect, act, then report (stdout and job summary)."""

from __future__ import annotations

import json
import logging

from ccc.actions_io import annotate, append_summary
from ccc.client import Budget, RepoClient, RetryPolicy
from ccc.client.policy import describe_reset
from ccc.manager.dashboard import job_summary
from ccc.manager.markdown import cell
from ccc.manager.plan import Action, Plan, plan
from ccc.manager.reap import prune_claims, reap_leases
from ccc.manager.settings import ManagerSettings
from ccc.manager.summarize import summarize
from ccc.manager.sync import Stopped, read_inventory, sync
from ccc.manifest import Manifest
from ccc.manifest.committed import load_committed
from ccc.render import render

log = logging.getLogger(__name__)

PLAN_TEMPLATE = "manager_plan.md.j2"


def load(settings: ManagerSettings) -> Manifest:
    """The manifests as committed at HEAD (or the working tree with --working-tree), validated before
    anything touches GitHub (ManifestError: exit 2, nothing written)."""
    labels = settings.labels
    reserved = (
        *labels.state_labels,
        labels.ready_for_review,
        labels.priority_high,
        labels.priority_normal,
        labels.priority_low,
        settings.pool_label,
    )
    manifest, source = load_committed(
        settings.root, settings.manifest_globs, working_tree=settings.working_tree, reserved_labels=reserved
    )
    log.info("manifests read from %s", source.describe())
    if source.uncommitted:
        annotate(
            "warning",
            f"the working tree differs from HEAD in {', '.join(source.uncommitted)}: using what is committed "
            "(commit it, or pass --working-tree to use uncommitted files on purpose)",
        )
    return manifest


def client_for(settings: ManagerSettings, *, dry_run: bool) -> RepoClient:
    # The manager paces its own writes (--max-writes-per-minute), so PyGithub's fixed pacing is off.
    if settings.connection is None:
        raise ValueError("ManagerSettings.connection is needed to connect (or pass the use case a client)")
    return settings.connection.client(
        dry_run=dry_run,
        budget=Budget(max_requests=settings.max_requests, reserve=settings.rate_limit_reserve),
        policy=RetryPolicy(max_rate_limit_wait_seconds=settings.max_wait),
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def run_plan(settings: ManagerSettings, *, as_json: bool, client: RepoClient | None = None) -> int:
    """Print what sync would change; writes nothing (the client is in dry-run mode as a second guard)."""
    manifest = load(settings)
    client = client or client_for(settings, dry_run=True)
    inventory = read_inventory(client, settings)
    result = plan(manifest, inventory, inventory.states(settings.labels), settings)
    payload = {**result.to_json(), "requests": client.counter.snapshot()}
    report("ccc plan", result, payload, settings, as_json=as_json, applied=False)
    return 0


def run_sync(settings: ManagerSettings, *, as_json: bool, client: RepoClient | None = None) -> int:
    manifest = load(settings)
    client = client or client_for(settings, dry_run=settings.dry_run)
    result = sync(client, manifest, settings)
    log.info("sync cost %s", json.dumps(result.requests["by_operation"]))
    if rate := client.counter.rate_line():
        log.info("%s", rate)
    report(
        "ccc sync" + (" (dry run)" if settings.dry_run else ""),
        result.plan,
        result.to_json(),
        settings,
        as_json=as_json,
        applied=True,
        stopped=result.stopped,
    )
    return 0


def plan_markdown(
    title: str, result: Plan, settings: ManagerSettings, *, applied: bool, stopped: Stopped | None = None
) -> str:
    rows = [
        {
            "action": row.action.value,
            "task": cell(row.task_id),
            "issue": f"#{row.number}" if row.number else "—",
            "title": cell(row.title),
            "reasons": cell("; ".join(row.reasons)),
        }
        for row in result.rows
        if row.action is not Action.UNCHANGED
    ]
    return render(
        PLAN_TEMPLATE,
        override_dir=settings.template_dir,
        title=title,
        applied=applied,
        counts=result.counts(),
        rows=rows,
        stopped=stopped,
        resume_at=stopped and stopped.resume_at and describe_reset(stopped.resume_at),
    )


def report(
    title: str,
    result: Plan,
    payload: dict,
    settings: ManagerSettings,
    *,
    as_json: bool,
    applied: bool,
    stopped: Stopped | None = None,
) -> None:
    """The table on stdout (or JSON with --json) and in the job summary."""
    markdown = plan_markdown(title, result, settings, applied=applied, stopped=stopped)
    print(json.dumps(payload, indent=2) if as_json else markdown)
    append_summary(markdown)


def run_summarize(settings: ManagerSettings, *, as_json: bool, client: RepoClient | None = None) -> int:
    """The dashboard in the job summary (and on stdout), the dashboard issue updated; JSON with --json."""
    client = client or client_for(settings, dry_run=settings.dry_run)
    result = summarize(client, settings)
    log.info("summarize cost %s", json.dumps(result.requests["by_operation"]))
    if rate := client.counter.rate_line():
        log.info("%s", rate)
    markdown = job_summary(result.dashboard, settings)
    append_summary(markdown)
    print(json.dumps(result.to_json(), indent=2) if as_json else markdown)
    return 0


def run_reap(settings: ManagerSettings, *, as_json: bool, client: RepoClient | None = None) -> int:
    client = client or client_for(settings, dry_run=settings.dry_run)
    reaped = reap_leases(client, settings)
    pruned = prune_claims(client, settings)
    payload = {"reaped": [r.to_json() for r in reaped], "pruned": pruned, "requests": client.counter.snapshot()}
    lines = [f"#{r.number}: lease of {r.worker} expired (attempt {r.attempt}): {r.outcome.value}" for r in reaped]
    lines += [f"#{n}: claim ref deleted (closed over {settings.claim_retention.days} days; log kept)" for n in pruned]
    print(json.dumps(payload, indent=2) if as_json else "\n".join(lines) or "No expired leases.")
    return 0
