"""The stall suite: a worker frozen (SIGSTOP) at each publish step, taken over, delivered, then woken.

The frozen worker stops itself at the named step (`CCC_TEST_STOP_AT`, ccc.worker.fence.checkpoint),
so each trial freezes at an exact point whatever the machine's speed. Every trial must end with
exactly one open PR, holding the successor's work; labels that agree with the claim log; and
nothing new from the woken worker but the closing of its own PR when it had opened one.
"""

from __future__ import annotations

import json
import random
import signal
from pathlib import Path

import pytest

from ccc.protocol.claims import ClaimKind
from ccc.worker.fence import STOP_AT_ENV
from worker_support import (
    branches,
    claims,
    comments_of,
    create_issues,
    github,
    labels_of,
    show_file,
    wait_for,
    worker_process,
)

STEPS = ("before-push", "after-push", "before-pr", "before-completion")
TRIALS = 10


def stopped(pid: int) -> bool:
    """The process is stopped by a signal (state T in /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "T"


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_worker_frozen_at_a_publish_step_publishes_nothing_after_a_takeover(sandbox, tmp_path, trial):
    step, rng = STEPS[trial % len(STEPS)], random.Random(trial)
    (number,) = create_issues(sandbox, 1)
    repo = github(sandbox).get_repo(sandbox.repo)
    lease = ("--lease-minutes", str(rng.uniform(1.5, 3) / 60))
    frozen = worker_process(sandbox, tmp_path, "frozen", "--command", "echo frozen > out.txt", *lease,
                            env={STOP_AT_ENV: step})  # fmt: skip
    wait_for(lambda: stopped(frozen.pid) or frozen.poll() is not None)
    assert frozen.poll() is None, frozen.communicate()[1][-2000:]
    comments_before = len(comments_of(repo, number))

    successor = worker_process(sandbox, tmp_path, "successor", "--command", "echo successor > out.txt", "--loop",
                               "--interval", str(rng.uniform(0.2, 0.5)), "--max-tasks", "1", *lease)  # fmt: skip
    out, err = successor.communicate(timeout=120)
    assert json.loads(out)["status"] == "delivered", err[-2000:]
    frozen.send_signal(signal.SIGCONT)
    out, err = frozen.communicate(timeout=60)
    woken = json.loads(out)

    assert woken["status"] == "lease-lost", err[-2000:]
    log = claims(sandbox).history(number)
    assert log[-1].kind is ClaimKind.COMPLETE and log[-1].run_id == "successor"
    assert all(r.run_id == "successor" for r in log[log.index(next(r for r in log if r.kind is ClaimKind.TAKEOVER)) :])
    pulls = list(repo.get_pulls(state="all"))
    open_pulls = [p for p in pulls if p.state == "open"]
    assert len(open_pulls) == 1 and open_pulls[0].html_url == log[-1].pr
    head = open_pulls[0].head.ref
    assert head.endswith("-attempt-2") and show_file(sandbox, head, "out.txt") == "successor\n"
    assert labels_of(repo, number) == {"cc01", "completed", "ready-for-review"}
    assert len(comments_of(repo, number)) == comments_before + 2  # the successor's claim and done comments
    closed = [p for p in pulls if p.state == "closed"]
    if step == "before-completion":  # it had opened its PR before freezing: it closes it, saying why
        assert len(closed) == 1 and "lost its claim" in list(closed[0].get_issue_comments())[0].body
    else:
        assert closed == []
    frozen_branch = head.removesuffix("-attempt-2")
    assert (frozen_branch in branches(sandbox)) == (step != "before-push")
