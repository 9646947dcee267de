"""`ccc doctor` against the sandbox: each check's pass, warn and fail, the exit codes and the JSON.

GitHub's documented behaviour modelled: GET /user answers 403 to installation tokens; GET /repos/{o}/{r}
carries `permissions` for the token's role and X-OAuth-Scopes for classic tokens
(https://docs.github.com/rest/repos/repos#get-a-repository); GET /repos/{o}/{r}/actions/permissions/workflow
says whether Actions may create pull requests and needs admin
(https://docs.github.com/rest/actions/permissions#get-default-workflow-permissions-for-a-repository);
GET /repos/{o}/{r}/actions/runners lists self-hosted runners and needs administration: read
(https://docs.github.com/rest/actions/self-hosted-runners); GET /rate_limit names the pool
(https://docs.github.com/rest/rate-limit). Runners are registered with the sandbox's PUT /_sandbox/runners control.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ccc.cli import main
from ccc.sandbox.process import SandboxProcess
from conftest import api_call

TASKS = [
    {"id": "a", "title": "A", "body": "a", "worker": "cc01"},
    {"id": "b", "title": "B", "body": "b", "worker": "any"},
]


def committed_manifest(root: Path, tasks: list[dict] = TASKS) -> Path:
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}))
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "m"]):
        subprocess.run(["git", "-C", str(root), *args], check=True)
    return root


@pytest.fixture
def doctor(sandbox, tmp_path, monkeypatch, capsys):
    """Runs `ccc doctor --json` as LOGIN (or with TOKEN); returns (exit code, {check name: check})."""
    root = committed_manifest(tmp_path / "repo")
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_REPOSITORY", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(login: str | None = "maintainer", *extra: str, token: str | None = None, repo: str | None = None):
        monkeypatch.setenv("GITHUB_TOKEN", token or sandbox.token(login))
        argv = ["doctor", "--json", "--repo", repo or sandbox.repo, "--api-url", sandbox.api_url, "--root", str(root)]
        code = main([*argv, *extra])
        checks = json.loads(capsys.readouterr().out)["checks"]
        return code, {check["name"]: check for check in checks}

    return run


def outcomes(checks: dict) -> dict[str, str]:
    return {name: check["outcome"] for name, check in checks.items()}


def test_an_admin_token_on_a_fresh_repository_passes_and_warns_only_where_it_cannot_tell(doctor, sandbox):
    # Set up as ccc asks (the realistic sandbox, like GitHub, starts with Actions' pull requests off).
    allow = {"can_approve_pull_request_reviews": True}
    api_call(sandbox, "PUT", "/repos/acme/widgets/actions/permissions/workflow", body=allow)
    code, checks = doctor("maintainer")

    assert code == 0
    assert outcomes(checks) == {
        "token": "pass",
        "repository": "pass",
        "permissions": "pass",
        "pull-requests": "pass",  # the repository lets Actions create pull requests
        "claim-refs": "pass",
        "labels": "warn",  # nothing synced yet: the protocol labels are missing
        "rate-limit": "pass",
        "manifest": "pass",
        "runners": "warn",  # none registered
    }
    assert "cc01" in checks["labels"]["detail"] and "any" in checks["labels"]["detail"]
    assert "5,000 requests an hour" in checks["rate-limit"]["detail"]
    assert "2 tasks valid (read from HEAD" in checks["manifest"]["detail"]


def test_the_scratch_claim_ref_is_gone_afterwards(doctor, sandbox):
    doctor("maintainer")

    refs = [ref["ref"] for ref in api_refs(sandbox)]
    assert not [ref for ref in refs if "doctor" in ref]


def api_refs(sandbox: SandboxProcess) -> list[dict]:
    from conftest import api_call

    answer = api_call(sandbox, "GET", f"/repos/{sandbox.repo}/git/matching-refs/ccc/")
    return answer.body or []


def test_labels_pass_once_sync_created_them(doctor, sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("maintainer"))
    argv = ["--repo", sandbox.repo, "--api-url", sandbox.api_url, "--max-writes-per-minute", "0"]
    assert main(["manager", "sync", "--root", str(committed_manifest(tmp_path / "other")), *argv]) == 0
    capsys.readouterr()

    assert doctor("maintainer")[1]["labels"]["outcome"] == "pass"


def test_a_wrong_token_fails_the_first_check_and_exits_3(doctor):
    code, checks = doctor(token="ghp_" + "0" * 36)

    assert code == 3
    assert outcomes(checks) == {"token": "fail"}
    assert "401" in checks["token"]["detail"]


def test_a_wrong_repository_exits_3_naming_it(doctor):
    code, checks = doctor("maintainer", repo="acme/gadgets")

    assert code == 3
    assert checks["repository"]["outcome"] == "fail" and "acme/gadgets" in checks["repository"]["detail"]


def test_a_read_only_token_fails_permissions_and_claim_refs(doctor):
    code, checks = doctor("outside-reader")

    assert code == 1
    assert checks["permissions"]["outcome"] == "fail" and "role: pull" in checks["permissions"]["detail"]
    assert checks["claim-refs"]["outcome"] == "fail"


def test_the_actions_token_is_recognised_as_an_installation_that_cannot_read_admin_settings(doctor):
    code, checks = doctor("github-actions[bot]")

    assert code == 0
    assert "app installation" in checks["token"]["detail"]
    assert checks["claim-refs"]["outcome"] == "pass"
    assert checks["pull-requests"]["outcome"] == "warn"  # reading the setting needs admin: cannot tell


def test_a_repository_where_actions_may_not_open_pull_requests_fails_until_the_setting_is_on(doctor, sandbox):
    from conftest import api_call

    off = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    assert api_call(sandbox, "PUT", f"/repos/{sandbox.repo}/actions/permissions/workflow", body=off).status == 204

    code, checks = doctor("maintainer")

    assert code == 1
    assert checks["pull-requests"]["outcome"] == "fail"
    assert "Allow GitHub Actions to create and approve pull requests" in checks["pull-requests"]["fix"]


def test_an_unknown_empty_tree_fails_the_claim_refs_check(doctor, sandbox):
    sandbox.faults([{"kind": "empty_tree_unknown", "rate": 1.0}])

    code, checks = doctor("maintainer")

    assert code == 1
    assert checks["claim-refs"]["outcome"] == "fail" and "empty tree" in checks["claim-refs"]["detail"]


def test_a_pr_token_settles_the_pull_request_check(doctor, monkeypatch):
    monkeypatch.setenv("WORKER_PR_TOKEN", "ghp_pr")

    assert doctor("maintainer", "--pr-token-env", "WORKER_PR_TOKEN")[1]["pull-requests"]["outcome"] == "pass"


def test_an_invalid_committed_manifest_fails_the_manifest_check(doctor, tmp_path):
    root = committed_manifest(tmp_path / "broken", [{"id": "a", "title": "A", "worker": "cc01", "depends_on": ["x"]}])

    code, checks = doctor("maintainer", "--root", str(root))

    assert code == 1
    assert checks["manifest"]["outcome"] == "fail" and "tasks.yml:" in checks["manifest"]["detail"]


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("maintainer", {"pull-requests": "fail", "rate-limit": "pass", "claim-refs": "pass"}),
        ("github-actions[bot]", {"pull-requests": "warn", "rate-limit": "pass", "claim-refs": "pass"}),
    ],
)
def test_the_realistic_profile_new_repository_settings_and_the_actions_token_pool(login, expected, tmp_path,
                                                                                  monkeypatch, capsys):  # fmt: skip
    with SandboxProcess.start(tmp_path / "sb", repos=["acme/widgets"], profile="realistic") as sandbox:
        monkeypatch.setenv("GITHUB_TOKEN", sandbox.token(login))
        argv = ["doctor", "--json", "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--root", str(tmp_path)]
        code = main(argv)
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert {name: checks[name]["outcome"] for name in expected} == expected
    assert code == (1 if "fail" in expected.values() else 0)
    pool = "Actions GITHUB_TOKEN's pool" if login.endswith("[bot]") else "5,000 requests an hour"
    assert pool in checks["rate-limit"]["detail"]
    assert checks["manifest"]["outcome"] == "warn"  # no manifest in an empty directory


def test_the_plain_output_has_one_line_per_check_with_its_fix(sandbox, tmp_path, monkeypatch, capsys):
    # Set up as ccc asks (the realistic sandbox, like GitHub, starts with Actions' pull requests off).
    allow = {"can_approve_pull_request_reviews": True}
    api_call(sandbox, "PUT", "/repos/acme/widgets/actions/permissions/workflow", body=allow)
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("maintainer"))
    root = committed_manifest(tmp_path / "repo")

    code = main(["doctor", "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--root", str(root)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].startswith(f"ccc doctor: {sandbox.repo} at ")
    assert [line.split()[0] for line in lines[1:] if not line.startswith(" ")] == [
        "pass", "pass", "pass", "pass", "pass", "warn", "pass", "pass", "warn"
    ]  # fmt: skip
    assert any(line.strip().startswith("fix: ") for line in lines)


def test_runners_pass_when_every_worker_label_has_an_online_runner(doctor, sandbox):
    runners = [{"name": "a", "labels": ["cc01"]}, {"name": "b", "labels": ["any", "cc02"], "online": False}]
    sandbox.control("PUT", "runners", {"repo": sandbox.repo, "runners": runners})

    missing = doctor("maintainer")[1]["runners"]
    runners[1]["online"] = True
    sandbox.control("PUT", "runners", {"repo": sandbox.repo, "runners": runners})
    present = doctor("maintainer")[1]["runners"]
    unseen = doctor("github-actions[bot]")[1]["runners"]

    assert missing["outcome"] == "warn" and "carries any (2 registered here)" in missing["detail"]
    assert present["outcome"] == "pass" and "cc01, any" in present["detail"]
    assert unseen["outcome"] == "warn" and "cannot tell" in unseen["detail"]
