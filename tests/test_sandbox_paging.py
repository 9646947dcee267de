"""Pagination: per_page/page clamping and GitHub's Link header, on plain Request objects."""

from __future__ import annotations

from ccc.sandbox.paging import paginate
from ccc.sandbox.routing import Request

API = "http://127.0.0.1:1/api/v3"


def request(query: str) -> Request:
    return Request("GET", "/repos/o/r/labels", Request.parse_query(query), {}, b"", API)


def page(query: str, count: int):
    return paginate(request(query), list(range(count)), lambda item: item)


def test_default_page_is_30_items_with_next_and_last():
    answer = page("", 65)
    assert answer.body == list(range(30))
    assert answer.headers["Link"] == (
        f'<{API}/repos/o/r/labels?page=2>; rel="next", <{API}/repos/o/r/labels?page=3>; rel="last"'
    )


def test_last_page_links_prev_and_first_only():
    answer = page("per_page=10&page=3", 25)
    assert answer.body == list(range(20, 25))
    assert answer.headers["Link"] == (
        f'<{API}/repos/o/r/labels?per_page=10&page=2>; rel="prev", '
        f'<{API}/repos/o/r/labels?per_page=10&page=1>; rel="first"'
    )


def test_single_page_has_no_link_header():
    assert "Link" not in page("per_page=100", 100).headers


def test_per_page_is_clamped_to_1_through_100():
    assert len(page("per_page=1000", 150).body) == 100
    assert len(page("per_page=0", 5).body) == 1


def test_page_past_the_end_is_empty():
    assert page("page=9", 5).body == []


def test_other_query_parameters_are_kept_in_links():
    answer = page("state=all&labels=a%2Cb&per_page=1", 2)
    assert answer.headers["Link"].startswith(f"<{API}/repos/o/r/labels?state=all&labels=a%2Cb&per_page=1&page=2>")


def test_decoded_path_is_encoded_again_in_links():
    req = Request("GET", "/repos/o/r/git/matching-refs/heads/a b", {"per_page": ["1"]}, {}, b"", API)
    assert "/repos/o/r/git/matching-refs/heads/a%20b?per_page=1&page=2" in paginate(req, [1, 2], str).headers["Link"]
