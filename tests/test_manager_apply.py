"""Our local view of an issue after an edit: label deltas keep labels others set."""

from __future__ import annotations

from datetime import datetime, timezone

from builders import make_issue
from ccc.manager.apply import edited
from ccc.manager.plan import IssueEdit

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_edited_issue_applies_fields_and_label_deltas():
    issue = make_issue(title="old", body="b", labels=("cc01", "blocked", "needs-design"), assignees=("a",))
    edit = IssueEdit(
        title="new",
        add_labels=("cc02",),
        remove_labels=("cc01", "blocked"),
        state="closed",
        state_reason="not_planned",
        assignees=("b",),
    )

    after = edited(issue, edit)

    assert (after.title, after.body, after.state, after.state_reason) == ("new", "b", "closed", "not_planned")
    assert after.labels == ("needs-design", "cc02")
    assert after.assignees == ("a", "b")
    assert edited(issue, IssueEdit()) == issue
