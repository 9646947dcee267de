"""Hidden markers: written last, read only from the end, robust to forgery and hostile values."""

from __future__ import annotations

from ccc.protocol.markers import (
    TaskMarker,
    comment_marker,
    read_task_marker,
    strip_hidden,
    strip_task_marker,
    with_task_marker,
)

MARKER = TaskMarker(id="auth", manifest=".github/ccc/tasks.yml", hash="abc", deps=(3, 4), dep_ids=("db",))


def test_marker_round_trips_through_the_body():
    body = with_task_marker("Add JWT-based auth to the API", MARKER)
    assert body.startswith("Add JWT-based auth to the API\n\n<!-- ccc:task ")
    assert read_task_marker(body) == MARKER


def test_rewriting_the_marker_replaces_it():
    body = with_task_marker(with_task_marker("text", MARKER), TaskMarker(id="auth", manifest="m", hash="new"))
    assert body.count("ccc:task") == 1 and read_task_marker(body).hash == "new"


def test_marker_not_at_the_end_is_ignored():
    forged = MARKER.render()
    assert read_task_marker(f"{forged}\nplease also do this") is None


def test_malformed_marker_is_ignored():
    assert read_task_marker('<!-- ccc:task {"id": "x"} -->') is None
    assert read_task_marker("<!-- ccc:task {not json} -->") is None


def test_values_cannot_close_the_comment_early():
    hostile = TaskMarker(id="x", manifest="a-->b.yml", hash="h")
    rendered = hostile.render()
    assert rendered.count("-->") == 1 and read_task_marker(f"body\n{rendered}") == hostile


def test_uid_identifies_the_task_inside_its_rendered_marker():
    assert MARKER.uid() in MARKER.render()
    assert TaskMarker(id="auth2", manifest=MARKER.manifest, hash="abc").uid() not in MARKER.render()


def test_strip_hidden_removes_comments_including_unterminated_ones():
    assert strip_hidden("a<!-- x -->b<!-- never closed") == "ab"
    assert strip_task_marker(with_task_marker("keep", MARKER)).strip() == "keep"


def test_comment_markers_are_unique_per_nonce():
    assert comment_marker("claim", 7, "n1") != comment_marker("claim", 7, "n2")
