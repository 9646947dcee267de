"""`ccc worker run`: settings from flags and CCC_* variables, validation, the JSON result on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ccc.cli import build_parser, main
from ccc.cli.worker import settings_from
from ccc.errors import InputError
from ccc.worker.masking import Masker
from ccc.worker.run import workdir_default

BASE_ENV = {"GITHUB_TOKEN": "ghp_token", "GITHUB_REPOSITORY": "acme/widgets"}


def parse(*argv: str, env: dict | None = None, monkeypatch=None):
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    args = build_parser().parse_args(["worker", "run", *argv])
    return settings_from(args, {**BASE_ENV, **(env or {})})


def test_flags_become_frozen_settings(monkeypatch):
    settings = parse("--worker", "cc02", "--command", "agent", "--lease-minutes", "2", "--max-attempts", "5",
                     "--trusted-authors", "bot-a[bot], alice", "--pool", "shared", monkeypatch=monkeypatch)  # fmt: skip
    assert (settings.worker, settings.pool, settings.repo) == ("cc02", "shared", "acme/widgets")
    assert settings.lease == timedelta(minutes=2) and settings.max_attempts == 5 and settings.max_tasks == 1
    assert settings.trusted_authors == ("bot-a[bot]", "alice")
    assert settings.served_labels == ("cc02", "shared")
    assert "ghp_token" not in repr(settings)


def test_isolation_flags_become_the_confinement_and_tree_policy_settings(monkeypatch):
    flags = ("--worker", "cc02", "--command", "agent", "--network", "none", "--allow-domains", "pypi.org",
             "--read-only-paths", "/opt/node,/opt/go", "--secret-env", "DEPLOY_KEY", "--allow-workflow-changes",
             "--max-change-bytes", "500")  # fmt: skip
    settings = parse(*flags, env={"DEPLOY_KEY": "deploy-secret-value"}, monkeypatch=monkeypatch)
    isolation = settings.isolation
    assert (isolation.mode, isolation.network) == ("bwrap", "none")
    assert isolation.allow_domains == ("api.anthropic.com", "pypi.org")
    assert isolation.read_only == (Path("/opt/node"), Path("/opt/go"))
    assert settings.allow_workflow_changes and settings.max_change_bytes == 500
    assert "deploy-secret-value" in settings.secrets


def test_isolation_is_bubblewrap_unless_none_is_chosen(monkeypatch):
    assert parse("--worker", "cc02", "--command", "a", monkeypatch=monkeypatch).isolation.mode == "bwrap"
    env = {"CCC_ISOLATION": "none"}
    assert parse("--worker", "cc02", "--command", "a", env=env, monkeypatch=monkeypatch).isolation.mode == "none"


def test_every_option_can_come_from_a_ccc_variable(monkeypatch):
    env = {"CCC_WORKER": "cc03", "CCC_COMMAND": "agent", "CCC_LOOP": "true", "CCC_INTERVAL": "7",
           "CCC_LABEL_NAMES": "in_progress=wip", "CCC_DRAFT": "1"}  # fmt: skip
    settings = parse(env=env, monkeypatch=monkeypatch)
    assert settings.worker == "cc03" and settings.loop and settings.interval == 7 and settings.draft
    assert settings.max_tasks == 0  # no limit when looping
    assert settings.labels.in_progress == "wip"


def test_manager_created_issues_are_trusted_by_default(monkeypatch):
    assert parse("--worker", "cc01", "--command", "a", monkeypatch=monkeypatch).trusted_authors == (
        "github-actions[bot]",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--command", "a"], "--worker"),
        (["--worker", "cc01"], "--command"),
        (["--worker", "a,b", "--command", "a"], "--worker"),
        (["--worker", "cc01", "--command", "a", "--label-names", "bogus=x"], "--label-names"),
        (["--worker", "cc01", "--command", "a", "--prompt-template", "/nonexistent.j2"], "--prompt-template"),
    ],
)
def test_bad_settings_are_input_errors_naming_the_option(argv, message, monkeypatch):
    with pytest.raises(InputError, match=message):
        parse(*argv, monkeypatch=monkeypatch)


def test_a_missing_token_names_the_variable():
    args = build_parser().parse_args(["worker", "run", "--worker", "cc01", "--command", "a", "--token-env", "MY_TOK"])
    with pytest.raises(InputError, match="MY_TOK"):
        settings_from(args, {})


def test_help_documents_the_variables_and_exit_codes():
    out = subprocess.run(
        [sys.executable, "-m", "ccc", "worker", "run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for text in ("CCC_WORKER", "CCC_MAX_TASKS", "CCC_PROGRESS_FILE", "github-actions[bot]", "exit codes"):
        assert text in " ".join(out.split()), text


def test_an_idle_once_run_prints_json_sets_outputs_and_exits_zero(sandbox, tmp_path):
    outputs, summary = tmp_path / "output", tmp_path / "summary"
    outputs.touch()  # the runner creates both files before the step runs
    summary.touch()
    env = {**os.environ, "GITHUB_TOKEN": sandbox.token("github-actions[bot]"), "GITHUB_ACTIONS": "true",
           "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "ccc", "worker", "run", "--worker", "cc01", "--command", "true", "--once", "--json",
         "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--workdir", str(tmp_path / "w")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["status"] == "idle" and result["requests"]["total"] == 1 and result["issue"] is None
    assert "status<<" in outputs.read_text() and "idle" in outputs.read_text()
    assert summary.read_text().startswith("### Worker cc01: idle")


def test_masking_covers_the_basic_auth_form_of_a_token():
    mask = Masker(["ghp_abc123"])
    header = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hwX2FiYzEyMw=="
    assert mask(f"token ghp_abc123 in {header}") == "token *** in AUTHORIZATION: basic ***"


def test_the_default_workdir_is_the_runner_temp_dir():
    assert workdir_default({"RUNNER_TEMP": "/runner/tmp"}) == Path("/runner/tmp/ccc")


def test_a_loop_worker_logs_one_line_per_claim_delivery_release_and_failure(sandbox, tmp_path):
    from worker_support import agent, create_issues, worker_process

    good, bad = create_issues(sandbox, 2)
    command = f'[ "$CCC_ISSUE_NUMBER" != "{bad}" ] || exit 3; {agent()}'
    proc = worker_process(sandbox, tmp_path, "loop", "--loop", "--interval", "0", "--max-idle-polls", "1",
                          "--max-attempts", "2", "--command", command)  # fmt: skip
    _, err = proc.communicate(timeout=120)

    lines = [line.split(" ", 2)[2] for line in err.splitlines() if "#" in line]
    assert f"#{good}: claimed (attempt 1)" in lines
    assert any(line.startswith(f"#{good}: delivered {sandbox.git_url}/acme/widgets/pull/") for line in lines), lines
    assert f"#{bad}: released for a retry (attempt 1): the agent exited with status 3" in lines
    assert any(line.startswith(f"#{bad}: failed for good (attempt 2)") for line in lines), lines


def test_verbosity_adds_ccc_debug_then_http_lines(sandbox, tmp_path):
    def stderr(*flags: str) -> str:
        env = {**os.environ, "GITHUB_TOKEN": sandbox.token("github-actions[bot]")}
        argv = [sys.executable, "-m", "ccc", *flags, "worker", "run", "--worker", "cc01", "--command", "true",
                "--repo", sandbox.repo, "--api-url", sandbox.api_url, "--workdir", str(tmp_path / "w")]  # fmt: skip
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stderr

    assert "urllib3" not in stderr("-v") and "ccc.worker.run: poll: 0 ready, 0 in progress" in stderr("-v")
    assert "urllib3" in stderr("-vv") or "github.Requester" in stderr("-vv")


@pytest.mark.parametrize(
    ("login", "repo", "cause"),
    [
        (None, None, "rejected the token"),
        ("github-actions[bot]", "acme/nothing-here", "check the repository name"),
        ("outside-reader", None, "lacks a permission"),
    ],
    ids=["bad-token", "wrong-repo", "no-permission"],
)
def test_github_refusals_exit_3_naming_the_cause(login, repo, cause, sandbox, tmp_path, monkeypatch, capsys):
    from worker_support import create_issues

    create_issues(sandbox, 1)  # work for the reader, who may not claim it
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token(login) if login else "ghp_" + "x" * 36)
    argv = ["worker", "run", "--worker", "cc01", "--command", "true", "--repo", repo or sandbox.repo,
            "--api-url", sandbox.api_url, "--workdir", str(tmp_path / "w"), "--trusted-authors", "maintainer",
            "--write-pacing", "0"]  # fmt: skip

    code = main(argv)

    assert code == 3
    assert cause in capsys.readouterr().err
