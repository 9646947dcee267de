"""The Claude Code preset driving the real `claude` CLI against the scripted fake Messages API."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ccc.agents.claude_code import ClaudeCodeSettings, build_command, build_env, run_claude_code
from ccc.agents.proctree import descendants
from ccc.agents.progress import Progress
from ccc.agents.report import Outcome
from ccc.cli import build_parser, main
from ccc.cli.worker import settings_from as worker_settings_from
from ccc.errors import InputError
from ccc.worker.result import Status
from ccc.worker.run import run as run_worker
from fake_anthropic import CWD, ApiFailure, FakeAnthropic, Flaky, ToolUse, final_turn, tool_turn
from worker_support import comments_of, labels_of, show_file
from worker_support import github as worker_github
from worker_support import settings as worker_settings

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / ".cache" / "claude" / "node_modules" / ".bin" / "claude"
CANARY = "ghp_canary_never_shown_to_the_agent"


@pytest.fixture(scope="session")
def claude_cli() -> str:
    if not CLI.exists():
        pytest.fail(f"the Claude Code CLI is not installed at {CLI}: run `make claude-cli` (`make test` does)")
    return str(CLI)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def settings_for(fake: FakeAnthropic, cli: str, **overrides: object) -> ClaudeCodeSettings:
    base = ClaudeCodeSettings(api_key="test-key", executable=cli, base_url=fake.base_url, max_api_retries=0)
    return replace(base, **overrides)


def run(fake: FakeAnthropic, cli: str, workdir: Path, prompt: str = "Do the task", **overrides: object):
    seen: list[str] = []

    def remember(progress: Progress) -> None:
        seen.append(progress.render_markdown())

    base_env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": CANARY, "GH_TOKEN": CANARY}
    settings = settings_for(fake, cli, **overrides)
    transcript = workdir.parent / "transcript.jsonl"
    report = run_claude_code(prompt, workdir, settings, on_progress=remember, base_env=base_env, transcript=transcript)
    return report, seen


def tool_results(fake: FakeAnthropic) -> list[str]:
    """Tool results the CLI sent back to the model in its last request, as text."""
    messages = fake.message_requests[-1]["body"]["messages"]
    blocks = [block for m in messages if isinstance(m["content"], list) for block in m["content"]]
    return [json.dumps(block["content"]) for block in blocks if block.get("type") == "tool_result"]


def test_scripted_run_reports_files_commands_turns_cost_tokens_and_summary(claude_cli: str, workdir: Path) -> None:
    todos = [
        {"content": "Write the greeting", "status": "completed", "activeForm": "Writing"},
        {"content": "Check it", "status": "in_progress", "activeForm": "Checking"},
    ]
    script = [
        tool_turn(ToolUse("Write", {"file_path": f"{CWD}/hello.txt", "content": "hello\n"}), text="Writing."),
        tool_turn(ToolUse("Bash", {"command": "cat hello.txt", "description": "Show the greeting"})),
        tool_turn(ToolUse("TodoWrite", {"todos": todos})),
        final_turn("Wrote hello.txt and checked it.", input_tokens=300, output_tokens=20),
    ]
    with FakeAnthropic(script) as fake:
        report, seen = run(fake, claude_cli, workdir, prompt="--not-a-flag: say `hi` $(whoami)")

    assert report.ok and report.outcome is Outcome.COMPLETED and not report.is_error
    assert (workdir / "hello.txt").read_text() == "hello\n"
    assert report.turns == 4
    assert report.files_changed == ("hello.txt",)
    assert report.commands_run == ("cat hello.txt",)
    assert report.summary == "Wrote hello.txt and checked it."
    assert (report.tokens.input, report.tokens.output) == (600, 170)
    assert report.cost_usd > 0 and not report.cost_is_estimate
    assert len(fake.message_requests) == 4
    transcript = [json.loads(line) for line in (workdir.parent / "transcript.jsonl").read_text().splitlines()]
    assert transcript[0]["subtype"] == "init" and transcript[-1]["type"] == "result"
    first_prompt = fake.message_requests[0]["body"]["messages"][0]["content"][-1]["text"]
    assert first_prompt == "--not-a-flag: say `hi` $(whoami)"
    results = tool_results(fake)
    assert '"hello' in results[1] and "Todos have been modified" in results[2]
    checklist = seen[-1]
    assert "- [x] `hello.txt`" in checklist
    assert "- [x] `cat hello.txt`" in checklist
    assert "- [x] Write the greeting" in checklist and "- [ ] Check it (in progress)" in checklist


def test_agent_runs_with_a_throwaway_home_and_no_github_token(claude_cli: str, workdir: Path) -> None:
    command = 'printenv GITHUB_TOKEN GH_TOKEN || echo "no token"; echo "home=$HOME"'
    script = [tool_turn(ToolUse("Bash", {"command": command})), final_turn("done")]
    with FakeAnthropic(script) as fake:
        report, _ = run(fake, claude_cli, workdir)

    assert report.ok
    output = tool_results(fake)[0]
    assert "no token" in output and CANARY not in output
    assert "home=/" in output and "ccc-claude-home-" in output


def test_passing_the_cost_cap_stops_the_run_with_the_reason(claude_cli: str, workdir: Path) -> None:
    script = [
        tool_turn(ToolUse("Bash", {"command": "touch first"}), input_tokens=200_000, output_tokens=4000),
        tool_turn(ToolUse("Bash", {"command": "touch second"})),
        final_turn("done"),
    ]
    with FakeAnthropic(script) as fake:
        report, _ = run(fake, claude_cli, workdir, max_cost_usd=0.05)

    assert report.outcome is Outcome.MAX_COST and report.is_error and report.outcome.is_limit
    assert "cost cap reached" in report.reason and "--max-cost-usd" in report.reason
    assert report.cost_usd > 0.05
    assert not (workdir / "second").exists()
    assert len(fake.message_requests) == 1


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (500, "api_error", "Internal server error"),
        (529, "overloaded_error", "Overloaded"),
        (401, "authentication_error", "invalid x-api-key"),
    ],
)
def test_api_error_ends_the_run_as_a_failure_with_the_reason(
    claude_cli: str, workdir: Path, status: int, error_type: str, message: str
) -> None:
    script = [tool_turn(ToolUse("Bash", {"command": "touch ran"})), ApiFailure(status, error_type, message)]
    with FakeAnthropic(script) as fake:
        report, _ = run(fake, claude_cli, workdir)

    assert report.outcome is Outcome.API_ERROR and report.is_error
    assert f"Anthropic API error {status}" in report.reason
    assert (workdir / "ran").exists()  # the turn before the failure did its work
    assert len(fake.message_requests) == 2  # CLAUDE_CODE_MAX_RETRIES=0: the failing turn is asked once


def test_api_retries_show_in_progress_and_a_recovered_run_succeeds(claude_cli: str, workdir: Path) -> None:
    script = [Flaky(ApiFailure(529, "overloaded_error", "Overloaded"), then=final_turn("done"))]
    with FakeAnthropic(script) as fake:
        report, seen = run(fake, claude_cli, workdir, max_api_retries=1)

    assert report.ok and report.summary == "done"
    assert len(fake.message_requests) == 2
    assert ", 1 API retries." in seen[-1]


def test_tool_outside_the_allowed_list_is_reported_as_a_permission_denial(claude_cli: str, workdir: Path) -> None:
    script = [tool_turn(ToolUse("Bash", {"command": "touch denied.txt"})), final_turn("I could not run it.")]
    with FakeAnthropic(script) as fake:
        report, seen = run(fake, claude_cli, workdir, allowed_tools=("Read", "Edit", "Write"))

    assert report.outcome is Outcome.PERMISSION_DENIED and report.is_error
    assert report.permission_denials == ("Bash touch denied.txt",)
    assert "Bash touch denied.txt" in report.reason and "--allowed-tools" in report.reason
    assert not (workdir / "denied.txt").exists()
    assert "Denied tool calls:" in seen[-1]


def test_turn_limit_ends_the_run_with_the_reason(claude_cli: str, workdir: Path) -> None:
    script = [tool_turn(ToolUse("Bash", {"command": "true"}))]  # asks for another tool call forever
    with FakeAnthropic(script) as fake:
        report, _ = run(fake, claude_cli, workdir, max_turns=2)

    assert report.outcome is Outcome.MAX_TURNS and report.outcome.is_limit
    assert "--max-turns" in report.reason
    assert len(fake.message_requests) == 2


def test_timeout_kills_the_whole_process_group(claude_cli: str, workdir: Path) -> None:
    script = [tool_turn(ToolUse("Bash", {"command": "echo $$ > pid.txt; exec sleep 120", "timeout": 300000}))]
    with FakeAnthropic(script) as fake:
        report, _ = run(fake, claude_cli, workdir, timeout_seconds=6)

    assert report.outcome is Outcome.TIMEOUT and "timed out after 6 s" in report.reason
    assert not process_alive(int((workdir / "pid.txt").read_text()))


def test_stop_request_ends_the_run_and_kills_its_commands(claude_cli: str, workdir: Path) -> None:
    script = [tool_turn(ToolUse("Bash", {"command": "echo $$ > pid.txt; exec sleep 120", "timeout": 300000}))]
    stop = threading.Event()

    def stop_once_the_command_runs() -> None:
        for _ in range(1500):  # bounded: 30 s at most
            if (workdir / "pid.txt").exists():
                stop.set()
                return
            time.sleep(0.02)

    threading.Thread(target=stop_once_the_command_runs, daemon=True).start()
    with FakeAnthropic(script) as fake:
        report = run_claude_code("task", workdir, settings_for(fake, claude_cli, timeout_seconds=60), stop_event=stop)

    assert report.outcome is Outcome.STOPPED and report.is_error
    assert not process_alive(int((workdir / "pid.txt").read_text()))


def test_an_interrupt_while_following_the_stream_leaves_no_process_behind(claude_cli: str, workdir: Path) -> None:
    def interrupt(progress: Progress) -> None:
        raise KeyboardInterrupt

    with FakeAnthropic([final_turn("done")]) as fake:
        with pytest.raises(KeyboardInterrupt):
            run_claude_code("task", workdir, settings_for(fake, claude_cli), on_progress=interrupt)

    assert claude_processes() == []


def claude_processes() -> list[int]:
    """This test process's descendants running the Claude Code CLI (other tests may have their own children)."""
    return [pid for pid in descendants(os.getpid()) if "claude" in command_line(pid)]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


