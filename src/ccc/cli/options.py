"""Command-line options several commands share: which repository, which API, which token, whose issues."""

from __future__ import annotations

import argparse
import os


def add_connection_options(parser: argparse.ArgumentParser, *, manager_login_help: str) -> None:
    parser.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    parser.add_argument("--api-url", help="GitHub API root (default: GITHUB_API_URL or https://api.github.com)")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding the token")
    parser.add_argument("--manager-login", default=os.environ.get("CCC_MANAGER_LOGIN") or None, help=manager_login_help)


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """A run's budget (docs/scaling.md): the run stops cleanly when it is spent, naming the flag to raise."""
    parser.add_argument("--max-requests", type=int, default=0, metavar="N", help="requests per run (0: no limit)")
    parser.add_argument(
        "--rate-limit-reserve",
        type=int,
        default=0,
        metavar="N",
        help="units of the hourly rate limit this run never spends (left for the token's other users)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="longest one request waits out rate limits before the run stops with exit 3 (default: 300)",
    )
