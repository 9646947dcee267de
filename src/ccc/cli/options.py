"""Command-line options several commands share: which repository, which API, which token, whose issues."""

from __future__ import annotations

import argparse
import os


def add_connection_options(parser: argparse.ArgumentParser, *, manager_login_help: str) -> None:
    parser.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    parser.add_argument("--api-url", help="GitHub API root (default: GITHUB_API_URL or https://api.github.com)")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding the token")
    parser.add_argument("--manager-login", default=os.environ.get("CCC_MANAGER_LOGIN") or None, help=manager_login_help)
