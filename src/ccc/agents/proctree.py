"""Stopping an agent with everything it started, including tools it ran in sessions of their own."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

PROC = Path("/proc")


def kill_process_tree(process: subprocess.Popen[bytes], *, grace_seconds: float) -> None:
    """SIGTERM the process's group and every descendant, wait `grace_seconds`, then SIGKILL what is left.

    Claude Code runs each Bash command with setsid, outside its own process group, so signalling the group
    alone would leave a hung command running once the CLI is gone. Descendants are listed before the first
    signal, while their parent links still lead back to the agent.
    """
    victims = descendants(process.pid)
    _signal_all(process.pid, victims, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        pass
    _signal_all(process.pid, victims | descendants(process.pid), signal.SIGKILL)
    process.wait()


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for child, parent in _parent_links():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _parent_links() -> list[tuple[int, int]]:
    links = []
    for entry in PROC.glob("[0-9]*/stat") if PROC.is_dir() else []:
        try:
            # The command name in parentheses may hold spaces; the fields after its closing ")" do not.
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        links.append((int(entry.parent.name), int(fields[1])))
    return links


def _signal_all(leader: int, others: set[int], sig: signal.Signals) -> None:
    for send, target in [(os.killpg, leader)] + [(os.kill, pid) for pid in sorted(others)]:
        try:
            send(target, sig)
        except (ProcessLookupError, PermissionError):
            pass
