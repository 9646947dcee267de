"""Users, repository, collaborator permission and rate-limit overview through PyGithub."""

from __future__ import annotations

import pytest
from github import GithubException

from conftest import api_call, github_client, github_schema


def test_authenticated_user_matches_githubs_private_user(github):
    user = github.get_user()
    assert (user.login, user.type) == ("maintainer", "User")
    github_schema("PrivateUser").model_validate(user.raw_data)


def test_installation_token_cannot_read_the_authenticated_user(sandbox):
    answer = api_call(sandbox, "GET", "/user", login="github-actions[bot]")
    assert answer.status == 403
    assert answer.body["message"] == "Resource not accessible by integration"


def test_repository_matches_githubs_full_repository(sandbox, github):
    repo = github.get_repo("acme/widgets")
    assert (repo.full_name, repo.default_branch, repo.owner.login) == ("acme/widgets", "main", "acme")
    assert repo.owner.type == "Organization"
    assert repo.clone_url == f"{sandbox.git_url}/acme/widgets.git"
    github_schema("FullRepository").model_validate(repo.raw_data)


def test_repository_permissions_are_the_tokens_own(sandbox):
    permissions = github_client(sandbox, "outside-triager").get_repo("acme/widgets").permissions
    assert (permissions.pull, permissions.triage, permissions.push, permissions.admin) == (True, True, False, False)


@pytest.mark.parametrize(
    ("login", "permission", "role"),
    [
        ("maintainer", "admin", "admin"),
        ("github-actions[bot]", "write", "write"),
        ("outside-triager", "read", "triage"),
        ("outside-reader", "read", "read"),
    ],
)
def test_collaborator_permission_has_legacy_permission_and_role_name(github, login, permission, role):
    answer = github.get_repo("acme/widgets").get_collaborator_role_name(login)
    assert answer == role
    raw = github.get_repo("acme/widgets").get_collaborator_permission(login)
    assert raw == permission


def test_collaborator_permission_matches_githubs_schema(sandbox):
    answer = api_call(sandbox, "GET", "/repos/acme/widgets/collaborators/outside-triager/permission")
    github_schema("RepositoryCollaboratorPermission").model_validate(answer.body)
    assert answer.body["user"]["login"] == "outside-triager"


def test_unknown_collaborator_is_not_found(github):
    with pytest.raises(GithubException) as caught:
        github.get_repo("acme/widgets").get_collaborator_permission("nobody")
    assert caught.value.status == 404


def test_rate_limit_overview_matches_githubs_schema(sandbox, github):
    github.get_repo("acme/widgets").get_issues().totalCount  # noqa: B018 - one charged request
    answer = api_call(sandbox, "GET", "/rate_limit")
    github_schema("RateLimitOverview").model_validate(answer.body)
    assert answer.body["resources"]["core"]["used"] == 2  # the repository read and the issues list
    assert answer.body["rate"] == answer.body["resources"]["core"]