def process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_environment_is_clean_and_carries_the_anthropic_credentials(tmp_path: Path) -> None:
    settings = ClaudeCodeSettings(api_key="sk-test", base_url="http://127.0.0.1:1", max_api_retries=0)
    base_env = {"PATH": "/usr/bin", "GITHUB_TOKEN": CANARY, "ACTIONS_RUNTIME_TOKEN": CANARY, "LANG": "C.UTF-8"}

    env = build_env(settings, tmp_path, base_env=base_env, extra_env={"CCC_ISSUE_NUMBER": "7"})

    assert CANARY not in env.values()
    assert env["HOME"] == str(tmp_path) and env["CLAUDE_CONFIG_DIR"] == str(tmp_path / ".claude")
    assert env["ANTHROPIC_API_KEY"] == "sk-test" and env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1" and env["DISABLE_TELEMETRY"] == "1"
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "0" and env["CLAUDE_CODE_ENABLE_TASKS"] == "0"
    assert env["CCC_ISSUE_NUMBER"] == "7" and env["LANG"] == "C.UTF-8"
    assert "CLAUDE_CODE_OAUTH_TOKEN" not in env


def test_command_line_puts_the_prompt_after_the_options(claude_cli: str) -> None:
    settings = ClaudeCodeSettings(api_key="k", executable=claude_cli, model="sonnet", max_cost_usd=2.5, max_turns=7)

    command = build_command("-p --danger", settings)

    assert command[-2:] == ["--", "-p --danger"]
    assert command[command.index("--allowedTools") + 1] == "Bash,Read,Edit,Write,TodoWrite"
    assert command[command.index("--max-turns") + 1] == "7"
    assert command[command.index("--model") + 1] == "sonnet"
    assert command[command.index("--max-budget-usd") + 1] == "2.5"
    assert "--dangerously-skip-permissions" not in command


