"""List pagination as GitHub does it: per_page (default 30, at most 100), page, and a Link header."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from ccc.sandbox.routing import Request, Response

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def page_window(req: Request) -> tuple[int, int]:
    """(per_page, page) from the query, clamped the way GitHub clamps them."""
    per_page = min(max(req.int_arg("per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    return per_page, max(req.int_arg("page", 1), 1)


def paginate(req: Request, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
    """One page of `items`, rendered, with GitHub's Link header when there is more than one page."""
    per_page, page = page_window(req)
    last = max((len(items) + per_page - 1) // per_page, 1)
    body = [render(item) for item in items[(page - 1) * per_page : page * per_page]]
    links = _links(req, page, last)
    return Response(200, body, {"Link": links} if links else {})


def _links(req: Request, page: int, last: int) -> str:
    # GitHub's order: prev, next, last, first; "first"/"prev" only after page 1, "next"/"last" before the end.
    rels = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{_page_url(req, number)}>; rel="{rel}"' for rel, number in rels)


def _page_url(req: Request, page: int) -> str:
    query = [(key, value) for key, values in req.query.items() if key != "page" for value in values]
    # The server matched the decoded path; links carry it encoded again.
    return f"{req.base_url}{quote(req.path)}?{urlencode(query + [('page', str(page))])}"
