"""The sandbox server through the real PyGithub client: serve, authentication, errors, limits, ETags."""

from __future__ import annotations

import json

from conftest import github_schema


def test_serve_writes_the_ready_line_to_sandbox_json(sandbox):
    on_disk = json.loads((sandbox.data_dir / "sandbox.json").read_text())
    assert on_disk == sandbox.info
    assert sandbox.api_url.endswith("/api/v3")
    assert sandbox.repo == "acme/widgets"
    assert sandbox.token("maintainer").startswith("ghp_") and len(sandbox.token("maintainer")) == 40
    assert sandbox.token("github-actions[bot]").startswith("ghs_")
    assert {login: t["permission"] for login, t in sandbox.info["tokens"].items()} == {
        "maintainer": "admin",
        "github-actions[bot]": "write",
        "outside-triager": "triage",
        "outside-reader": "read",
    }


def test_authenticated_user_matches_github_schema(github):
    user = github.get_user()
    assert user.login == "maintainer"
    github_schema("PrivateUser").model_validate(user.raw_data)
