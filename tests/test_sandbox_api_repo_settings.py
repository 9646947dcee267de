"""Repository settings through GitHub's endpoints: merge settings (PATCH /repos/{o}/{r}) and whether
the Actions token may create pull requests (GET/PUT .../actions/permissions/workflow)."""

from __future__ import annotations

import pytest
from github import GithubException

from ccc.sandbox.process import SandboxProcess
from conftest import api_call, github_client, github_schema

WORKFLOW = "/repos/acme/widgets/actions/permissions/workflow"


def make_branch(repo, name: str) -> None:
    main = repo.get_git_commit(repo.get_branch("main").commit.sha)
    repo.create_git_ref(f"refs/heads/{name}", repo.create_git_commit(name, main.tree, [main]).sha)


@pytest.fixture
def realistic(tmp_path):
    with SandboxProcess.start(tmp_path / "realistic", profile="realistic") as running:
        running.lag(0)
        yield running


def test_merge_settings_have_githubs_defaults_and_change_through_patch(sandbox, github):
    """https://docs.github.com/en/rest/repos/repos#update-a-repository: `allow_squash_merge`,
    `allow_merge_commit`, `allow_rebase_merge` default to true, `delete_branch_on_merge` to false."""
    repo = github.get_repo("acme/widgets")
    assert (repo.allow_merge_commit, repo.allow_squash_merge, repo.allow_rebase_merge) == (True, True, True)
    assert repo.delete_branch_on_merge is False
    repo.edit(delete_branch_on_merge=True, allow_merge_commit=False)
    fresh = github.get_repo("acme/widgets")
    assert (fresh.delete_branch_on_merge, fresh.allow_merge_commit, fresh.allow_squash_merge) == (True, False, True)
    github_schema("FullRepository").model_validate(fresh.raw_data)


def test_patch_needs_admin_and_one_merge_method(sandbox):
    body = {"allow_merge_commit": False, "allow_squash_merge": False, "allow_rebase_merge": False}
    assert api_call(sandbox, "PATCH", "/repos/acme/widgets", body=body).status == 422
    assert api_call(sandbox, "PATCH", "/repos/acme/widgets", login="github-actions[bot]", body={}).status == 403


def test_actions_may_not_create_pulls_until_the_repository_allows_it(realistic):
    """GitHub: "Allow GitHub Actions to create and approve pull requests" is off by default for new
    repositories; the Actions token's POST /pulls then answers 403 "GitHub Actions is not permitted
    to create or approve pull requests." (https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/enabling-features-for-your-repository/managing-github-actions-settings-for-a-repository#preventing-github-actions-from-creating-or-approving-pull-requests;
    setting: https://docs.github.com/en/rest/actions/permissions#set-default-workflow-permissions-for-a-repository)."""
    make_branch(github_client(realistic).get_repo("acme/widgets"), "feature")
    answer = api_call(realistic, "GET", WORKFLOW)
    assert answer.body == {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    github_schema("ActionsGetDefaultWorkflowPermissions").model_validate(answer.body)
    bot = github_client(realistic, "github-actions[bot]").get_repo("acme/widgets")
    with pytest.raises(GithubException) as caught:
        bot.create_pull(title="x", body="", head="feature", base="main")
    assert (caught.value.status, caught.value.data["message"]) == (
        403,
        "GitHub Actions is not permitted to create or approve pull requests.",
    )
    assert api_call(realistic, "PUT", WORKFLOW, body={"can_approve_pull_request_reviews": True}).status == 204
    assert bot.create_pull(title="x", body="", head="feature", base="main").number == 1


def test_the_plain_profile_lets_actions_create_pulls_and_the_bot_cannot_change_the_setting(tmp_path):
    with SandboxProcess.start(tmp_path / "plain", profile="plain") as sandbox:
        allowed = api_call(sandbox, "GET", WORKFLOW).body["can_approve_pull_request_reviews"]
        forbid = {"can_approve_pull_request_reviews": False}
        by_bot = api_call(sandbox, "PUT", WORKFLOW, login="github-actions[bot]", body=forbid)
    assert allowed is True
    assert by_bot.status == 403  # the setting needs admin
