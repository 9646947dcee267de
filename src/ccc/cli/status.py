"""`ccc status`: the task queue of a repository (real or sandbox), once or refreshed every few seconds."""

from __future__ import annotations

import json
import os
import time

from ccc.cli.options import (
    DefaultsFormatter,
    add_connection_options,
    add_manager_login_option,
    connection_from,
    manager_login_from,
)
from ccc.errors import InputError
from ccc.protocol.claims import DEFAULT_NAMESPACE


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the task queue: states, who holds what, lease ages, PRs",
        formatter_class=DefaultsFormatter,
        description="Show the managed tasks of a repository: state, worker, attempt, lease and pull request. "
        "The token comes from GITHUB_TOKEN (or --token-env).",
    )
    add_connection_options(parser)
    add_manager_login_option(
        parser,
        "only issues this login opened are tasks, as the manager sees them (default: every issue that ends "
        "in a task marker)",
    )
    parser.add_argument("--claims-namespace", default=DEFAULT_NAMESPACE, help="where claim refs live")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per refresh with --watch)")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="refresh every SECONDS until interrupted")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ccc.status import LiveView, StatusReader, render_table

    if args.watch is not None and args.watch <= 0:
        raise InputError(f"--watch must be a positive number of seconds, got {args.watch}")
    client = connection_from(args, os.environ).client()
    reader = StatusReader(client, namespace=args.claims_namespace, manager_login=manager_login_from(args, os.environ))
    view = LiveView()
    while True:
        status = reader.read()
        if args.json:
            print(json.dumps(status.to_json()), flush=True)
        elif args.watch is None:
            print("\n".join(render_table(status, colour=view.terminal)))
        else:
            view.show(status, prefix=f"{status.at:%H:%M:%S} ")
        if args.watch is None:
            return 0
        time.sleep(args.watch)
