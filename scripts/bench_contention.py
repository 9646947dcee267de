"""Contention benchmark (not a test): N `ccc worker run` processes over one label's tasks, beside the naive baseline.

ccc: every worker is its own `ccc worker run --loop` process sharing the bot's token, as runners of one
repository do; each task's agent sleeps TASK_SECONDS. Reported: makespan against the ideal
(tasks x task time / workers), claims lost to races and the requests they cost, double claims (claim logs
with more than one first claim, or tasks delivered twice).

Baseline: the original design's labels-only protocol (list -> add in-progress -> comment; no lock), run
as N threads over the same number of tasks, counting issues that more than one worker claimed.

Simulated time: the same N workers over the real protocol (listing, claim refs, labels, completion on the
sandbox, each request charged REQUEST_SECONDS and each task TASK_SECONDS of virtual time), stepped as
discrete events in one process. Workers free at the same virtual instant share one listing, as workers
polling at once do. Its makespan does not depend on how many processes share this machine; it is run
with the workers' first choices spread (rendezvous order) and without (oldest first, the convoy).

    .venv/bin/python scripts/bench_contention.py [--tasks 100] [--workers 4,16,32] [--simulated-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import heapq  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from ccc.protocol.claims import ClaimKind, ClaimStore  # noqa: E402
from ccc.protocol.states import Labels  # noqa: E402
from ccc.sandbox.process import SandboxProcess  # noqa: E402
from ccc.worker.queue import Trust, WorkQueue  # noqa: E402
from worker_support import BOT, claims, client, create_issues, github, worker_process  # noqa: E402

TASK_SECONDS = 1.0
REQUEST_SECONDS = 0.05  # virtual time one request takes in the simulation
AGENT = f'sleep {TASK_SECONDS}; echo "done $CCC_ISSUE_NUMBER" > "done-$CCC_ISSUE_NUMBER.txt"'
# A lost claim costs: the claim commit, the refused ref create, and reading the winner's ref and commit.
REQUESTS_PER_LOST_CLAIM = 4
LOST_CLAIM_LOG = "taken by another"


def sandbox(scratch: Path) -> SandboxProcess:
    # One shared token for every worker: GitHub's hourly budget would not last the run, so it is lifted.
    return SandboxProcess.start(scratch / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "10000000"])


def run_ccc(tasks: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, sandbox(Path(tmp)) as box:
        numbers = create_issues(box, tasks)
        flags = ("--command", AGENT, "--loop", "--interval", "0.5", "--max-idle-polls", "3",
                 "--lease-minutes", "1", "--max-attempts", "10")  # fmt: skip
        started = time.perf_counter()
        procs = [worker_process(box, Path(tmp), f"w{i:02d}", *flags) for i in range(workers)]
        outputs = [p.communicate(timeout=1800) for p in procs]
        makespan = time.perf_counter() - started
        results = [json.loads(out) for out, _ in outputs]
        delivered = Counter(t["issue"] for r in results for t in r["tasks"] if t["status"] == "delivered")
        store = claims(box)
        first_claims = [[r.kind for r in store.history(n)].count(ClaimKind.CLAIM) for n in numbers]
        lost = sum(err.count(LOST_CLAIM_LOG) for _, err in outputs)
        return {
            "protocol": "ccc",
            "workers": workers,
            "tasks": tasks,
            "completed": len(delivered),
            "double_claims": sum(c > 1 for c in first_claims) + sum(n > 1 for n in delivered.values()),
            "lost_claims": lost,
            "requests_lost_to_races": lost * REQUESTS_PER_LOST_CLAIM,
            "requests": sum(r["requests"]["total"] for r in results),
            **timing(makespan, tasks, workers),
        }


def timing(makespan: float, tasks: int, workers: int) -> dict:
    ideal = tasks * TASK_SECONDS / workers
    return {"makespan_s": round(makespan, 1), "ideal_s": round(ideal, 1), "ratio": round(makespan / ideal, 2)}


def naive_worker(repo, name: str, claimed: Counter, lock: threading.Lock) -> None:
    """The original design: take the first listed issue without in-progress, label it, say so; no lock."""
    while True:
        free = [i for i in repo.get_issues(state="open", labels=["cc01"]) if not _has(i, "in-progress")]
        if not free:
            return
        issue = free[0]
        issue.add_to_labels("in-progress")
        issue.create_comment(f"Claimed by {name}")
        with lock:
            claimed[issue.number] += 1
        time.sleep(TASK_SECONDS)
        issue.create_comment(f"Task completed by {name}")
        issue.edit(state="closed", labels=["cc01", "completed"])


def _has(issue, label: str) -> bool:
    return any(item.name == label for item in issue.labels)


def run_naive(tasks: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, sandbox(Path(tmp)) as box:
        create_issues(box, tasks)
        box.reset_stats()
        claimed: Counter = Counter()
        lock = threading.Lock()
        repos = [github(box, "github-actions[bot]").get_repo(box.repo) for _ in range(workers)]
        started = time.perf_counter()
        threads = [
            threading.Thread(target=naive_worker, args=(repo, f"w{i:02d}", claimed, lock))
            for i, repo in enumerate(repos)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        makespan = time.perf_counter() - started
        return {
            "protocol": "naive labels-only",
            "workers": workers,
            "tasks": tasks,
            "completed": len(claimed),
            "double_claims": sum(n > 1 for n in claimed.values()),
            "lost_claims": sum(n - 1 for n in claimed.values()),
            "requests_lost_to_races": None,
            "requests": box.stats()["total"],
            **timing(makespan, tasks, workers),
        }


class VirtualClock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.seconds)


def simulate(tasks: int, workers: int, *, spread: bool) -> dict:
    """N workers over the real claim protocol in virtual time (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp, sandbox(Path(tmp)) as box:
        create_issues(box, tasks)
        clock = VirtualClock()
        repo_client = client(box, BOT)
        store = ClaimStore(repo_client, clock=clock.now, max_attempts=10)
        trust = Trust(repo_client, ("maintainer",))
        queues = [
            WorkQueue(repo_client, served=("cc01",), labels=Labels(), trust=trust, spread=f"w{i}" if spread else None)
            for i in range(workers)
        ]
        free = [(0.0, i) for i in range(workers)]  # (virtual time the worker is free, worker)
        lost = done = 0
        while free:
            clock.seconds, _ = free[0]
            batch = [heapq.heappop(free)[1] for _ in range(len(free)) if free and free[0][0] == clock.seconds]
            listing = queues[0].listing()  # one listing for everyone polling at this instant
            for index in batch:
                before = repo_client.counter.total
                outcome = take_one(queues[index], listing, store, f"w{index:02d}")
                spent = (repo_client.counter.total - before) * REQUEST_SECONDS
                lost += outcome["lost"]
                if outcome["claim"] is not None:
                    finish(repo_client, store, outcome["claim"])
                    done += 1
                    heapq.heappush(free, (clock.seconds + spent + TASK_SECONDS, index))
        return {
            "protocol": f"ccc, simulated time, {'spread' if spread else 'oldest first'}",
            "workers": workers,
            "tasks": tasks,
            "completed": done,
            "double_claims": 0,
            "lost_claims": lost,
            "requests_lost_to_races": lost * REQUESTS_PER_LOST_CLAIM,
            "requests": repo_client.counter.total,
            **timing(clock.seconds, tasks, workers),
        }


def take_one(queue: WorkQueue, listing: list, store: ClaimStore, worker: str) -> dict:
    """The worker's poll over a shared listing: claim its first choice it can get; count the ones lost."""
    ready, _ = queue.split(listing)
    lost = 0
    for issue in ready:
        claim = store.claim(issue.number, worker=worker, run_id="", run_url="", lease=timedelta(minutes=10))
        if claim is not None:
            queue.client.add_labels(issue.number, ["in-progress"])
            return {"claim": claim, "lost": lost}
        lost += 1
    return {"claim": None, "lost": lost}


def finish(repo_client, store: ClaimStore, claim) -> None:
    """Completion as the worker records it: the final claim commit, then the issue's labels and state."""
    store.complete(claim, pr_url="")
    repo_client.update_issue(claim.issue, state="closed", labels=["cc01", "completed"])


def run(tasks: int, workers: list[int], *, real_workers: list[int] | None = None) -> list[dict]:
    """Simulated rows for every worker count; real-process rows for `real_workers` (default: all)."""
    rows = []
    for n in workers:
        rows += [simulate(tasks, n, spread=True), simulate(tasks, n, spread=False)]
        if real_workers is None or n in real_workers:
            rows += [run_ccc(tasks, n), run_naive(tasks, n)]
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| Protocol | Workers | Tasks | Completed | Makespan (s) | Ideal (s) | Ratio | Lost claims "
        "| Requests lost to races | Double claims | Requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lost_requests = "-" if r["requests_lost_to_races"] is None else r["requests_lost_to_races"]
        lines.append(
            f"| {r['protocol']} | {r['workers']} | {r['tasks']} | {r['completed']} | {r['makespan_s']} "
            f"| {r['ideal_s']} | {r['ratio']} | {r['lost_claims']} | {lost_requests} | {r['double_claims']} "
            f"| {r['requests']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--workers", default="4,16,32", help="comma-separated worker counts")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--simulated-only", action="store_true", help="only the simulated-time rows")
    args = parser.parse_args()
    rows = run(args.tasks, [int(n) for n in args.workers.split(",")], real_workers=[] if args.simulated_only else None)
    print(json.dumps(rows, indent=2) if args.json else table(rows))


if __name__ == "__main__":
    main()
