"""LabelView: merging changes into a label's cached open issues, and saving it faithfully."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ccc.client.listing import LabelView


def raw(number: int, updated: str, *, state: str = "open", labels=("cc01",), pull: bool = False) -> dict:
    data = {
        "number": number, "id": number, "title": f"t{number}", "body": "b", "state": state,
        "labels": [{"name": name, "color": "fff"} for name in labels], "user": {"login": "m", "type": "User"},
        "created_at": "2026-01-01T00:00:00Z", "updated_at": updated, "reactions": {"+1": 0},
    }  # fmt: skip
    return {**data, "pull_request": {}} if pull else data


def test_changes_keep_open_labelled_issues_and_drop_the_rest():
    view = LabelView.listed("cc01", '"e1"', [raw(1, "2026-01-01T10:00:00Z"), raw(2, "2026-01-01T10:00:00Z")])
    changed = [
        raw(1, "2026-01-01T11:00:00Z", state="closed"),
        raw(2, "2026-01-01T11:00:01Z", labels=("cc02",)),
        raw(3, "2026-01-01T11:00:02Z"),
        raw(4, "2026-01-01T11:00:03Z", pull=True),
    ]
    after = view.merged(changed, '"e2"', at=0.0)
    assert [issue.number for issue in after.issues()] == [3]
    assert (after.etag, after.watermark) == ('"e2"', "2026-01-01T11:00:03Z")
    assert "reactions" not in after.raw[3]  # only what an Issue is built from is kept


def test_the_next_listing_starts_at_the_watermark_or_a_little_before_a_poll_that_came_right_after_it():
    polled = datetime(2026, 1, 1, 10, 0, 2, tzinfo=timezone.utc).timestamp()  # 2 s after the newest update
    view = LabelView.listed("cc01", None, [raw(1, "2026-01-01T10:00:00Z")], at=polled)
    assert view.since().isoformat() == "2026-01-01T09:59:57+00:00"  # 5 s before the poll
    later = LabelView.listed("cc01", None, [raw(1, "2026-01-01T10:00:00Z")], at=polled + 3600)
    assert later.since().isoformat() == "2026-01-01T10:00:00+00:00"  # nothing can still be lagging
    assert LabelView.listed("cc01", None, []).since() is None  # nothing seen: list in full


def test_a_view_is_listed_in_full_again_when_empty_or_an_hour_old():
    assert LabelView.listed("cc01", None, [], at=1000.0).wants_full_listing(1001.0)
    view = LabelView.listed("cc01", None, [raw(1, "2026-01-01T10:00:00Z")], at=1000.0)
    assert not view.wants_full_listing(1000.0 + 3600) and view.wants_full_listing(1000.0 + 3601)


def test_a_saved_view_reads_back_equal_and_anything_else_is_refused():
    view = LabelView.listed("cc01", '"e"', [raw(1, "2026-01-01T10:00:00Z")])
    assert LabelView.from_json(view.to_json()) == view
    for broken in ({**view.to_json(), "version": 0}, {"version": 1}, {**view.to_json(), "issues": [{"n": 1}]}):
        with pytest.raises((KeyError, TypeError, ValueError)):
            LabelView.from_json(broken)
