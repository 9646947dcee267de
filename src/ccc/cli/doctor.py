"""`ccc doctor`: check that a repository is ready for ccc; one line per check, with the fix."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path

from ccc.cli.options import LABEL_NAMES_HELP, DefaultsFormatter, add_connection_options, connection_from, labels_from
from ccc.manifest import ANY_WORKER, DEFAULT_GLOBS
from ccc.protocol.claims import DEFAULT_NAMESPACE

DESCRIPTION = """\
Check that a repository is ready for ccc: the token authenticates and may write; GitHub Actions may open
pull requests (or the workers have a pr-token); claim refs can be created, fast-forwarded, refused a
non-fast-forward and deleted (one scratch ref under the claim namespace, removed again); the protocol's
labels exist; which rate-limit pool the token is in and what is left; the manifest committed at HEAD
validates; self-hosted runners carrying the worker labels are online. Writes nothing but the scratch ref.
"""
EPILOG = (
    "exit codes: 0 nothing failed (warnings allowed); 1 a check failed; 2 bad input; 3 the token or repository failed."
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check that a repository is ready for ccc",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=DefaultsFormatter,
    )
    add_connection_options(parser)
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root (manifest paths are relative)")
    parser.add_argument(
        "--manifest",
        nargs="+",
        action="extend",
        metavar="GLOB",
        dest="globs",
        help=f"manifest globs (default: {' '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument("--working-tree", action="store_true", help="check the uncommitted manifests, not HEAD's")
    parser.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="LABEL",
        help="a worker label to look for runners of (repeatable; the manifest's are added)",
    )
    parser.add_argument("--pool-label", default=ANY_WORKER, help="label of the shared pool (tasks with `worker: any`)")
    parser.add_argument("--label-names", metavar="KEY=NAME,…", help=LABEL_NAMES_HELP)
    parser.add_argument("--claims-namespace", default=DEFAULT_NAMESPACE, help="ref namespace of the claims")
    parser.add_argument("--pr-token-env", help="variable holding the workers' pr-token, if they have one")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(run=run)


def settings_from(args: argparse.Namespace, env: Mapping[str, str]):
    from ccc.doctor import DoctorSettings

    return DoctorSettings(
        root=args.root,
        manifest_globs=tuple(args.globs or DEFAULT_GLOBS),
        working_tree=args.working_tree,
        labels=labels_from(args.label_names),
        pool_label=args.pool_label,
        claims_namespace=args.claims_namespace,
        workers=tuple(args.worker),
        pr_token=bool(args.pr_token_env and env.get(args.pr_token_env)),
    )


def run(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> int:
    from ccc.actions_io import append_summary
    from ccc.doctor import diagnose

    connection = connection_from(args, env)
    settings = settings_from(args, env)
    diagnosis = diagnose(connection.client(seconds_between_requests=0, seconds_between_writes=0), settings)
    lines = [f"ccc doctor: {connection.repo} at {connection.api_url}"] + [check.line() for check in diagnosis.checks]
    print(json.dumps(diagnosis.to_json(), indent=2) if args.json else "\n".join(lines))
    append_summary("```text\n" + "\n".join(lines) + "\n```\n")
    if diagnosis.unreachable:
        return 3
    return 0 if diagnosis.ok else 1
