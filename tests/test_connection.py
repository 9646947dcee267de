"""Connection settings: resolved once from flags and one environment mapping; the git server follows the API."""

from __future__ import annotations

import pytest

from ccc.connection import Connection, git_server_for
from ccc.errors import InputError

ENV = {"GITHUB_TOKEN": "ghp_x", "GITHUB_REPOSITORY": "acme/widgets"}


@pytest.mark.parametrize(
    ("api_url", "git_url"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com"),
        ("http://127.0.0.1:4321/api/v3", "http://127.0.0.1:4321"),
    ],
)
def test_the_git_server_follows_the_api_url(api_url, git_url):
    assert git_server_for(api_url) == git_url
    assert Connection.resolve({**ENV, "GITHUB_API_URL": api_url}).git_url == git_url


def test_an_api_url_without_a_server_url_does_not_clone_from_github_com():
    connection = Connection.resolve(ENV, api_url="https://ghe.example.com/api/v3")
    assert connection.remote_url == "https://ghe.example.com/acme/widgets.git"


def test_the_runners_server_url_goes_with_the_runners_api_url_only():
    runner = {**ENV, "GITHUB_API_URL": "https://api.github.com", "GITHUB_SERVER_URL": "https://github.com"}
    assert Connection.resolve(runner).git_url == "https://github.com"
    assert Connection.resolve(runner, api_url="http://127.0.0.1:9/api/v3").git_url == "http://127.0.0.1:9"
    assert Connection.resolve(runner, git_url="https://mirror.example").git_url == "https://mirror.example"


def test_flags_win_over_the_environment_and_the_token_stays_out_of_repr():
    connection = Connection.resolve({**ENV, "MY_TOKEN": "ghp_mine"}, repo="o/r", token_env="MY_TOKEN")
    assert (connection.repo, connection.token, connection.api_url) == ("o/r", "ghp_mine", "https://api.github.com")
    assert "ghp_mine" not in repr(connection)


@pytest.mark.parametrize(
    ("env", "kwargs", "named"),
    [({}, {}, "GITHUB_TOKEN"), ({"GITHUB_TOKEN": "t"}, {}, "GITHUB_REPOSITORY"), (ENV, {"repo": "nope"}, "--repo")],
)
def test_missing_or_malformed_settings_are_input_errors_naming_the_fix(env, kwargs, named):
    with pytest.raises(InputError, match=named):
        Connection.resolve(env, **kwargs)
