"""Route table of the sandbox: URL templates → handlers, and the request/response/error types.

Handlers are plain functions registered with `@route(...)`. They receive a `Request` and the
URL's path parameters as keyword arguments and return a `Response`, or any JSON-serialisable
value (sent as 200, or the route's `status`). Errors are raised as `ApiError`, rendered in
GitHub's error shape by the server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# Permission levels in GitHub's order; a route names the least level it needs.
PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")

DOCS_URL = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer in GitHub's shape: {"message", "documentation_url", ["errors"], "status"}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        docs_url: str = DOCS_URL,
    ):
        super().__init__(message)
        self.docs_url = docs_url
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict:
        body: dict[str, Any] = {"message": self.message, "documentation_url": self.docs_url}
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return body


def validation_failed(resource: str, field_name: str, code: str = "invalid", **extra: Any) -> ApiError:
    """GitHub's 422 "Validation Failed" with one `errors` entry."""
    return ApiError(
        422, "Validation Failed", errors=[{"resource": resource, "field": field_name, "code": code, **extra}]
    )


def forbidden(user: Any) -> ApiError:
    """GitHub's 403 for a token that lacks a permission (integration tokens word it differently)."""
    if user.type == "Bot":
        return ApiError(403, "Resource not accessible by integration")
    return ApiError(403, "Resource not accessible by personal access token")


def too_long(resource: str, field_name: str, value: object, maximum: int) -> None:
    """GitHub's 422 for a text over its length cap, e.g. "body is too long (maximum is 65536 characters)"."""
    if isinstance(value, str) and len(value) > maximum:
        message = f"{field_name} is too long (maximum is {maximum} characters)"
        raise validation_failed(resource, field_name, "custom", message=message)


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as-is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # API root, e.g. http://127.0.0.1:PORT/api/v3, for building `url` fields
    token: str | None = None
    user: Any = None  # the authenticated user record, set by the server
    repo: Any = None  # the repository record of {owner}/{repo} routes, set by the server
    store: Any = None  # the state the handler reads and writes (a snapshot for stale reads)
    route: Route | None = None
    context: dict[str, Any] = field(default_factory=dict)  # per-request scratch for the server

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise validation_failed("Query", name, "invalid") from None

    def json(self) -> dict:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data

    @classmethod
    def parse_query(cls, raw: str) -> dict[str, list[str]]:
        return parse_qs(raw, keep_blank_values=True)


@dataclass
class Route:
    method: str
    template: str  # as in GitHub's docs, e.g. /repos/{owner}/{repo}/issues/{issue_number}
    handler: Callable[..., Any]
    pattern: re.Pattern
    permission: str  # least permission on the repository ({owner}/{repo}) needed; "none" for none
    write: bool  # content-creating/changing request: counts towards the secondary limit
    auth: bool  # False: answered without a token (e.g. GET /rate_limit still needs one on GitHub)
    status: int  # default status for plain return values
    resource: str  # rate-limit resource: "core" unless stated


ROUTES: list[Route] = []

_PARAM = re.compile(r"\{(\w+)(:path)?\}")


def _compile(template: str) -> re.Pattern:
    pattern, pos = "", 0
    for m in _PARAM.finditer(template):
        pattern += re.escape(template[pos : m.start()])
        pattern += f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
    pattern += re.escape(template[pos:])
    return re.compile(f"^{pattern}$")


def route(
    method: str,
    template: str,
    *,
    permission: str = "read",
    write: bool | None = None,
    auth: bool = True,
    status: int = 200,
    resource: str = "core",
) -> Callable:
    """Register a handler. `{name:path}` captures across slashes (git refs).

    `write` defaults to True for POST/PATCH/PUT/DELETE; `permission` applies when the
    template has {owner}/{repo}.
    """
    assert permission in PERMISSIONS, permission

    def register(handler: Callable) -> Callable:
        ROUTES.append(
            Route(
                method=method,
                template=template.replace(":path", ""),
                handler=handler,
                pattern=_compile(template),
                permission=permission,
                write=method != "GET" if write is None else write,
                auth=auth,
                status=status,
                resource=resource,
            )
        )
        return handler

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a method and path with its parameters; None when there is none.

    Of several matching templates the most literal wins (/issues/events over /issues/{issue_number}).
    """
    found = []
    for candidate in ROUTES:
        if candidate.method == method:
            m = candidate.pattern.match(path)
            if m:
                found.append((candidate.template.count("{"), candidate, m.groupdict()))
    if not found:
        return None
    _, best, params = min(found, key=lambda item: item[0])
    return best, params
