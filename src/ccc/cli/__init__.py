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
COMMAND_MODULES = ("sandbox", "validate", "doctor", "manager", "worker", "demo", "status")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv` naming a command, only that command's module is imported (fast start-up:
    `ccc sandbox serve` must not pay for PyGithub's import)."""
    parser = argparse.ArgumentParser(
        prog="ccc",
        description="A manager and coding-agent workers cooperating through GitHub issues and PRs.",
        epilog="Exit codes: 0 ok, 1 a task, operation or check failed, 2 bad input, "
        "3 GitHub refused or could not be reached.",
    )
    parser.add_argument("--version", action="version", version=f"ccc {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: ccc's debug lines; -vv: every HTTP request too"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = [arg for arg in (argv or []) if arg in COMMAND_MODULES][:1]
    for name in named or COMMAND_MODULES:
        importlib.import_module(f"ccc.cli.{name}").register(subparsers)
    return parser


class OncePerMessage(logging.Filter):
    """Each warning once: a daemon that meets the same problem every poll says so the first time."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def configure_logging(verbosity: int) -> None:
    """Timestamped lines on stderr: ccc's info by default, its debug with -v, HTTP (urllib3, PyGithub) with -vv."""
    handler = logging.StreamHandler(sys.stderr)
    detail = " %(name)s" if verbosity else ""
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s{detail}: %(message)s", "%H:%M:%S"))
    handler.addFilter(OncePerMessage())
    # As logging.basicConfig: a host that set up logging already (a test runner) keeps its handlers.
    logging.basicConfig(level=logging.DEBUG if verbosity >= 2 else logging.WARNING, handlers=[handler])
    logging.getLogger("ccc").setLevel(logging.DEBUG if verbosity else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    configure_logging(args.verbose)
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
