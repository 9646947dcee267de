"""`ccc demo`: the example project, its agent and manifests, and the whole scenario run end to end."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ccc.cli import main
from ccc.demo.example import build_tree, example_dir, generated_manifest, recipes
from ccc.demo.faults import PROFILES, fault_rules
from ccc.demo.fleet import MAX_RESTARTS, Fleet, WorkerPlan
from ccc.demo.run import Demo, DemoSettings, run_demo, settled
from ccc.errors import InputError
from ccc.manifest import load_manifests
from ccc.protocol.states import TaskState
from ccc.sandbox.process import SandboxProcess
from ccc.status import QueueStatus, TaskStatus
from conftest import github_client

EXAMPLE = example_dir()
AGENT = EXAMPLE / "agent.py"


def run_agent(workdir: Path, prompt: str, tmp_path: Path) -> subprocess.CompletedProcess:
    prompt_file, progress_file = tmp_path / "prompt.md", tmp_path / "progress.txt"
    prompt_file.write_text(prompt, encoding="utf-8")
    env = {**os.environ, "CCC_PROMPT_FILE": str(prompt_file), "CCC_PROGRESS_FILE": str(progress_file)}
    env["CCC_WORKDIR"] = str(workdir)
    return subprocess.run([sys.executable, str(AGENT)], cwd=workdir, env=env, capture_output=True, text=True)


def run_suite(workdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests"], cwd=workdir, capture_output=True, text=True
    )


@pytest.fixture
def tree(tmp_path) -> Path:
    return build_tree(EXAMPLE, tmp_path / "repository")


def test_the_example_project_suite_passes_as_shipped(tree):
    done = run_suite(tree)

    assert done.returncode == 0, done.stderr
    assert "Ran 3 tests" in done.stderr


def test_the_agent_implements_every_shipped_task_and_the_suite_verifies_each(tree, tmp_path):
    manifest = load_manifests(tree)
    workers_tasks = [task for task in manifest.tasks if not task.is_parent]

    for task in workers_tasks:
        done = run_agent(tree, f"# {task.title}\n\n{task.body}\n", tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    suite = run_suite(tree)

    expectations = sum(task.body.count("\nexpect: ") for task in workers_tasks)
    assert suite.returncode == 0, suite.stderr
    assert f"Ran {3 + expectations} tests" in suite.stderr
    progress = (tmp_path / "progress.txt").read_text().splitlines()
    assert progress[:3] == [
        "task: add normalize_whitespace to textkit/clean.py (2 expectations)",
        "wrote normalize_whitespace in textkit/clean.py",
        "wrote 2 tests in tests/test_clean.py",
    ]


def test_the_agent_is_idempotent_on_the_same_tree(tree, tmp_path):
    prompt = load_manifests(tree).by_id("slug").body
    run_agent(tree, prompt, tmp_path)
    first = (tree / "textkit" / "slug.py").read_text()

    run_agent(tree, prompt, tmp_path)

    assert (tree / "textkit" / "slug.py").read_text() == first


@pytest.mark.parametrize(
    ("block", "code"),
    [
        ("no block at all", 2),
        ("```textkit-task\nadd: frobnicate\nto: textkit/frob.py\n```", 3),
        ("```textkit-task\nadd: slugify\nto: ../outside.py\n```", 2),
        (
            "```textkit-task\nadd: slugify\nto: textkit/s.py\nexpect: __import__('os').system('touch pwned') == 0\n```",
            2,
        ),
        ("```textkit-task\nadd: slugify\nto: textkit/s.py\nexpect: slugify(open('x').read()) == ''\n```", 2),
    ],
    ids=["no-block", "unknown-recipe", "path-outside", "code-in-expectation", "call-in-argument"],
)
def test_the_agent_refuses_what_it_cannot_do_safely_and_writes_nothing(tree, tmp_path, block, code):
    before = sorted(path.relative_to(tree) for path in tree.rglob("*"))

    done = run_agent(tree, block, tmp_path)

    assert done.returncode == code
    assert sorted(path.relative_to(tree) for path in tree.rglob("*")) == before
    assert "giving up:" in (tmp_path / "progress.txt").read_text()


def test_the_shipped_manifest_has_a_chain_and_a_coordinated_task_over_three_workers(tree):
    manifest = load_manifests(tree)

    assert {task.worker for task in manifest.tasks if not task.is_parent} == {"cc01", "cc02", "cc03"}
    assert manifest.by_id("headline").depends_on == ("slug",)
    assert manifest.by_id("slug").depends_on == ("clean",)
    assert manifest.by_id("stats").parts == ("stats/counting", "stats/reading")
    assert {manifest.by_id(part).worker for part in manifest.by_id("stats").parts} == {"cc01", "cc02"}


def test_generated_tasks_load_spread_over_the_workers_and_chain(tmp_path):
    tree = build_tree(EXAMPLE, tmp_path / "repository", tasks=10, workers=4)

    manifest = load_manifests(tree)

    assert len(manifest.tasks) == 10
    assert [task.worker for task in manifest.tasks[:5]] == ["cc01", "cc02", "cc03", "cc04", "cc01"]
    assert manifest.by_id("t0004").depends_on == ("t0003",)
    assert len({task.body for task in manifest.tasks}) == 10  # each writes its own module


def test_generated_tasks_use_only_recipes_the_agent_knows():
    known = recipes((EXAMPLE / "tasks.yml").read_text())

    assert len(known) == 7
    with pytest.raises(InputError):
        generated_manifest(known, 0, 3)


def test_fault_profiles_escalate():
    assert fault_rules("none") == []
    assert {rule["kind"] for rule in fault_rules("flaky")} == {"status", "latency"}
    assert {rule["kind"] for rule in fault_rules("chaos")} >= {"status", "latency", "commit_then_fail", "reset"}
    with pytest.raises(InputError):
        fault_rules("apocalypse")
    assert set(PROFILES) == {"none", "flaky", "chaos"}


def test_settings_refuse_too_few_workers_for_the_shipped_tasks():
    with pytest.raises(InputError, match="--workers 3"):
        DemoSettings(workers=2)
    assert DemoSettings(workers=2, tasks=4).workers == 2


def test_the_command_line_rejects_bad_settings_before_starting_anything(tmp_path):
    assert main(["demo", "--workers", "2"]) == 2
    assert main(["demo", "--example", str(tmp_path), "--data", str(tmp_path / "data")]) == 2
    assert not (tmp_path / "data").exists()


def queue(*states: TaskState, parent: TaskState | None = None) -> QueueStatus:
    tasks = [TaskStatus(n, f"t{n}", "", state, "cc01", None, "") for n, state in enumerate(states, 1)]
    if parent:
        tasks.append(TaskStatus(99, "p", "", parent, None, None, "", is_parent=True))
    return QueueStatus("acme/widgets", datetime.now(timezone.utc), tuple(tasks))


def test_the_demo_settles_when_worker_tasks_are_final_or_wait_on_a_failed_one():
    assert settled(queue(TaskState.COMPLETED, TaskState.COMPLETED, parent=TaskState.READY))
    assert settled(queue(TaskState.FAILED, TaskState.BLOCKED))
    assert not settled(queue(TaskState.COMPLETED, TaskState.IN_PROGRESS))
    assert not settled(queue(TaskState.COMPLETED, TaskState.BLOCKED))  # its dependency is being unblocked
    assert not settled(queue())


# -- the whole scenario ---------------------------------------------------------------------------


def closed_issue(body: str) -> int | None:
    """The issue a PR body closes ("Closes #N")."""
    for line in body.splitlines():
        if line.startswith("Closes #"):
            return int(line.removeprefix("Closes #").split()[0])
    return None


@pytest.mark.slow
def test_the_demo_completes_every_task_with_one_pull_request_each_and_writes_the_dashboard(tmp_path):
    out = io.StringIO()

    result = run_demo(DemoSettings(pace=0, data_dir=tmp_path / "demo", terminal=False, keep=True), out=out)
    try:
        github = github_client(result.sandbox)
        pulls = list(github.get_repo("acme/widgets").get_pulls(state="all"))
    finally:
        result.sandbox.stop()

    log = out.getvalue()
    assert result.ok, log
    tasks = {task.task_id: task for task in result.status.tasks}
    assert set(tasks) == {
        "clean",
        "slug",
        "headline",
        "truncate",
        "initials",
        "stats",
        "stats/counting",
        "stats/reading",
    }
    assert all(task.state is TaskState.COMPLETED for task in tasks.values()), log
    workers = [task for task in tasks.values() if not task.is_parent]
    assert sorted(closed_issue(pull.body) for pull in pulls) == sorted(task.number for task in workers)
    dashboard = result.dashboard.read_text()
    assert "```mermaid" in dashboard
    assert all(f"#{task.number}" in dashboard for task in tasks.values())
    assert "all tasks completed" in log
    assert "\x1b[" not in log  # plain lines off a terminal
    assert "workers stopped: cc01, cc02, cc03\n" in log  # a stop we asked for is no error
    assert " -> completed" in log and "blocked -> completed" not in log  # no state skipped


def footer_commands(log: str) -> dict[str, str]:
    """The `name: command` lines of the --keep footer."""
    lines = log.split("The sandbox keeps running", 1)[1].splitlines()[1:]
    return {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines if line.startswith("  ")}


@pytest.mark.slow
def test_the_keep_footer_commands_work_when_pasted_and_the_browser_address_answers(tmp_path):
    out = io.StringIO()
    result = run_demo(DemoSettings(pace=0, keep=True, terminal=False), out=out)
    try:
        commands = footer_commands(out.getvalue())
        shell = {"cwd": tmp_path, "shell": True, "capture_output": True, "text": True, "env": demo_free_env()}
        clone = subprocess.run(commands["git"], **shell)
        status = subprocess.run(commands["status"], **shell)
        doctor = subprocess.run(commands["doctor"], **shell)
        with urllib.request.urlopen(commands["browse"], timeout=30) as page:
            html = page.read().decode()
    finally:
        result.sandbox.stop()
        shutil.rmtree(result.data_dir, ignore_errors=True)

    assert clone.returncode == 0, clone.stderr
    assert status.returncode == 0 and "8 tasks (8 completed)" in status.stdout, status.stderr
    assert doctor.returncode == 0 and "pass  claim-refs" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "Add normalize_whitespace" in html
    assert "rm -rf" in out.getvalue()  # stopping the kept sandbox removes its temporary data too


def demo_free_env() -> dict[str, str]:
    """The user's shell: no Actions variables, and ccc not on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not (Path(p) / "ccc").exists())
    return env


