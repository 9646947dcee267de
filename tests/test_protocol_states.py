"""Task states and their label transitions (which state an issue is in: test_protocol_lifecycle)."""

from __future__ import annotations

from ccc.protocol.states import Labels, Priority, TaskState


def test_transition_removes_sibling_state_labels_and_adds_the_new_one():
    add, remove = Labels().transition(("cc02", "backend", "in-progress"), TaskState.COMPLETED)
    assert add == ["completed", "ready-for-review"] and remove == ["in-progress"]


def test_transition_twice_changes_nothing():
    assert Labels().transition(("cc02", "completed", "ready-for-review"), TaskState.COMPLETED) == ([], [])


def test_transition_to_ready_only_removes():
    assert Labels().transition(("in-progress", "blocked"), TaskState.READY) == ([], ["in-progress", "blocked"])


def test_label_names_are_configurable():
    labels = Labels().with_overrides(in_progress="wip", completed="")
    assert labels.in_progress == "wip" and labels.completed == "completed"
    assert labels.transition(("wip",), TaskState.READY) == ([], ["wip"])


def test_priority_comes_from_labels_and_ranks_high_first():
    labels = Labels()
    assert labels.priority_of(("priority-high",)) is Priority.HIGH
    assert labels.priority_of(()) is Priority.NORMAL
    assert sorted([Priority.LOW, Priority.HIGH, Priority.NORMAL], key=lambda p: p.rank) == [
        Priority.HIGH,
        Priority.NORMAL,
        Priority.LOW,
    ]


def test_label_specs_have_hex_colours_and_fit_githubs_limits():
    for spec in Labels().specs():
        assert len(spec.color) == 6 and int(spec.color, 16) >= 0
        assert len(spec.name) <= 50 and len(spec.description) <= 100
