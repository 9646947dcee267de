"""Shared fixtures: a fresh sandbox per test, a PyGithub client on it, and GitHub's response schemas."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
import types
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from github import Auth, Github

from ccc.sandbox.process import SandboxProcess


@pytest.fixture
def sandbox(tmp_path):
    """A running sandbox with the repository acme/widgets and the seeded users; stopped afterwards."""
    with SandboxProcess.start(tmp_path / "sandbox", repos=["acme/widgets"], profile="realistic-no-lag") as running:
        yield running


def github_client(sandbox: SandboxProcess, login: str = "maintainer") -> Github:
    """Plain PyGithub on the sandbox, without retries so every answer is seen as it is."""
    return Github(base_url=sandbox.api_url, auth=Auth.Token(sandbox.token(login)), retry=None)


@pytest.fixture
def github(sandbox):
    """PyGithub as the maintainer (admin)."""
    client = github_client(sandbox)
    yield client
    client.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: object  # decoded JSON, or None when empty


def api_call(
    sandbox: SandboxProcess,
    method: str,
    path: str,
    *,
    login: str | None = "maintainer",
    body: object = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One raw HTTP request to the sandbox API (path relative to the API root), for what PyGithub hides."""
    headers = dict(headers or {})
    if login is not None:
        headers.setdefault("Authorization", f"token {sandbox.token(login)}")
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(sandbox.api_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer_headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, payload = error.code, error.headers, error.read()
    return Answer(
        status,
        {name.lower(): value for name, value in answer_headers.items()},
        json.loads(payload) if payload else None,
    )


_SCHEMA_MODELS = "githubkit_schemas.v2026_03_10.models"


def github_schema(name: str):
    """githubkit's pydantic model for one of GitHub's OpenAPI response schemas (e.g. "Issue").

    When githubkit's top-level package does not import (hishel 2.0 lacks names it wants), a bare
    package object stands in for `githubkit` and only the model modules are imported.
    """
    try:
        import githubkit  # noqa: F401
    except ImportError:
        spec = importlib.util.find_spec("githubkit")
        package = types.ModuleType("githubkit")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["githubkit"] = package
    index = importlib.util.find_spec(_SCHEMA_MODELS).origin
    with open(index) as source:
        group = re.search(rf"from \.(group_\d+) import \(?\s*{name} as {name}\b", source.read()).group(1)
    return getattr(importlib.import_module(f"{_SCHEMA_MODELS}.{group}"), name)
