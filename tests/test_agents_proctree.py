"""Killing an agent's whole process tree, including commands it started in sessions of their own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ccc.agents.proctree import descendants, kill_process_tree


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_file(path: Path) -> str:
    for _ in range(500):  # bounded: 10 s at most, normally a few milliseconds
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")


def test_kills_a_parent_that_ignores_sigterm_and_a_child_in_its_own_session(tmp_path: Path) -> None:
    script = f"setsid sleep 120 & echo $! > {tmp_path}/child; trap '' TERM; sleep 120 & wait"
    parent = subprocess.Popen(["bash", "-c", script], start_new_session=True)
    child = int(wait_for_file(tmp_path / "child"))
    assert child in descendants(parent.pid)

    kill_process_tree(parent, grace_seconds=0.2)

    assert parent.returncode is not None
    assert not alive(child)


def test_a_process_that_already_ended_is_no_error() -> None:
    process = subprocess.Popen(["true"], start_new_session=True)
    process.wait()

    kill_process_tree(process, grace_seconds=0.1)

    assert process.returncode == 0
