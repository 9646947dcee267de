"""The `ccc` command line: one subcommand module per use case, each only parsing settings."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ccc import __version__
from ccc.actions_io import annotate
from ccc.errors import CccError

# Each module defines `register(subparsers)`, which adds its parser and sets `run=callable(args)`.
COMMAND_MODULES = ("sandbox", "validate", "manager", "worker", "demo", "status")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv` naming a command, only that command's module is imported (fast start-up:
    `ccc sandbox serve` must not pay for PyGithub's import)."""
    parser = argparse.ArgumentParser(
        prog="ccc",
        description="A manager and coding-agent workers cooperating through GitHub issues and PRs.",
        epilog="Exit codes: 0 ok, 1 a task or operation failed, 2 bad input, 3 GitHub error.",
    )
    parser.add_argument("--version", action="version", version=f"ccc {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = [arg for arg in (argv or []) if arg in COMMAND_MODULES][:1]
    for name in named or COMMAND_MODULES:
        importlib.import_module(f"ccc.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.run(args) or 0)
    except CccError as exc:
        # Errors that carry several located problems (manifests) annotate each one in place.
        level = "notice" if exc.exit_code == 0 else "error"  # a run that stopped at its budget did not fail
        for problem in getattr(exc, "problems", None) or [exc]:
            annotate(level, problem.message, file=problem.file, line=problem.line, col=problem.col)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
