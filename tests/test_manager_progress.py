"""Progress of long manager work: a bar with counts and time left on a terminal, periodic lines in logs."""

from __future__ import annotations

import io

from ccc.manager.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_logs_get_one_line_every_interval_with_counts_and_time_left():
    out, clock = io.StringIO(), Clock()
    with Progress("sync", 100, stream=out, terminal=False, every=30, clock=clock) as progress:
        for _ in range(100):
            clock.now += 1.0  # one second per task
            progress.advance()

    assert out.getvalue().splitlines() == [
        "sync: 30/100 (30%) in 30s, about 1m10s left",
        "sync: 60/100 (60%) in 1m00s, about 40s left",
        "sync: 90/100 (90%) in 1m30s, about 10s left",
        "sync: 100/100 (100%) in 1m40s",
    ]


def test_short_work_in_a_log_prints_nothing():
    out = io.StringIO()
    with Progress("sync", 3, stream=out, terminal=False, clock=Clock()) as progress:
        progress.advance(3)
    assert out.getvalue() == ""


def test_a_terminal_gets_a_bar_with_counts():
    out = io.StringIO()
    with Progress("sync", 3, stream=out, terminal=True) as progress:
        for _ in range(3):
            progress.advance()
        progress._bar.refresh()
        drawn = out.getvalue()

    assert "sync" in drawn and "3/3" in drawn and "━" in drawn
