"""`python -m ccc.sandbox serve ...` = `ccc sandbox serve ...`, without loading the other commands (faster start)."""

from __future__ import annotations

import argparse
import logging
import sys

from ccc.cli import sandbox


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ccc.sandbox")
    sandbox.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sandbox", *argv])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return args.run(args)


raise SystemExit(main(sys.argv[1:]))
