"""Running the agent: clean environment, whole-group timeout, stop on request, progress tailing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ccc.isolation.confine import Confinement, IsolationSettings
from ccc.worker.agent import AgentJob, CommandAgent, ProgressTail, clean_env, run_command
from isolation_support import bubblewrap_works  # noqa: F401 (autouse: fail, never skip, without bubblewrap)


def run(tmp_path, command: str, **kwargs):
    kwargs.setdefault("timeout", 30)
    return run_command(command, cwd=tmp_path, env=clean_env({}), log_path=tmp_path / "log", **kwargs)


def alive(pid: int, wait: float = 2.0) -> bool:
    """Whether `pid` still runs (a zombie does not: killed orphans may wait for a reaper that never comes)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.05)  # the kill is delivered asynchronously
    return True


def test_the_agent_environment_holds_no_token_unless_passed(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")
    monkeypatch.setenv("AGENT_KEY", "key")
    env = clean_env({"CCC_ISSUE_NUMBER": "3"}, pass_names=("AGENT_KEY",))
    assert env["CCC_ISSUE_NUMBER"] == "3" and env["AGENT_KEY"] == "key" and "PATH" in env
    assert "GITHUB_TOKEN" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert clean_env({}, token="ghp_secret")["GITHUB_TOKEN"] == "ghp_secret"


def test_exit_status_and_output_tail_are_reported(tmp_path):
    result = run(tmp_path, "echo first; echo last; exit 3")
    assert result.exit_code == 3 and not result.ok
    assert result.log_tail.endswith("first\nlast")
    assert result.describe("the agent") == "the agent exited with status 3"


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    result = run(tmp_path, f"sleep 60 & echo $! > {pid_file}; wait", timeout=0.5)
    assert result.timed_out and result.exit_code is None
    assert not alive(int(pid_file.read_text()))


def test_background_children_do_not_outlive_a_finished_agent(tmp_path):
    pid_file = tmp_path / "child.pid"
    result = run(tmp_path, f"sleep 60 & echo $! > {pid_file}; exit 0")
    assert result.ok
    assert not alive(int(pid_file.read_text()))


def test_a_timeout_also_kills_commands_the_agent_ran_in_sessions_of_their_own(tmp_path):
    """The process-tree kill the Claude Code preset needs (its Bash tool uses setsid) covers the command agent too."""
    pid_file = tmp_path / "child.pid"
    result = run(tmp_path, f"setsid sleep 60 & echo $! > {pid_file}; wait", timeout=0.5)
    assert result.timed_out
    assert not alive(int(pid_file.read_text()))


def test_a_confined_command_agent_sees_its_job_and_reports_through_the_interface(tmp_path):
    (tmp_path / "tree").mkdir()
    prompt, progress = tmp_path / "prompt.md", tmp_path / "progress.txt"
    prompt.write_text("say hi\n")
    progress.touch()
    confinement = Confinement(
        IsolationSettings(network="none"), tree=tmp_path / "tree", read_only=(prompt,), writable_files=(progress,)
    )
    ticks: list[int] = []
    env = clean_env({"CCC_PROMPT_FILE": str(prompt), "CCC_PROGRESS_FILE": str(progress)})
    command = 'cat "$CCC_PROMPT_FILE" > said.txt; echo working >> "$CCC_PROGRESS_FILE"; echo bye; exit 4'
    job = AgentJob(
        prompt_file=prompt,
        tree=tmp_path / "tree",
        env=env,
        log_file=tmp_path / "agent.log",
        timeout=30,
        stop=threading.Event(),
        confinement=confinement,
        on_tick=lambda: ticks.append(1),
        on_checklist=lambda _: None,
    )
    with confinement:
        outcome = CommandAgent(command).run(job)
    assert (outcome.ok, outcome.reason, outcome.log_tail) == (False, "the agent exited with status 4", "bye")
    assert (tmp_path / "tree" / "said.txt").read_text() == "say hi\n" and progress.read_text() == "working\n"
    assert ticks


def test_a_stop_request_kills_the_agent(tmp_path):
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    result = run(tmp_path, "sleep 60", stop=stop)
    assert result.stopped and not result.timed_out and not result.ok


def test_progress_lines_are_read_as_they_are_completed(tmp_path):
    path = tmp_path / "progress"
    tail = ProgressTail(path)
    assert tail.read_new() == []
    path.write_text("one\ntw")
    assert tail.read_new() == ["one"]
    with path.open("a") as fh:
        fh.write("o\n\nthree\n")
    assert tail.read_new() == ["two", "three"]
    assert tail.read_new() == []


def test_ticks_happen_while_the_agent_runs(tmp_path):
    ticks = []
    run(tmp_path, "sleep 0.5", on_tick=lambda: ticks.append(1), tick_seconds=0.05)
    assert len(ticks) >= 3
