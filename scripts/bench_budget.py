"""GitHub's budgets (not a test): idle scheduled polls with the listing cache, a large label's poll after
one change, and a 1,000-task first sync under the 500/hour content-creation cap.

    .venv/bin/python scripts/bench_budget.py [--label-issues 3400] [--sync-tasks 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import bench_worker  # noqa: E402
import yaml  # noqa: E402

from ccc.manager.pacing import Pacer  # noqa: E402
from ccc.manager.settings import ManagerSettings  # noqa: E402
from ccc.manager.sync import read_inventory, recent_creations, sync  # noqa: E402
from ccc.manifest import load_manifests  # noqa: E402
from ccc.sandbox.process import SandboxProcess  # noqa: E402
from ccc.worker.run import run as run_worker  # noqa: E402
from conftest import repo_client  # noqa: E402
from worker_support import BOT, client, github  # noqa: E402

CRON_RUNS = 4
WRITES_PER_HOUR = 500


def idle_cron_polls() -> dict:
    """Charged units of each `--once` poll of an idle queue, the listing cache kept on disk between runs."""
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess.start(Path(tmp) / "sandbox") as box:
        once = bench_worker.settings(box, Path(tmp) / "work", cache_dir=Path(tmp) / "cache")
        charged = [run_worker(once, client=bench_worker.client(box)).requests["charged"] for _ in range(CRON_RUNS)]
    return {"runs": CRON_RUNS, "charged_per_run": charged}


def large_label_poll(issues: int) -> dict:
    """Requests of a poll after one issue of a large label changed (the view from the previous poll kept)."""
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess.start(Path(tmp) / "sandbox") as box:
        repo = github(box).get_repo(box.repo)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: repo.create_issue(title=f"Task {i}", labels=["cc01"]), range(issues)))
        time.sleep(6)  # the label's issues older than the listing's lag slack, as they are in real use
        poller = client(box, BOT)
        view = poller.poll_label("cc01", None)
        full = poller.counter.total
        repo.get_issue(1).edit(title="changed")
        before = poller.counter.total
        poller.poll_label("cc01", view)
        changed = poller.counter.total - before
    return {"issues": issues, "full_listing_requests": full, "requests_after_one_change": changed}


class HourClock:
    """Virtual time for the pacer: its sleeps (80 writes a minute) and the waits between runs cost nothing."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def capped_first_sync(tasks: int) -> dict:
    """Scheduled syncs of a new manifest under both caps (80/minute, 500/hour) in virtual time, each run
    starting when the last one said it could continue."""
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess.start(Path(tmp) / "sandbox") as box:
        root = Path(tmp) / "repo"
        path = root / ".github/ccc/tasks.yml"
        path.parent.mkdir(parents=True)
        rows = [{"id": f"t{i:04d}", "title": f"Task {i}", "body": f"Do {i}", "worker": "cc01"} for i in range(tasks)]
        path.write_text(yaml.safe_dump({"version": 1, "tasks": rows}, sort_keys=False))
        settings = ManagerSettings(root=root, manager_login="maintainer")
        clock, runs, requests = HourClock(), [], 0
        started = clock.now
        while True:
            manager = repo_client(box)
            earlier = recent_creations(read_inventory(repo_client(box), settings), now=clock.now)
            pacer = Pacer(80, per_hour=WRITES_PER_HOUR, earlier=earlier, clock=clock, sleep=clock.sleep)
            result = sync(manager, load_manifests(root), settings, pacer=pacer)
            requests += manager.counter.total
            runs.append({"created": result.plan.count("create"), "requests": manager.counter.total})
            if result.stopped is None:
                break
            clock.now = max(clock.now, result.stopped.resume_at or clock.now)  # the next run, when it may
    return {
        "tasks": tasks,
        "runs": len(runs),
        "resumptions": len(runs) - 1,
        "requests": requests,
        "created_per_run": [run["created"] for run in runs],
        "virtual_hours": round((clock.now - started) / 3600, 2),
    }


def run(label_issues: int, sync_tasks: int) -> dict:
    return {
        "idle_cron": idle_cron_polls(),
        "large_label": large_label_poll(label_issues),
        "capped_sync": capped_first_sync(sync_tasks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label-issues", type=int, default=3400)
    parser.add_argument("--sync-tasks", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.label_issues, args.sync_tasks), indent=2))


if __name__ == "__main__":
    main()
