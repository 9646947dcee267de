"""`ccc manager plan|sync|summarize|reap`: parse the flags into ManagerSettings and run the use case."""

from __future__ import annotations

import argparse
from pathlib import Path

from ccc.cli.options import add_budget_options, add_connection_options
from ccc.cli.validate import report_problems
from ccc.manager import run
from ccc.manager.settings import (
    DEFAULT_CLAIMS_NAMESPACE,
    DEFAULT_WRITES_PER_HOUR,
    DEFAULT_WRITES_PER_MINUTE,
    ManagerSettings,
)
from ccc.manifest import DEFAULT_GLOBS, ManifestError
from ccc.protocol.states import Labels

# Flags that rename a protocol label: --label-in-progress NAME sets Labels.in_progress, and so on.
LABEL_FIELDS = tuple(Labels.__dataclass_fields__)

COMMANDS = {
    "plan": "show the issue changes sync would make (create/update/close), writing nothing",
    "sync": "create, update and close issues so they match the manifests",
    "summarize": "render the dashboard: counts, throughput, durations, the task graph",
    "reap": "release expired leases; mark tasks past their maximum attempts failed",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("manager", help="turn task manifests into issues and report on them")
    commands = parser.add_subparsers(dest="manager_command", metavar="COMMAND", required=True)
    common = common_parser()
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        if name == "summarize":
            sub.add_argument("--reap", action="store_true", help="also reap expired leases (as `ccc manager reap`)")
        sub.set_defaults(run=dispatch)


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=Path("."), help="repository root (manifest paths are relative)")
    common.add_argument(
        "--manifest",
        nargs="+",
        action="extend",
        metavar="GLOB",
        dest="globs",
        help=f"manifest globs (default: {' '.join(DEFAULT_GLOBS)})",
    )
    add_connection_options(
        common,
        manager_login_help="login that owns the managed issues (default: CCC_MANAGER_LOGIN, else ask GitHub: "
        "one request); issues with task markers by anyone else are ignored",
    )
    common.add_argument("--dry-run", action="store_true", help="count but skip every write")
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    removed = common.add_mutually_exclusive_group()
    removed.add_argument(
        "--close-removed",
        dest="close_removed",
        action="store_true",
        default=True,
        help="close issues of tasks removed from the manifests, as not planned (default)",
    )
    removed.add_argument(
        "--keep-removed", dest="close_removed", action="store_false", help="leave issues of removed tasks open"
    )
    common.add_argument(
        "--dispatch-event", metavar="NAME", help="send repository_dispatch NAME after a sync that made work available"
    )
    common.add_argument(
        "--max-writes-per-minute",
        type=int,
        default=DEFAULT_WRITES_PER_MINUTE,
        help="pace writes under GitHub's content-creation limit (0: unpaced)",
    )
    common.add_argument(
        "--max-writes-per-hour",
        type=int,
        default=DEFAULT_WRITES_PER_HOUR,
        help="stop when the last hour's writes reach GitHub's hourly content-creation limit (0: no cap)",
    )
    common.add_argument(
        "--max-writes-per-run",
        type=int,
        default=0,
        help="stop after N writes; the next run resumes (0: no cap)",
    )
    add_budget_options(common)
    dashboard = common.add_mutually_exclusive_group()
    dashboard.add_argument(
        "--dashboard-issue",
        dest="dashboard_issue",
        action="store_true",
        default=True,
        help="keep one dashboard issue updated (default)",
    )
    dashboard.add_argument(
        "--no-dashboard-issue", dest="dashboard_issue", action="store_false", help="only the job summary and JSON"
    )
    common.add_argument("--dashboard-title", default="ccc dashboard", help="title of the dashboard issue")
    common.add_argument("--pool-label", default="any", help="label of the shared pool (tasks with `worker: any`)")
    common.add_argument("--template-dir", type=Path, help="directory of templates overriding ccc's own")
    common.add_argument("--claims-namespace", default=DEFAULT_CLAIMS_NAMESPACE, help="ref namespace of claims")
    common.add_argument("--max-attempts", type=int, default=3, help="attempts before a task is marked failed")
    common.add_argument(
        "--max-claim-reads",
        type=int,
        default=20,
        help="claim records summarize reads per run (for tasks whose state changed)",
    )
    for name in LABEL_FIELDS:
        flag = name.replace("_", "-")
        common.add_argument(
            f"--label-{flag}",
            dest=f"label_{name}",
            metavar="NAME",
            help=f"name of the {flag} label (default: {getattr(Labels(), name)})",
        )
    return common


def settings_from(args) -> ManagerSettings:
    labels = Labels().with_overrides(**{name: getattr(args, f"label_{name}") for name in LABEL_FIELDS})
    return ManagerSettings(
        repo=args.repo,
        api_url=args.api_url,
        token_env=args.token_env,
        root=args.root,
        manifest_globs=tuple(args.globs or DEFAULT_GLOBS),
        labels=labels,
        pool_label=args.pool_label,
        manager_login=args.manager_login,
        close_removed=args.close_removed,
        max_writes_per_minute=args.max_writes_per_minute,
        max_writes_per_hour=args.max_writes_per_hour,
        max_writes_per_run=args.max_writes_per_run,
        max_requests=args.max_requests,
        rate_limit_reserve=args.rate_limit_reserve,
        max_wait=args.max_wait,
        dispatch_event=args.dispatch_event,
        dashboard_issue=args.dashboard_issue,
        dashboard_title=args.dashboard_title,
        reap=getattr(args, "reap", False) or args.manager_command == "reap",
        claims_namespace=args.claims_namespace,
        max_attempts=args.max_attempts,
        max_claim_reads=args.max_claim_reads,
        template_dir=args.template_dir,
        dry_run=args.dry_run,
    )


def dispatch(args) -> int:
    settings = settings_from(args)
    use_case = {
        "plan": run.run_plan,
        "sync": run.run_sync,
        "summarize": run.run_summarize,
        "reap": run.run_reap,
    }[args.manager_command]
    try:
        return use_case(settings, as_json=args.json)
    except ManifestError as error:
        report_problems(error)
        return error.exit_code
