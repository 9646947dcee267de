"""Request counts of the worker against a local sandbox, printed as a table (a benchmark, not a test).

    .venv/bin/python scripts/bench_worker.py

Budgets from the worker issue: an idle `--once` poll costs 1 request; a full lifecycle from claim to
completed costs at most 12 requests, heartbeats excluded (the lease here outlasts the task, so none
happen). Each scenario runs on a fresh sandbox.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from github import Auth, Github

from ccc.client import RepoClient
from ccc.sandbox.process import SandboxProcess
from ccc.worker.result import WorkerResult
from ccc.worker.run import run
from ccc.worker.settings import WorkerSettings

BOT = "github-actions[bot]"
AGENT = 'echo "done" > "done-$CCC_ISSUE_NUMBER.txt"'
# Made before the claim: the listing, and the author's permission (once per author per run).
BEFORE_CLAIM = ("poll_issues", "permission")


def settings(box: SandboxProcess, workdir: Path, **overrides) -> WorkerSettings:
    values = {
        "worker": "cc01",
        "repo": box.repo,
        "token": box.token(BOT),
        "api_url": box.api_url,
        "git_url": box.git_url,
        "workdir": workdir,
        "command": AGENT,
        "write_pacing": 0,
        "lease": timedelta(minutes=10),
        **overrides,
    }
    return WorkerSettings(**values)


def client(box: SandboxProcess) -> RepoClient:
    return RepoClient(
        token=box.token(BOT),
        repo=box.repo,
        api_url=box.api_url,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def scenario(name: str, *, issues: int = 0, **overrides) -> tuple[str, WorkerResult]:
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess.start(Path(tmp) / "sandbox") as box:
        repo = Github(base_url=box.api_url, auth=Auth.Token(box.token()), seconds_between_writes=None).get_repo(
            box.repo
        )
        for i in range(issues):
            repo.create_issue(title=f"Task {i}", body="do it", labels=["cc01"])
        return name, run(settings(box, Path(tmp) / "work", **overrides), client=client(box))


def lifecycle(result: WorkerResult) -> int:
    return sum(n for op, n in result.requests["by_operation"].items() if op not in BEFORE_CLAIM)


def main() -> int:
    runs = [
        scenario("idle --once poll"),
        scenario("idle --loop, 3 polls (ETag)", loop=True, interval=0, max_idle_polls=3),
        scenario("lifecycle: claim → completed", issues=1),
        scenario("lifecycle with --assignee", issues=1, assignee="maintainer"),
        scenario("lifecycle with --test-command", issues=1, test_command="true"),
    ]
    print(f"{'scenario':34} {'status':10} {'total':>5} {'charged':>7} {'claim→done':>10}  by operation")
    for name, result in runs:
        ops = ", ".join(f"{op} {n}" for op, n in result.requests["by_operation"].items())
        done = lifecycle(result) if result.tasks else "-"
        req = result.requests
        print(f"{name:34} {result.status.value:10} {req['total']:>5} {req['charged']:>7} {done:>10}  {ops}")
    idle, full = runs[0][1], runs[2][1]
    ok = idle.requests["total"] == 1 and lifecycle(full) <= 12
    print(f"\nbudgets: idle --once = 1 request, lifecycle <= 12 requests: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
