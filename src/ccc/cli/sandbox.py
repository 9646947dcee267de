"""`ccc sandbox serve`: run the local GitHub stand-in (REST API + git over HTTP) until stopped."""

from __future__ import annotations

import argparse
from pathlib import Path

from ccc.errors import InputError
from ccc.sandbox.profiles import PROFILES
from ccc.sandbox.routing import PERMISSIONS


def register(subparsers) -> None:
    sandbox = subparsers.add_parser("sandbox", help="a local stand-in for GitHub (REST API and git over HTTP)")
    commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the sandbox; prints one JSON line with its URLs and tokens when ready",
        description="Serve the sandbox until SIGTERM/SIGINT. State persists in --data and survives restarts.",
    )
    serve.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--data", type=Path, required=True, metavar="DIR", help="directory for the state")
    serve.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="OWNER/NAME",
        help="repository to create (repeatable; default acme/widgets)",
    )
    serve.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="LOGIN:PERMISSION",
        help=f"add or change a user with a token; PERMISSION one of {', '.join(PERMISSIONS)}",
    )
    serve.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="plain",
        help="plain: forgiving; realistic: GitHub's replica lag, Actions token budget, secondary limits "
        "and Actions settings (default plain)",
    )
    serve.add_argument("--rate-limit", type=int, default=5000, metavar="N", help="requests per user token per hour")
    serve.add_argument(
        "--secondary-limit",
        type=int,
        default=None,
        metavar="N",
        help="content-creating requests per token per minute (default: the profile's; 0: no limit)",
    )
    serve.set_defaults(run=run_serve)


def parse_tokens(values: list[str]) -> dict[str, str]:
    tokens = {}
    for value in values:
        login, _, permission = value.rpartition(":")
        if not login or permission not in PERMISSIONS:
            raise InputError(
                f"--token {value!r}: expected LOGIN:PERMISSION with PERMISSION one of {', '.join(PERMISSIONS)}"
            )
        tokens[login] = permission
    return tokens


def parse_repos(values: list[str]) -> tuple[str, ...]:
    for value in values:
        if value.count("/") != 1 or "" in value.split("/"):
            raise InputError(f"--repo {value!r}: expected OWNER/NAME")
    return tuple(values)


def run_serve(args: argparse.Namespace) -> int:
    from ccc.sandbox.server import Settings, serve  # the server is only imported when it is run

    settings = Settings(
        data_dir=args.data,
        repos=parse_repos(args.repo),
        tokens=parse_tokens(args.token),
        profile=PROFILES[args.profile],
        rate_limit=args.rate_limit,
        secondary_limit=args.secondary_limit,
        host=args.host,
        port=args.port,
    )
    return serve(settings)
