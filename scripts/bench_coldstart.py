"""Cold start (not a test): wall time of `ccc worker run --once` on an idle queue, process start to exit.

Each run is a fresh Python process polling an empty queue on one sandbox; the median of several runs
is reported, as a scheduled runner pays it on every poll.

    .venv/bin/python scripts/bench_coldstart.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ccc.sandbox.process import SandboxProcess

BOT = "github-actions[bot]"


def once(box: SandboxProcess, workdir: Path) -> float:
    command = [
        sys.executable, "-m", "ccc", "worker", "run", "--once", "--worker", "cc01", "--repo", box.repo,
        "--api-url", box.api_url, "--git-url", box.git_url, "--workdir", str(workdir), "--command", "true", "--json",
    ]  # fmt: skip
    env = {**os.environ, "GITHUB_TOKEN": box.token(BOT)}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or json.loads(done.stdout)["status"] != "idle":
        raise RuntimeError(f"cold start run failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def run(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess.start(Path(tmp) / "sandbox") as box:
        once(box, Path(tmp) / "warm-up")  # the first run also fills the OS's file cache: not counted
        samples = [once(box, Path(tmp) / f"run-{i}") for i in range(runs)]
    return {
        "runs": runs,
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(run(args.runs), indent=2))


if __name__ == "__main__":
    main()
