"""The skew suite: workers whose system clock is 10 minutes fast or slow race real-clock workers.

The clock is shifted for the whole process by an LD_PRELOAD shim (tools/clockshift, built by
`make build/clockshift.so`) that moves only the wall clock, so sleeps and waits keep working. Leases
are stamped and judged by GitHub's time (the `Date` of its answers): no live lease is taken over, so
no worker loses one and no claim log shows a takeover.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccc.protocol.claims import ClaimKind
from ccc.sandbox.process import SandboxProcess
from worker_support import claims, create_issues, github, worker_process

ROOT = Path(__file__).resolve().parent.parent
SHIM = ROOT / "build" / "clockshift.so"
SHIFTS = (600, -600, 0, 600, -600, 0)  # seconds: fast, slow and true clocks, two of each
ISSUES = 8


@pytest.fixture(scope="module")
def shim() -> Path:
    subprocess.run(["make", "-s", "build/clockshift.so"], cwd=ROOT, check=True)
    return SHIM


def shifted(shim: Path, seconds: int) -> dict[str, str]:
    return {"LD_PRELOAD": str(shim), "CCC_CLOCK_SHIFT_SECONDS": str(seconds)} if seconds else {}


def test_the_shim_moves_the_wall_clock_and_leaves_sleeps_alone(shim):
    probe = "import time; t, m = time.time(), time.monotonic(); time.sleep(0.1); print(t, time.monotonic() - m)"
    out = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **shifted(shim, 600)}, capture_output=True, text=True
    ).stdout
    wall, slept = map(float, out.split())
    assert 590 < wall - time.time() < 610 and 0.1 <= slept < 5


def test_workers_with_clocks_ten_minutes_off_never_take_over_a_live_lease(shim, tmp_path):
    with SandboxProcess.start(
        tmp_path / "sandbox", repos=["acme/widgets"], extra_args=["--rate-limit", "1000000"]
    ) as box:
        numbers = create_issues(box, ISSUES)
        flags = ("--command", "sleep 2; echo done > done.txt", "--loop", "--interval", "0.3",
                 "--max-idle-polls", "3", "--max-tasks", "0", "--lease-minutes", str(6 / 60))  # fmt: skip
        procs = [
            worker_process(box, tmp_path, f"w{i}-{shift:+d}", *flags, env=shifted(shim, shift))
            for i, shift in enumerate(SHIFTS)
        ]
        outputs = [p.communicate(timeout=240) for p in procs]
        results = [json.loads(out) for out, _ in outputs]

        tasks = [(r["worker"], t["issue"], t["status"]) for r in results for t in r["tasks"]]
        assert sorted(issue for _, issue, status in tasks if status == "delivered") == numbers, tasks
        assert [t for t in tasks if t[2] != "delivered"] == []  # no lease lost, none stolen
        store = claims(box)
        runs = set()
        for number in numbers:
            log = store.history(number)
            assert [r.kind for r in log if r.kind is ClaimKind.TAKEOVER] == [], log
            runs.add(log[0].run_id)
        assert any(run.endswith("+600") for run in runs) and any(run.endswith("-600") for run in runs)
        pulls = list(github(box).get_repo(box.repo).get_pulls(state="all"))
        assert len(pulls) == ISSUES and all(p.state == "open" for p in pulls)
