"""`ccc demo`: the whole system on one machine — a sandbox, a manager and worker processes, a live table."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from ccc.demo.faults import PROFILES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run ccc end to end against a local sandbox",
        description="Start a throwaway GitHub sandbox with an example repository, sync its task manifest, "
        "run worker processes with an example agent, show their progress live and print the dashboard. "
        "Exits 1 if any task did not complete.",
    )
    parser.add_argument("--workers", type=int, default=3, metavar="N", help="worker processes cc01..ccNN (default 3)")
    parser.add_argument(
        "--tasks",
        type=int,
        metavar="M",
        help="generate M tasks instead of the example manifest (six tasks, one in two parts)",
    )
    parser.add_argument(
        "--faults",
        choices=tuple(PROFILES),
        default="none",
        help="inject API faults: flaky (502s, latency), chaos (also commit-then-fail and connection resets)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the sandbox running and print its API URL, token and git URL"
    )
    parser.add_argument("--pace", type=float, default=0.3, help="seconds the example agent pauses per step")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    parser.add_argument("--data", type=Path, metavar="DIR", help="keep the sandbox, logs and dashboard here")
    parser.add_argument("--example", type=Path, metavar="DIR", help="the example to use (default: examples/demo)")
    parser.add_argument(
        "--smoke", action="store_true", help="only the smoke scenario: labels, issue, comment, git push, pull request"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON (the run's lines go to stderr)")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.smoke:
        from ccc.demo.smoke import run_smoke

        result = run_smoke(say=(lambda _line: None) if args.json else print)
        if args.json:
            print(json.dumps(result))
        return 0

    from ccc.demo.run import DemoSettings, run_demo

    # Injected faults hit the demo's own view of the queue too; its retries are not news.
    logging.getLogger("ccc.client").setLevel(logging.WARNING)
    options = {"example": args.example} if args.example else {}
    settings = DemoSettings(
        workers=args.workers,
        tasks=args.tasks,
        faults=args.faults,
        keep=args.keep,
        pace=args.pace,
        timeout=args.timeout,
        data_dir=args.data,
        **options,
    )
    result = run_demo(settings, out=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result.to_json()))
    return 0 if result.ok else 1
