"""The history hidden in the dashboard issue: compact, round-trips, and tells which claims to re-read."""

from __future__ import annotations

from datetime import datetime, timezone

from ccc.manager.history import History, TaskHistory, read_history
from ccc.protocol.states import TaskState

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def test_history_round_trips_through_the_dashboard_body():
    history = History(
        {
            3: TaskHistory(TaskState.COMPLETED, TaskState.COMPLETED, "cc02", 2, 100, 200, 0, "https://x/pull/1"),
            4: TaskHistory(TaskState.READY),
        },
        at=300,
    )

    body = f"## dashboard\n\n{history.render()}\n"

    assert read_history(body) == history
    assert '"4":["r"]' in body  # defaults are left out: 1,000 tasks must fit in one issue body


def test_values_cannot_close_the_hidden_comment():
    history = History({1: TaskHistory(TaskState.FAILED, worker="evil --> <script>")})

    rendered = history.render()

    assert rendered.count("-->") == 1 and rendered.endswith(" -->")
    assert read_history(rendered).tasks[1].worker == "evil --> <script>"


def test_missing_or_garbled_history_reads_as_empty():
    assert read_history(None) == History({})
    assert read_history("<!-- ccc:dashboard-history {not json} -->") == History({})
    assert read_history('<!-- ccc:dashboard-history {"t":{"1":["?"]}} -->') == History({})


def test_claim_is_read_again_only_when_the_state_changed_or_the_lease_ran_out():
    seen_in_progress = TaskHistory(TaskState.IN_PROGRESS, TaskState.IN_PROGRESS, lease=int(NOW.timestamp()) + 60)

    assert not seen_in_progress.needs_claim_read(TaskState.IN_PROGRESS, NOW)
    assert seen_in_progress.needs_claim_read(TaskState.COMPLETED, NOW)
    assert not seen_in_progress.needs_claim_read(TaskState.READY, NOW)  # no claim worth reading
    expired = TaskHistory(TaskState.IN_PROGRESS, TaskState.IN_PROGRESS, lease=int(NOW.timestamp()) - 1)
    assert expired.needs_claim_read(TaskState.IN_PROGRESS, NOW)


def test_compacted_history_keeps_only_the_states_of_finished_tasks():
    running = TaskHistory(TaskState.IN_PROGRESS, TaskState.IN_PROGRESS, "cc01", 1, 10, 0, 99)
    done = TaskHistory(TaskState.COMPLETED, TaskState.COMPLETED, "cc01", 1, 10, 20, 0, "https://x/pull/1")

    compact = History({1: running, 2: done}, at=5).compacted()

    assert compact.tasks == {1: running, 2: TaskHistory(TaskState.COMPLETED, TaskState.COMPLETED)}
    assert compact.at == 5