def test_an_interrupted_demo_leaves_no_temporary_data_and_nothing_running(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    started = []
    real_start = SandboxProcess.start

    def start(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxProcess, "start", start)
    monkeypatch.setattr(Demo, "run", interrupted)

    with pytest.raises(KeyboardInterrupt):
        run_demo(DemoSettings(pace=0, terminal=False), out=io.StringIO())

    assert not list(tmp_path.glob("ccc-demo-*"))
    assert started and started[0].proc is None  # the sandbox was stopped


# -- the worker fleet -----------------------------------------------------------------------------


class CrashingPlan(WorkerPlan):
    """A worker that fails at once, the way the CLI does: an `error:` line, then a non-zero exit."""

    def argv(self, sandbox, workdir: Path) -> list[str]:
        return [sys.executable, "-c", "import sys; print('error: boom'); sys.exit(3)"]


class Tokens:
    """Just enough of a sandbox for starting processes: a token per login."""

    def token(self, login: str) -> str:
        return f"token-of-{login}"


def test_a_crashed_worker_is_started_again_in_a_fresh_directory_until_its_restarts_run_out(tmp_path):
    fleet = Fleet(Tokens(), tmp_path)
    fleet.start(CrashingPlan("cc01", AGENT))
    reasons = []

    for _ in range(MAX_RESTARTS + 1):
        fleet.processes["cc01"].wait()
        reasons += fleet.restart_crashed()

    assert reasons == [("cc01", "exit 3: error: boom")] * MAX_RESTARTS
    assert fleet.running() == []
    assert len(list((tmp_path / "workers" / "cc01").glob("run-*"))) == MAX_RESTARTS + 1


@pytest.mark.slow
def test_chaos_always_shows_a_retry_and_still_completes_every_task_once(tmp_path):
    out = io.StringIO()

    result = run_demo(DemoSettings(pace=0, faults="chaos", data_dir=tmp_path / "demo", terminal=False), out=out)

    log = out.getvalue()
    assert result.ok, log
    assert "chaos: killed worker" in log
    assert any(task.attempt >= 2 for task in result.status.tasks), log
    assert "attempt 2" in log