def test_settings_take_credentials_from_the_environment_never_the_github_token() -> None:
    settings = ClaudeCodeSettings.from_env({"GITHUB_TOKEN": CANARY, "CLAUDE_CODE_OAUTH_TOKEN": "oauth"}, max_turns=3)

    assert (settings.api_key, settings.oauth_token, settings.max_turns) == (None, "oauth", 3)
    assert "oauth" not in repr(settings)
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        ClaudeCodeSettings.from_env({"GITHUB_TOKEN": CANARY}).validate()


def test_missing_cli_is_an_input_error_naming_the_fix(workdir: Path) -> None:
    settings = ClaudeCodeSettings(api_key="k", executable="/nonexistent/claude")

    with pytest.raises(InputError, match="npm install -g @anthropic-ai/claude-code@"):
        run_claude_code("task", workdir, settings)


def test_worker_command_delivers_a_claude_code_run_with_its_checklist_turns_and_cost(
    sandbox, claude_cli: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = worker_github(sandbox).get_repo(sandbox.repo)
    number = repo.create_issue(title="Add a greeting", body="Write hello.txt", labels=["cc01"]).number
    script = [
        tool_turn(ToolUse("Write", {"file_path": f"{CWD}/hello.txt", "content": "hello\n"})),
        tool_turn(ToolUse("Bash", {"command": "cat hello.txt"})),
        final_turn("Added hello.txt with a greeting."),
    ]
    argv = ["worker", "run", "--worker", "cc01", "--repo", sandbox.repo, "--api-url", sandbox.api_url]
    argv += ["--git-url", sandbox.git_url, "--workdir", str(tmp_path / "worker"), "--write-pacing", "0"]
    argv += ["--progress-interval", "0", "--agent", "claude-code", "--claude-executable", claude_cli, "--json"]
    with FakeAnthropic(script) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", sandbox.token("github-actions[bot]"))
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        for name, file in (("GITHUB_OUTPUT", "outputs.txt"), ("GITHUB_STEP_SUMMARY", "summary.md")):
            (tmp_path / file).touch()  # the runner creates them
            monkeypatch.setenv(name, str(tmp_path / file))
        exit_code = main(argv)

    assert exit_code == 0
    [task] = json.loads(capsys.readouterr().out)["tasks"]
    assert task["status"] == "delivered", task["reason"]
    assert show_file(sandbox, task["branch"], "hello.txt") == "hello\n"
    agent = task["agent"]
    assert (agent["outcome"], agent["turns"], agent["files_changed"]) == ("completed", 3, ["hello.txt"])
    assert agent["cost_usd"] > 0 and agent["tokens"]["total"] > 0
    claim, progress, done = comments_of(repo, number)
    assert progress.startswith("Progress Update:\n\n**Claude Code** finished")
    assert "- [x] `hello.txt`" in progress and "- [x] `cat hello.txt`" in progress
    assert done.startswith(f"Task completed!\nPR: #{task['pr']}")
    assert "3 turns" in done and "$0.00" in done
    body = repo.get_pull(task["pr"]).body
    assert body.startswith(f"Closes #{number}")
    assert "3 turns" in body and "Added hello.txt with a greeting." in body
    assert "sk-ant-test-key" not in body + done + progress
    outputs = (tmp_path / "outputs.txt").read_text()
    assert "agent-turns<<" in outputs and "\n3\n" in outputs and "agent-cost-usd<<" in outputs
    assert f"Claude Code on #{number}: completed, 3 turns" in (tmp_path / "summary.md").read_text()


def test_worker_reports_a_claude_code_limit_as_a_failed_attempt_with_the_reason(
    sandbox, claude_cli: str, tmp_path: Path
) -> None:
    repo = worker_github(sandbox).get_repo(sandbox.repo)
    number = repo.create_issue(title="Add a greeting", body="Write hello.txt", labels=["cc01"]).number
    script = [tool_turn(ToolUse("Bash", {"command": "true"}))]  # never finishes on its own
    with FakeAnthropic(script) as fake:
        claude = settings_for(fake, claude_cli, max_turns=2)
        result = run_worker(worker_settings(sandbox, tmp_path, agent="claude-code", command=None, claude=claude))

    [task] = result.tasks
    assert result.status is Status.FAILED and result.exit_code == 1
    assert task.reason is not None and task.reason.startswith("Claude Code: turn limit reached")
    assert task.agent is not None and task.agent["outcome"] == "max_turns"
    failure = comments_of(repo, number)[-1]
    assert failure.startswith("Task attempt failed: Claude Code: turn limit reached") and "--max-turns" in failure
    assert "cc01" in labels_of(repo, number) and "in-progress" not in labels_of(repo, number)


def test_the_isolated_preset_reaches_the_model_through_the_worker_proxy_and_never_holds_the_key(
    sandbox, claude_cli: str, tmp_path: Path
) -> None:
    repo = worker_github(sandbox).get_repo(sandbox.repo)
    number = repo.create_issue(title="Add a greeting", body="Write hello.txt", labels=["cc01"]).number
    look = "env | sort; echo hello > hello.txt"
    script = [tool_turn(ToolUse("Bash", {"command": look})), final_turn("Added hello.txt.")]
    with FakeAnthropic(script) as fake:
        claude = settings_for(fake, claude_cli, api_key="sk-ant-real-key")
        result = run_worker(worker_settings(sandbox, tmp_path, agent="claude-code", command=None, claude=claude))

    [task] = result.tasks
    assert task.status is Status.DELIVERED, task.reason
    assert fake.message_requests and {r["api_key"] for r in fake.message_requests} == {"sk-ant-real-key"}
    inside = tool_results(fake)[0]
    assert "ANTHROPIC_API_KEY=ccc-isolated" in inside and "sk-ant-real-key" not in inside
    assert "ANTHROPIC_BASE_URL=http://127.0.0.1:3129" in inside and fake.base_url not in inside
    assert "HTTPS_PROXY=http://127.0.0.1:3128" in inside and "GITHUB_TOKEN" not in inside
    assert "sk-ant-real-key" not in "".join(comments_of(repo, number))


def test_worker_command_line_selects_claude_code_with_its_limits(claude_cli: str) -> None:
    argv = ["worker", "run", "--worker", "cc02", "--repo", "acme/widgets", "--agent", "claude-code"]
    argv += ["--claude-executable", claude_cli, "--allowed-tools", "Read,Edit", "--max-turns", "9"]
    argv += ["--model", "sonnet", "--max-cost-usd", "1.5", "--timeout-minutes", "2"]
    env = {"GITHUB_TOKEN": CANARY, "ANTHROPIC_API_KEY": "sk-ant-test-key"}

    settings = worker_settings_from(build_parser(argv).parse_args(argv), env)

    claude = settings.claude
    assert (settings.agent, settings.command) == ("claude-code", None)
    assert (claude.allowed_tools, claude.max_turns, claude.model) == (("Read", "Edit"), 9, "sonnet")
    assert (claude.max_cost_usd, claude.timeout_seconds, claude.api_key) == (1.5, 120.0, "sk-ant-test-key")
    assert "sk-ant-test-key" in settings.secrets


def test_worker_with_claude_code_and_no_anthropic_credentials_is_refused_up_front(claude_cli: str) -> None:
    argv = ["worker", "run", "--worker", "cc02", "--repo", "acme/widgets", "--agent", "claude-code"]
    args = build_parser(argv).parse_args([*argv, "--claude-executable", claude_cli])

    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        worker_settings_from(args, {"GITHUB_TOKEN": CANARY})
