"""Shared fixtures and client builders: one sandbox per module reset before each test, unpaced clients on it,
and GitHub's response schemas.

Every test client here is unpaced: PyGithub sleeps 0.25 s before each request and 1 s before each write by
default, which made the suite wait minutes for nothing.
"""

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

from ccc.client import RepoClient, RetryPolicy
from ccc.sandbox.process import SandboxProcess

REPOS = ["acme/widgets"]
# Manager settings that neither pace writes nor stop at GitHub's hourly cap (tests of it set their own).
UNPACED = {"max_writes_per_minute": 0, "max_writes_per_hour": 0}


@pytest.fixture(autouse=True)
def _private_caches(monkeypatch, tmp_path_factory):
    """Workers started by tests keep their listing caches in a temporary directory, never in ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    monkeypatch.delenv("RUNNER_TOOL_CACHE", raising=False)


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory):
    """One sandbox process per test module (starting one costs ~0.5 s); `sandbox` resets it per test."""
    with SandboxProcess.start(tmp_path_factory.mktemp("sandbox"), repos=REPOS, profile="realistic-no-lag") as running:
        yield running


@pytest.fixture
def unlimited_sandbox(tmp_path):
    """A sandbox of its own without GitHub's secondary limits (plain profile), for tests that create
    hundreds of issues in seconds and are about something else (at 80 creates a minute, GitHub would
    make them wait for many minutes)."""
    with SandboxProcess.start(tmp_path / "unlimited", repos=REPOS, profile="plain") as running:
        yield running


@pytest.fixture
def sandbox(module_sandbox):
    """A running sandbox with the repository acme/widgets and the seeded users, freshly reset.

    A test that stops the process gets a new one for the next test; a test that needs its own process
    (other start arguments, a restart under load) starts one with `SandboxProcess.start` itself.
    """
    if module_sandbox.proc is None or module_sandbox.proc.poll() is not None:
        module_sandbox.stop()
        module_sandbox._spawn(port=0)
    module_sandbox.reset()
    module_sandbox.info["repos"] = list(REPOS)
    return module_sandbox


def github_client(sandbox: SandboxProcess, login: str = "maintainer") -> Github:
    """Plain PyGithub on the sandbox, unpaced and without retries so every answer is seen as it is."""
    return Github(
        base_url=sandbox.api_url,
        auth=Auth.Token(sandbox.token(login)),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def repo_client(sandbox: SandboxProcess, login: str = "maintainer", **overrides) -> RepoClient:
    """ccc's client layer on the sandbox: unpaced, with no waits between retries unless `sleep` is given."""
    values = {
        "policy": RetryPolicy(backoff_seconds=0.01),
        "sleep": lambda _seconds: None,
        "seconds_between_requests": 0,
        "seconds_between_writes": 0,
        **overrides,
    }
    return RepoClient(token=sandbox.token(login), repo=sandbox.repo, api_url=sandbox.api_url, **values)


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
