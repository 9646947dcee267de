"""Shared fixtures: a fresh sandbox per test, a PyGithub client on it, and GitHub's response schemas."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types

import pytest
from github import Auth, Github

from ccc.sandbox.process import SandboxProcess


@pytest.fixture
def sandbox(tmp_path):
    """A running sandbox with the repository acme/widgets and the seeded users; stopped afterwards."""
    with SandboxProcess.start(tmp_path / "sandbox", repos=["acme/widgets"]) as running:
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
