"""action-scripts/run.py: action inputs become ccc flags, tokens travel by variable name, results become outputs."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("action_run", ROOT / "action-scripts" / "run.py")
action_run = sys.modules["action_run"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(action_run)

TOKEN = "ghs_canary_token_0123456789"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No INPUT_* or Actions variables from outside; outputs go to a file of this test's own."""
    for name in list(os.environ):
        if name.startswith("INPUT_") or name.startswith("GITHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output.txt"))
    (tmp_path / "output.txt").write_text("")


def set_inputs(monkeypatch, **inputs: str) -> None:
    for name, value in inputs.items():
        monkeypatch.setenv("INPUT_" + name.upper(), value)


def step_outputs(tmp_path: Path) -> dict[str, str]:
    """The GITHUB_OUTPUT file as the runner reads it (name<<DELIMITER ... DELIMITER)."""
    text = (tmp_path / "output.txt").read_text()
    found = re.findall(r"^(\S+?)<<(\S+)\n(.*?)\n\2$", text, flags=re.S | re.M)
    return {name: value for name, _, value in found}


def test_worker_inputs_become_flags_and_empty_ones_keep_ccc_defaults(monkeypatch):
    set_inputs(monkeypatch, worker="cc02", command="agent --go", max_tasks="2", pool="", draft="true", dry_run="false")

    argv = action_run.command_line("worker")

    assert argv[:4] == ["worker", "run", "--once", "--json"]
    assert argv[argv.index("--worker") + 1] == "cc02"
    assert argv[argv.index("--command") + 1] == "agent --go"
    assert argv[argv.index("--max-tasks") + 1] == "2"
    assert "--draft" in argv
    assert "--pool" not in argv and "--dry-run" not in argv


def test_tokens_reach_ccc_by_the_name_of_their_variable_never_on_the_command_line(monkeypatch):
    set_inputs(monkeypatch, worker="cc01", github_token=TOKEN, pr_token=TOKEN + "pr")

    argv = action_run.command_line("worker")
    env = action_run.child_environment()

    assert TOKEN not in " ".join(argv)
    assert argv[argv.index("--token-env") + 1] == "CCC_GITHUB_TOKEN"
    assert argv[argv.index("--pr-token-env") + 1] == "CCC_PR_TOKEN"
    assert env["CCC_GITHUB_TOKEN"] == TOKEN and env["CCC_PR_TOKEN"] == TOKEN + "pr"
    assert not [name for name in env if name.startswith("INPUT_")]


def test_without_a_pr_token_the_worker_opens_pull_requests_with_its_own_token(monkeypatch):
    set_inputs(monkeypatch, worker="cc01", github_token=TOKEN, pr_token="")

    assert "--pr-token-env" not in action_run.command_line("worker")
    assert "CCC_PR_TOKEN" not in action_run.child_environment()


def test_docker_style_input_names_with_hyphens_are_read_too(monkeypatch):
    # The runner passes a Docker action's inputs as INPUT_<NAME> with `-` kept.
    monkeypatch.setenv("INPUT_COMMAND", "sync")
    monkeypatch.setenv("INPUT_DISPATCH-EVENT", "ccc-work")
    monkeypatch.setenv("INPUT_CLOSE-REMOVED", "false")

    argv = action_run.command_line("manager")

    assert argv[:3] == ["manager", "sync", "--json"]
    assert argv[argv.index("--dispatch-event") + 1] == "ccc-work"
    assert "--keep-removed" in argv


def test_manifest_globs_one_per_line_become_one_flag_each(monkeypatch):
    set_inputs(monkeypatch, command="plan", manifest="tasks/a.yml\n\n  tasks/*.yml  \n")

    argv = action_run.command_line("manager")

    assert [argv[i + 1] for i, arg in enumerate(argv) if arg == "--manifest"] == ["tasks/a.yml", "tasks/*.yml"]


def test_validate_needs_no_token_and_no_connection(monkeypatch):
    set_inputs(monkeypatch, command="validate", root="repo", repository="acme/widgets", github_token=TOKEN)

    assert action_run.command_line("manager") == ["validate", "--json", "--root", "repo"]


