"""Records and formats on their own: timestamps, tokens, user and repository JSON against GitHub's schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccc.sandbox.records import Repo, User, new_token, parse_timestamp, permission_flags
from conftest import github_schema

API = "http://127.0.0.1:1/api/v3"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
        ("2026-01-02T04:04:05+01:00", "2026-01-02T03:04:05Z"),
        ("2026-01-02T03:04:05", "2026-01-02T03:04:05Z"),
        ("soon", None),
    ],
)
def test_query_timestamps_are_normalised_to_utc(value, stored):
    assert parse_timestamp(value) == stored


def test_tokens_look_like_githubs():
    assert new_token("ghp").startswith("ghp_") and len(new_token("ghp")) == 40
    assert new_token("ghs") != new_token("ghs")


def test_bot_links_to_its_app_page_and_matches_simple_user():
    bot = User(41898282, "github-actions[bot]", "Bot", "write", None).to_json(API)
    assert bot["html_url"] == "http://127.0.0.1:1/apps/github-actions"
    github_schema("SimpleUser").model_validate(bot)


def test_repository_json_carries_the_tokens_permissions_only_when_asked():
    owner = User(1, "acme", "Organization", "none", None)
    repo = Repo(7, "acme", "widgets", "main", "2026-01-01T00:00:00Z", Path("/nowhere"))
    assert "permissions" not in repo.to_json(API, owner)
    data = repo.to_json(API, owner, "triage")
    assert data["permissions"] == {"admin": False, "maintain": False, "push": False, "triage": True, "pull": True}
    github_schema("FullRepository").model_validate(data)


def test_permission_flags_follow_githubs_role_order():
    assert permission_flags("admin") == dict.fromkeys(("admin", "maintain", "push", "triage", "pull"), True)
    assert permission_flags("none") == dict.fromkeys(("admin", "maintain", "push", "triage", "pull"), False)
