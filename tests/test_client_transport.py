"""Request accounting and GitHub's clock, as the transport sees every answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ccc.client.transport import ServerClock

NOON = "Fri, 27 Nov 2026 12:00:00 GMT"


def test_githubs_time_comes_from_the_date_of_its_answers_and_moves_on_by_itself():
    clock = ServerClock()
    assert clock.now() is None
    clock.observe(NOON)
    noon = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    assert noon <= clock.now() < noon + timedelta(seconds=5)
    later = clock.now()
    assert clock.now() >= later  # monotonic in between answers


def test_an_answer_within_the_dates_second_keeps_the_estimate_and_time_never_steps_back():
    clock = ServerClock()
    clock.observe(NOON)
    before = clock.now()
    clock.observe(NOON)  # the next answer, within the same whole second
    assert clock.now() >= before


def test_a_date_far_from_the_estimate_resets_it_and_garbage_is_ignored():
    clock = ServerClock()
    clock.observe(NOON)
    clock.observe("not a date")
    clock.observe(None)
    clock.observe("Fri, 27 Nov 2026 11:00:00 GMT")  # GitHub's clock was set back: believe it
    assert clock.now() < datetime(2026, 11, 27, 11, 1, tzinfo=timezone.utc)
