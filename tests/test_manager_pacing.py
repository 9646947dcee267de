"""Write pacing: evenly spaced under the per-minute limit, stopped at the hour's and the run's caps, and no
waiting at all when unpaced."""

from __future__ import annotations

import pytest

from ccc.errors import BudgetSpent
from ccc.manager.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_writes_are_spaced_to_stay_under_the_limit():
    clock = FakeClock()
    pacer = Pacer(80, clock=clock, sleep=clock.sleep)

    for _ in range(81):
        pacer.wait()

    assert clock.now - 1000.0 == 60.0  # 81 writes: the 81st waits for the minute to pass
    assert clock.slept == [0.75] * 80


def test_time_spent_elsewhere_counts_towards_the_spacing():
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.4

    pacer.wait()

    assert [round(s, 6) for s in clock.slept] == [0.6]


def test_zero_means_unpaced():
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)

    for _ in range(1000):
        pacer.wait()

    assert clock.slept == []


def test_the_hour_allows_per_hour_writes_then_the_run_stops_saying_when_to_continue():
    clock = FakeClock()
    pacer = Pacer(0, per_hour=500, clock=clock, sleep=clock.sleep)
    for _ in range(500):
        pacer.wait()
    with pytest.raises(BudgetSpent, match="--max-writes-per-hour") as caught:
        pacer.wait()
    assert caught.value.reset_at == 1000.0 + 3600 and pacer.made == 500


def test_writes_of_earlier_runs_in_the_last_hour_count_and_older_ones_do_not():
    clock = FakeClock()
    earlier = [clock.now - 4000.0] * 10 + [clock.now - 600.0] * 3
    pacer = Pacer(0, per_hour=5, earlier=earlier, clock=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.wait()
    with pytest.raises(BudgetSpent) as caught:
        pacer.wait()
    assert caught.value.reset_at == clock.now - 600.0 + 3600


def test_both_caps_hold_together_and_the_hour_frees_up_as_it_slides():
    clock = FakeClock()
    pacer = Pacer(80, per_hour=500, clock=clock, sleep=clock.sleep)
    for _ in range(500):
        pacer.wait()
    assert clock.now - 1000.0 == 499 * 0.75  # 80 a minute all along
    clock.now = 1000.0 + 3600.0  # the first write of the hour has left the window
    pacer.wait()
    assert pacer.made == 501


def test_max_writes_per_run_stops_the_run_and_names_the_setting():
    pacer = Pacer(0, per_run=3)
    for _ in range(3):
        pacer.wait()
    with pytest.raises(BudgetSpent, match="--max-writes-per-run"):
        pacer.wait()
