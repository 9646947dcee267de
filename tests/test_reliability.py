"""Reliability under faults, crashes, restarts and an exhausted rate limit: whole runs of manager and worker processes.

Covered elsewhere and not repeated here: 16 workers racing over 200 issues under 502s and commit-then-fail
(test_worker_race), a killed worker taken over and a stalled one fenced (test_worker_fleet), 1,000 tasks
synced exactly once under failing creates and a sync killed halfway (test_manager_sync).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ccc.protocol.claims import ClaimKind
from ccc.sandbox.process import SandboxProcess
from test_worker_race import QUICK_AGENT
from worker_support import claims, client, comments_of, create_issues, github, labels_of, wait_for, worker_process

DONE_LABELS = {"cc01", "completed", "ready-for-review"}
SLOW_AGENT = f"sleep 0.5; {QUICK_AGENT}"
ONE_SECOND_LEASE = ("--lease-minutes", str(1 / 60))
WRITES = ["POST", "PATCH", "PUT", "DELETE"]
FAULT_MIX = [
    {"kind": "status", "status": 502, "rate": 0.05},
    {"kind": "status", "status": 503, "rate": 0.05},
    {"kind": "reset", "rate": 0.03},
    {"kind": "latency", "ms": 20, "rate": 0.2},
    {"kind": "secondary_limit", "rate": 0.02, "retry_after": 1, "methods": WRITES},
    {"kind": "too_many_requests", "rate": 0.02, "retry_after": 1},
    {"kind": "commit_then_fail", "rate": 0.05, "methods": ["POST", "PATCH"]},
    {"kind": "stale_reads", "rate": 0.3, "seconds": 1},
]
STALE_READS = {"kind": "stale_reads", "rate": 1.0, "seconds": 1}


def manager(sandbox, root: Path, command: str) -> subprocess.CompletedProcess:
    """`ccc manager COMMAND --json` as its own process, as the manager action runs it."""
    argv = [
        sys.executable, "-m", "ccc", "manager", command, "--repo", sandbox.repo, "--api-url", sandbox.api_url,
        "--manager-login", "maintainer", "--max-writes-per-minute", "0", "--json",
        *(["--root", str(root)] if command in ("plan", "sync") else []),  # only they read manifests
    ]  # fmt: skip
    env = {**os.environ, "GITHUB_TOKEN": sandbox.token("maintainer")}
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_REPOSITORY", "GITHUB_API_URL"):
        env.pop(name, None)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def write_manifest(root: Path, count: int) -> Path:
    tasks = [{"id": f"t{i}", "title": f"Task {i}", "body": f"Do {i}", "worker": "cc01"} for i in range(count)]
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}, sort_keys=False))
    return root


def task_issues(sandbox) -> list[int]:
    """Numbers of the issues the manager made for tasks (the dashboard issue has no worker label)."""
    repo = github(sandbox).get_repo(sandbox.repo)
    return sorted(i.number for i in repo.get_issues(state="all", labels=["cc01"]))


def workers(sandbox, tmp_path: Path, count: int, *flags: str, prefix: str = "w") -> list[dict]:
    """Run `count` looping worker processes until they are idle; their JSON results."""
    loop = ("--loop", "--interval", "0.3", "--max-idle-polls", "5", "--max-attempts", "10")
    procs = [worker_process(sandbox, tmp_path, f"{prefix}{i}", *loop, *flags) for i in range(count)]
    outputs = [p.communicate(timeout=240) for p in procs]
    return [json.loads(out) if out else {"error": err[-2000:]} for out, err in outputs]


def assert_each_delivered_once(sandbox, numbers: list[int]) -> None:
    """One PR and one completion comment per task, all labelled done, none in progress, one first claim each."""
    repo = github(sandbox).get_repo(sandbox.repo)
    closes = sorted(int(p.body.split()[1].lstrip("#")) for p in repo.get_pulls(state="all"))
    assert closes == numbers
    store = claims(sandbox)
    for number in numbers:
        labels = labels_of(repo, number)
        assert labels >= DONE_LABELS and "in-progress" not in labels, (number, labels)
        assert sum(body.startswith("Task completed!") for body in comments_of(repo, number)) == 1, number
        log = store.history(number)
        assert [r.kind for r in log].count(ClaimKind.CLAIM) == 1 and log[-1].kind is ClaimKind.COMPLETE, number


def test_a_full_run_under_a_fault_mix_completes_every_task_exactly_once(tmp_path):
    with SandboxProcess.start(
        tmp_path / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "1000000"]
    ) as box:
        root = write_manifest(tmp_path / "repo", 8)
        box.faults(FAULT_MIX, seed=11)
        synced = manager(box, root, "sync")
        assert synced.returncode == 0, synced.stderr[-2000:]
        results = workers(box, tmp_path, 3, "--command", QUICK_AGENT, "--lease-minutes", "0.1")
        summary = manager(box, root, "summarize")
        applied = {rule["kind"] for rule in box.control("GET", "faults")["rules"] if rule["applied"]}
        box.clear_faults()

        assert summary.returncode == 0, summary.stderr[-2000:]
        assert json.loads(summary.stdout)["counts"]["completed"] == 8
        numbers = task_issues(box)
        assert len(numbers) == 8, results  # no task's issue was created twice
        assert_each_delivered_once(box, numbers)
        assert applied >= {"status", "reset", "latency", "commit_then_fail", "stale_reads"}


def severed(sandbox) -> bool:
    return any(rule["applied"] for rule in sandbox.control("GET", "faults")["rules"])


@pytest.mark.parametrize("after_writes", range(10))
def test_a_worker_cut_off_after_any_write_leaves_every_task_delivered_once(sandbox, tmp_path, after_writes):
    """GitHub vanishes right after the worker's Nth write (claim, labels, comments, PR, completion), and the
    worker is killed there: a deterministic crash point for each N, where a random sleep used to decide."""
    numbers = create_issues(sandbox, 1 + after_writes % 2)
    sandbox.faults([{"kind": "sever", "after_writes": after_writes}])
    doomed = worker_process(sandbox, tmp_path, "doomed", "--command", SLOW_AGENT, "--loop", "--max-idle-polls", "1",
                            *ONE_SECOND_LEASE)  # fmt: skip
    wait_for(lambda: severed(sandbox) or doomed.poll() is not None)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    sandbox.clear_faults()

    (result,) = workers(sandbox, tmp_path, 1, "--command", SLOW_AGENT, *ONE_SECOND_LEASE, prefix="successor")
    assert result.get("status") in ("delivered", "idle"), result
    assert_each_delivered_once(sandbox, numbers)


def test_a_sandbox_restart_mid_run_loses_nothing(sandbox, tmp_path):
    numbers = create_issues(sandbox, 4)
    repo = github(sandbox).get_repo(sandbox.repo)
    proc = worker_process(sandbox, tmp_path, "w", "--command", SLOW_AGENT, "--loop", "--interval", "0.3",
                          "--max-idle-polls", "5", "--max-attempts", "10", "--lease-minutes", "0.1")  # fmt: skip
    wait_for(lambda: "completed" in labels_of(repo, numbers[0]))
    sandbox.restart()
    out, err = proc.communicate(timeout=240)
    assert json.loads(out)["tasks"], err[-2000:]
    assert_each_delivered_once(sandbox, numbers)


def raise_rate_limit(box: SandboxProcess, limit: int) -> None:
    """Restart with a larger hourly budget: what the hour's reset does, without waiting an hour."""
    box.args[box.args.index("--rate-limit") + 1] = str(limit)
    box.restart()


