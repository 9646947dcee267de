"""`ccc demo`: try ccc on one machine against the local sandbox."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run ccc end to end against a local sandbox",
        description="Run ccc end to end against a throwaway local GitHub sandbox.",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="only the smoke scenario: labels, issue, comment, git push, pull request"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ccc.smoke import run_smoke

    result = run_smoke(say=(lambda _line: None) if args.json else print)
    if args.json:
        print(json.dumps(result))
    return 0
