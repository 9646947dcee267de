"""A scripted stand-in for a coding agent, driven by flags, for worker tests.

By default it appends a line to the file the prompt names (`target: PATH`, else `done-<issue>.txt`)
and reports two progress lines. Flags make it sleep, fail, change nothing or print its environment.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to work (sleeping) before writing")
    parser.add_argument("--exit", type=int, default=0, help="exit status")
    parser.add_argument("--no-change", action="store_true", help="touch no file")
    parser.add_argument("--dump-env", action="store_true", help="print the environment (secret-leak checks)")
    args = parser.parse_args()

    prompt = Path(os.environ["CCC_PROMPT_FILE"]).read_text(encoding="utf-8")
    progress = Path(os.environ["CCC_PROGRESS_FILE"])
    issue = os.environ["CCC_ISSUE_NUMBER"]
    if args.dump_env:
        for name, value in sorted(os.environ.items()):
            print(f"{name}={value}")
    with progress.open("a", encoding="utf-8") as fh:
        fh.write(f"Read the task for #{issue}\n")
    time.sleep(args.sleep)
    if not args.no_change:
        match = re.search(r"^target: ([\w./-]+)$", prompt, re.MULTILINE)
        target = Path(match.group(1) if match else f"done-{issue}.txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as fh:
            fh.write(f"worked on #{issue}\n")
        with progress.open("a", encoding="utf-8") as fh:
            fh.write(f"Wrote {target}\n")
    print(f"agent finished #{issue} with status {args.exit}")
    return args.exit


if __name__ == "__main__":
    sys.exit(main())