def test_an_exhausted_rate_limit_stops_the_manager_with_the_reset_time_and_a_rerun_resumes(tmp_path):
    with SandboxProcess.start(tmp_path / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "20"]) as box:
        root = write_manifest(tmp_path / "repo", 30)
        stopped = manager(box, root, "sync")
        assert stopped.returncode == 3
        assert "rate limit is exhausted; it resets at" in stopped.stderr

        raise_rate_limit(box, 1000)
        resumed = manager(box, root, "sync")
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert len(task_issues(box)) == 30


def test_an_exhausted_rate_limit_stops_workers_with_the_reset_time_and_they_resume_without_loss(tmp_path):
    with SandboxProcess.start(tmp_path / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "30"]) as box:
        numbers = create_issues(box, 3)
        (stopped,) = workers(box, tmp_path, 1, "--command", QUICK_AGENT, *ONE_SECOND_LEASE, prefix="first")
        assert stopped["status"] == "rate-limited" and stopped["reset_at"] > time.time()
        assert "it resets at" in stopped["message"]

        raise_rate_limit(box, 1000)
        workers(box, tmp_path, 1, "--command", QUICK_AGENT, *ONE_SECOND_LEASE, prefix="later")
        assert_each_delivered_once(box, numbers)


def test_an_ambiguous_comment_create_read_back_through_a_stale_listing_posts_it_once(sandbox):
    (number,) = create_issues(sandbox, 1)
    # The comment is stored but its answer is a 502; the listing that should show it is a second old.
    sandbox.faults([{"kind": "commit_then_fail", "count": 1, "methods": ["POST"]}, STALE_READS])
    # The read-back must really wait for the listing to catch up.
    client(sandbox, sleep=time.sleep).create_comment(number, "Task completed! <!-- m -->", marker="<!-- m -->")
    sandbox.clear_faults()
    assert len(comments_of(github(sandbox).get_repo(sandbox.repo), number)) == 1