def test_summarize_passes_its_dashboard_and_reap_switches(monkeypatch):
    set_inputs(monkeypatch, command="summarize", dashboard_issue="false", reap="true", manager_login="app[bot]")

    argv = action_run.command_line("manager")

    assert "--no-dashboard-issue" in argv and "--reap" in argv
    assert argv[argv.index("--manager-login") + 1] == "app[bot]"


@pytest.mark.parametrize("inputs", [{"command": "deploy"}, {"command": "sync", "dry_run": "yes"}])
def test_a_bad_input_value_stops_with_exit_code_2_naming_the_input(monkeypatch, capsys, inputs):
    set_inputs(monkeypatch, **inputs)

    with pytest.raises(SystemExit) as stop:
        action_run.command_line("manager")

    assert stop.value.code == 2
    assert "input `" in capsys.readouterr().err


def test_a_sync_result_becomes_counts_and_plan_rows(monkeypatch, tmp_path):
    set_inputs(monkeypatch, command="sync")
    rows = [{"task": "auth", "action": "create"}]

    action_run.publish_manager_outputs({"counts": {"create": 3, "update": 1, "close": 0}, "rows": rows})

    outputs = step_outputs(tmp_path)
    assert (outputs["created"], outputs["updated"], outputs["closed"]) == ("3", "1", "0")
    assert json.loads(outputs["plan-json"]) == rows


def test_validate_runs_ccc_and_sets_its_result_as_output(monkeypatch, tmp_path):
    manifest = "version: 1\ntasks:\n  - id: a\n    title: A\n    body: do A\n    worker: cc01\n"
    (tmp_path / "tasks.yml").write_text(manifest)
    set_inputs(monkeypatch, command="validate", root=str(tmp_path), manifest="tasks.yml")

    assert action_run.main("manager") == 0

    assert json.loads(step_outputs(tmp_path)["result-json"])["ok"] is True


def test_a_broken_manifest_fails_the_step_with_annotations_and_its_result_as_output(monkeypatch, tmp_path, capfd):
    (tmp_path / "tasks.yml").write_text("version: 1\ntasks:\n  - id: a\n    titel: A\n")
    set_inputs(monkeypatch, command="validate", root=str(tmp_path), manifest="tasks.yml")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # annotations are workflow commands on stdout, before the JSON

    assert action_run.main("manager") == 2

    assert "::error " in capfd.readouterr().out
    result = json.loads(step_outputs(tmp_path)["result-json"])
    assert result["ok"] is False
    assert any(problem["line"] == 4 for problem in result["problems"])


def every_input(options, switch: str) -> dict[str, str]:
    return {option.input.replace("-", "_"): switch if option.switch else "1" for option in options}


@pytest.mark.parametrize("switch", ["true", "false"])
@pytest.mark.parametrize("command", ["worker", *action_run.MANAGER_COMMANDS])
def test_every_flag_the_actions_pass_is_one_ccc_accepts(monkeypatch, command, switch):
    # Guards against the CLI renaming a flag under the actions: ccc's own parser reads what run.py builds.
    from ccc.cli import build_parser

    options = action_run.WORKER_OPTIONS if command == "worker" else action_run.MANAGER_OPTIONS[command]
    set_inputs(monkeypatch, **every_input(options, switch), github_token=TOKEN, pr_token=TOKEN)
    if command != "worker":
        set_inputs(monkeypatch, command=command)

    argv = action_run.command_line("worker" if command == "worker" else "manager")

    build_parser().parse_args(argv)  # exits 2 on an unknown flag


def test_the_manager_action_runs_doctor_with_the_token_by_variable_name(monkeypatch):
    set_inputs(monkeypatch, command="doctor", repository="acme/widgets", root="repo", github_token=TOKEN)

    assert action_run.command_line("manager") == [
        "doctor", "--json", "--token-env", "CCC_GITHUB_TOKEN", "--repo", "acme/widgets", "--root", "repo"
    ]  # fmt: skip
