"""`ccc manager plan|sync|summarize|reap`: parse each subcommand's own flags into ManagerSettings and run it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from ccc.cli.options import (
    LABEL_NAMES_HELP,
    MAX_ATTEMPTS_HELP,
    DefaultsFormatter,
    add_budget_options,
    add_connection_options,
    add_manager_login_option,
    connection_from,
    labels_from,
    manager_login_from,
)
from ccc.cli.validate import report_problems
from ccc.manager import run
from ccc.manager.settings import DEFAULT_WRITES_PER_HOUR, DEFAULT_WRITES_PER_MINUTE, ManagerSettings
from ccc.manifest import DEFAULT_GLOBS, ManifestError
from ccc.protocol.claims import DEFAULT_NAMESPACE

COMMANDS = {
    "plan": "show the issue changes sync would make (create/update/close), writing nothing",
    "sync": "create, update and close issues so they match the manifests committed at HEAD",
    "summarize": "render the dashboard: counts, throughput, durations, the task graph",
    "reap": "release expired leases; mark tasks past their maximum attempts failed",
}
USE_CASES = {"plan": run.run_plan, "sync": run.run_sync, "summarize": run.run_summarize, "reap": run.run_reap}


def register(subparsers) -> None:
    parser = subparsers.add_parser("manager", help="turn task manifests into issues and report on them")
    commands = parser.add_subparsers(dest="manager_command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text, formatter_class=DefaultsFormatter)
        add_common_options(sub)
        OPTION_GROUPS[name](sub)
        sub.set_defaults(run=dispatch)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    add_connection_options(parser)
    add_manager_login_option(
        parser,
        "login that owns the managed issues (default: ask GitHub, one request); issues with task markers by "
        "anyone else are ignored",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--label-names", metavar="KEY=NAME,…", help=LABEL_NAMES_HELP)
    parser.add_argument("--template-dir", type=Path, help="directory of templates overriding ccc's own")
    add_budget_options(parser)


def add_manifest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (manifest paths are relative)")
    parser.add_argument(
        "--manifest",
        nargs="+",
        action="extend",
        metavar="GLOB",
        dest="globs",
        help=f"manifest globs (default: {' '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument(
        "--working-tree",
        action="store_true",
        help="read the manifests from the working tree, uncommitted changes included (default: as committed at HEAD)",
    )
    parser.add_argument("--pool-label", default="any", help="label of the shared pool (tasks with `worker: any`)")
    removed = parser.add_mutually_exclusive_group()
    removed.add_argument(
        "--close-removed",
        dest="close_removed",
        action="store_true",
        default=True,
        help="close issues of tasks removed from the manifests, as not planned (the default)",
    )
    removed.add_argument(
        "--keep-removed", dest="close_removed", action="store_false", help="leave issues of removed tasks open"
    )


def add_write_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="count but skip every write")
    parser.add_argument(
        "--max-writes-per-minute",
        type=int,
        default=DEFAULT_WRITES_PER_MINUTE,
        help="pace writes under GitHub's content-creation limit (0: unpaced)",
    )
    parser.add_argument(
        "--max-writes-per-hour",
        type=int,
        default=DEFAULT_WRITES_PER_HOUR,
        help="stop when the last hour's writes reach GitHub's hourly content-creation limit (0: no cap)",
    )
    parser.add_argument(
        "--max-writes-per-run", type=int, default=0, help="stop after N writes; the next run resumes (0: no cap)"
    )


def add_claim_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--claims-namespace", default=DEFAULT_NAMESPACE, help="ref namespace of the claims")
    parser.add_argument("--max-attempts", type=int, default=3, help=MAX_ATTEMPTS_HELP)


def plan_options(parser: argparse.ArgumentParser) -> None:
    add_manifest_options(parser)


def sync_options(parser: argparse.ArgumentParser) -> None:
    add_manifest_options(parser)
    add_write_options(parser)
    parser.add_argument(
        "--dispatch-event", metavar="NAME", help="send repository_dispatch NAME after a sync that made work available"
    )


def summarize_options(parser: argparse.ArgumentParser) -> None:
    add_write_options(parser)
    add_claim_options(parser)
    dashboard = parser.add_mutually_exclusive_group()
    dashboard.add_argument(
        "--dashboard-issue",
        dest="dashboard_issue",
        action="store_true",
        default=True,
        help="keep one dashboard issue updated (the default)",
    )
    dashboard.add_argument(
        "--no-dashboard-issue", dest="dashboard_issue", action="store_false", help="only the job summary and JSON"
    )
    parser.add_argument("--dashboard-title", default="ccc dashboard", help="title of the dashboard issue")
    parser.add_argument(
        "--max-claim-reads", type=int, default=20, help="claim logs read per run (for tasks whose state changed)"
    )
    parser.add_argument("--reap", action="store_true", help="also reap expired leases (as `ccc manager reap`)")


def reap_options(parser: argparse.ArgumentParser) -> None:
    add_write_options(parser)
    add_claim_options(parser)


OPTION_GROUPS = {"plan": plan_options, "sync": sync_options, "summarize": summarize_options, "reap": reap_options}


def settings_from(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> ManagerSettings:
    """Each subcommand's flags over ManagerSettings' defaults; the connection from `env`."""
    resolved = {
        "connection": connection_from(args, env),
        "manager_login": manager_login_from(args, env),
        "labels": labels_from(args.label_names),
        "manifest_globs": tuple(getattr(args, "globs", None) or DEFAULT_GLOBS),
        "reap": getattr(args, "reap", False) or args.manager_command == "reap",
    }
    fields = ManagerSettings.__dataclass_fields__
    given = {name: value for name, value in vars(args).items() if name in fields and name not in resolved}
    return ManagerSettings(**given, **resolved)


def dispatch(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        return USE_CASES[args.manager_command](settings, as_json=args.json)
    except ManifestError as error:
        report_problems(error)
        return error.exit_code
