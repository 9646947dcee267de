"""`ccc manager …` end to end: plan tables, JSON, exit codes, and no request at all for a malformed manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ccc.cli import main
from test_manifest_corpus import CASES  # the corpus of malformed manifests, with their expected positions


@pytest.fixture
def cli(sandbox, monkeypatch, capsys):
    """Runs `ccc manager COMMAND` against the sandbox; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("maintainer"))
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_REPOSITORY", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(command: str, root: Path, *extra: str) -> tuple[int, str, str]:
        code = main(
            [
                "manager",
                command,
                *(["--root", str(root)] if command in ("plan", "sync") else []),
                "--repo",
                sandbox.repo,
                "--api-url",
                sandbox.api_url,
                "--manager-login",
                "maintainer",
                *(["--max-writes-per-minute", "0"] if command != "plan" else []),
                *extra,
            ]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write(root: Path, tasks: list[dict]) -> Path:
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": tasks}, sort_keys=False))
    return root


TASKS = [
    {"id": "schema", "title": "Schema", "body": "tables", "worker": "cc01"},
    {"id": "api", "title": "API", "body": "endpoints", "worker": "cc02", "depends_on": ["schema"]},
    {"id": "docs", "title": "Docs", "body": "docs", "worker": "any"},
]


def test_plan_for_a_changed_manifest_lists_exactly_the_expected_rows(cli, tmp_path, sandbox):
    root = write(tmp_path, TASKS)
    assert cli("sync", root)[0] == 0
    write(tmp_path, [{**TASKS[0], "body": "tables v2"}, TASKS[1], {"id": "ops", "title": "Ops", "body": "x"}])
    sandbox.reset_stats()

    code, out, _ = cli("plan", root, "--json")

    assert code == 0
    rows = {(row["action"], row["task"]) for row in json.loads(out)["rows"]}
    assert rows == {("update", "schema"), ("create", "ops"), ("close", "docs")}
    assert sandbox.stats()["writes"] == 0


def test_plan_prints_a_markdown_table(cli, tmp_path):
    code, out, _ = cli("plan", write(tmp_path, TASKS))

    assert code == 0
    assert "3 to create · 0 to update · 0 to close · 0 unchanged" in out
    assert "| create | `api` | — | API | new task; blocked: waits for `schema` |" in out


def test_sync_json_reports_counts_and_requests(cli, tmp_path):
    code, out, _ = cli("sync", write(tmp_path, TASKS), "--json")

    result = json.loads(out)
    assert code == 0
    assert result["counts"]["create"] == 3
    assert result["requests"]["by_operation"]["create_issue"] == 3


def test_sync_stopped_by_max_requests_exits_0_names_the_flag_and_says_what_is_left(cli, tmp_path, caplog):
    caplog.set_level("INFO")
    code, out, _ = cli("sync", write(tmp_path, TASKS), "--max-requests", "4")

    assert code == 0
    assert "this run made the 4 requests it may (--max-requests)" in out
    assert "task(s) not yet applied; the next run continues where this one stopped" in out
    assert "rate limit: 4999 of 5000 left at start, 4996 at end" in caplog.text
    code, out, _ = cli("sync", tmp_path, "--json")
    assert code == 0 and json.loads(out)["stopped"] is None


def test_a_rate_limit_reserve_stops_the_summary_cleanly_naming_the_flag(cli, tmp_path):
    root = write(tmp_path, TASKS)
    cli("sync", root)
    code, _, err = cli("summarize", root, "--rate-limit-reserve", "5000")
    assert code == 0 and "--rate-limit-reserve" in err


def test_summarize_json_reports_counts_and_the_dashboard_issue(cli, tmp_path):
    root = write(tmp_path, TASKS)
    cli("sync", root)

    code, out, _ = cli("summarize", root, "--json")

    result = json.loads(out)
    assert code == 0
    assert result["counts"]["ready"] == 2 and result["counts"]["blocked"] == 1
    assert result["dashboard_issue"] == 4
    assert result["newly_completed"] == []


def test_reap_without_expired_leases_says_so(cli, tmp_path):
    root = write(tmp_path, TASKS)
    cli("sync", root)

    code, out, _ = cli("reap", root)

    assert (code, out.strip()) == (0, "No expired leases.")


def test_malformed_manifests_exit_2_at_their_position_before_any_request(cli, sandbox):
    sandbox.reset_stats()
    for param in CASES:
        case = param.values[0]
        flags = [flag for glob in case.globs for flag in ("--manifest", glob)]

        code, out, err = cli("sync", case.root, *flags)

        assert code == 2, param.id
        for expected in case.expected:
            assert f"{expected.file}:{expected.line}:{expected.col}: error: " in err, (param.id, err)
    assert sandbox.stats()["total"] == 0  # validation comes first: not even a read reached GitHub


def test_bad_setting_is_an_input_error(cli, tmp_path):
    code, _, err = cli("sync", write(tmp_path, TASKS), "--max-writes-per-minute", "-1")

    assert code == 2
    assert "--max-writes-per-minute" in err


def test_bot_token_without_a_manager_login_is_told_to_pass_one(sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("github-actions[bot]"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    common = [
        "--root",
        str(write(tmp_path, TASKS)),
        "--repo",
        sandbox.repo,
        "--api-url",
        sandbox.api_url,
    ]

    code = main(["manager", "plan", *common])

    assert code == 2
    assert "--manager-login" in capsys.readouterr().err
    assert (
        main(
            [
                "manager",
                "sync",
                *common,
                "--manager-login",
                "github-actions[bot]",
                "--json",
                "--max-writes-per-minute",
                "0",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["counts"]["create"] == 3


@pytest.mark.parametrize("command", ["plan", "sync", "summarize", "reap"])
def test_each_subcommand_has_only_its_own_flags_with_defaults_shown(command, capsys):
    with pytest.raises(SystemExit):
        main(["manager", command, "--help"])
    out = capsys.readouterr().out
    assert ("--dispatch-event" in out) == (command == "sync")
    assert ("--root" in out) == (command in ("plan", "sync"))
    assert ("--dry-run" in out) == (command != "plan")
    assert ("--max-attempts" in out) == (command in ("summarize", "reap"))
    assert "--label-names" in out and "--label-in-progress" not in out
    assert "(default: True)" not in out and "(default: False)" not in out  # switches say it in words
    if command != "plan":
        assert "(default: 80)" in out  # --max-writes-per-minute


@pytest.mark.parametrize("command", ["plan", "sync", "summarize", "reap"])
@pytest.mark.parametrize(
    ("login", "repo", "cause"),
    [
        (None, None, "rejected the token"),
        ("maintainer", "acme/nothing-here", "check the repository name"),
    ],
    ids=["bad-token", "wrong-repo"],
)
def test_github_refusals_exit_3_naming_the_cause(command, login, repo, cause, sandbox, tmp_path, monkeypatch, capsys):
    token = sandbox.token(login) if login else "ghp_" + "x" * 36
    monkeypatch.setenv("GITHUB_TOKEN", token)
    root = write(tmp_path, TASKS)
    argv = ["manager", command, "--repo", repo or sandbox.repo, "--api-url", sandbox.api_url]

    code = main(argv + (["--root", str(root)] if command in ("plan", "sync") else []))

    assert code == 3
    assert cause in capsys.readouterr().err


def test_a_token_without_write_permission_exits_3_naming_the_permission(sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("outside-reader"))
    argv = ["manager", "sync", "--root", str(write(tmp_path, TASKS)), "--repo", sandbox.repo]

    code = main(argv + ["--api-url", sandbox.api_url, "--max-writes-per-minute", "0"])

    assert code == 3
    assert "issues: write" in capsys.readouterr().err


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_sync_reads_the_manifest_committed_at_head_and_says_when_the_tree_differs(cli, tmp_path):
    root = write(tmp_path, TASKS[:1])
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one task")
    write(root, TASKS)  # two more tasks, not committed

    code, out, err = cli("sync", root, "--json")

    assert code == 0 and json.loads(out)["counts"]["create"] == 1
    assert "--working-tree" in err and ".github/ccc/tasks.yml" in err
    code, out, _ = cli("plan", root, "--json", "--working-tree")
    assert json.loads(out)["counts"]["create"] == 2


def test_each_warning_is_printed_once(cli, sandbox, tmp_path):
    root = write(tmp_path, TASKS)
    cli("sync", root)
    env = {**os.environ, "GITHUB_TOKEN": sandbox.token("maintainer")}
    argv = [sys.executable, "-m", "ccc", "manager", "plan", "--root", str(root), "--repo", sandbox.repo,
            "--api-url", sandbox.api_url, "--manager-login", "someone-else"]  # fmt: skip

    err = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stderr

    warnings = [line for line in err.splitlines() if "has a task marker but was opened by maintainer" in line]
    assert len(warnings) == len(TASKS) == len(set(warnings)), err
