"""Write pacing: evenly spaced under the per-minute limit, and no waiting at all when unpaced."""

from __future__ import annotations

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
