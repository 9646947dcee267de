"""`ccc sandbox serve` argument handling (the server itself is tested through SandboxProcess)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ccc.cli.sandbox import parse_repos, parse_tokens
from ccc.errors import InputError


def test_tokens_parse_as_login_and_permission():
    assert parse_tokens(["cc01:write", "helper[bot]:triage"]) == {"cc01": "write", "helper[bot]": "triage"}


@pytest.mark.parametrize("value", ["cc01", "cc01:owner", ":write"])
def test_malformed_token_option_is_an_input_error(value):
    with pytest.raises(InputError, match="LOGIN:PERMISSION"):
        parse_tokens([value])


@pytest.mark.parametrize("value", ["widgets", "a/b/c", "/b", "a/"])
def test_malformed_repo_option_is_an_input_error(value):
    with pytest.raises(InputError, match="OWNER/NAME"):
        parse_repos([value])


def test_bad_option_exits_2_with_a_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ccc", "sandbox", "serve", "--data", str(tmp_path), "--token", "nobody"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "LOGIN:PERMISSION" in result.stderr
