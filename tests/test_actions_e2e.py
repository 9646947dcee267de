"""End to end: the real workflow files run under act on this machine (host mode, no Docker) against the sandbox.

The whole loop: a manifest push syncs issues and wakes the workers; the worker workflow's cc01 leg claims and
delivers its task; the scheduled manager run summarizes it. A pull request only plans.

A repository is made in the sandbox holding what the workflows use from ccc (the actions, their scripts, the
package they install) plus a task manifest, and act runs `.github/workflows/ccc-manager.yml` and
`ccc-worker.yml` in a clone of it: `runs-on` labels map to the host (`-P cc01=-self-hosted`), GitHub's URLs to
the sandbox (`--env GITHUB_API_URL=...`), and actions/checkout is skipped by act (it copies the clone), so
nothing is fetched from the network except the Python packages the setup step installs (uv's cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import github_client

ROOT = Path(__file__).resolve().parents[1]
ACT = Path(sys.executable).with_name("act")
UV = Path(sys.executable).with_name("uv")
# What the workflows take from the ccc repository: the actions, their scripts and the package they install.
CCC_FILES = (
    ".github/workflows/ccc-manager.yml",
    ".github/workflows/ccc-worker.yml",
    "worker-action",
    "manager-action",
    "action-scripts",
    "src/ccc",
    "pyproject.toml",
    "requirements.lock",
)
MANIFEST = """\
version: 1
tasks:
  - id: greeting
    title: Add a greeting
    body: Write a greeting into GREETING.md.
    worker: cc01
  - id: farewell
    title: Add a farewell
    body: Write a farewell into FAREWELL.md.
    worker: cc02
"""
BOT = "github-actions[bot]"  # the identity GITHUB_TOKEN has in Actions: the manager's issues are its own


@pytest.fixture
def repository(sandbox, tmp_path) -> Path:
    """A clone of the sandbox repository with the ccc files and a manifest committed and pushed to main."""
    clone = tmp_path / "widgets"
    git("clone", "--quiet", sandbox.clone_url("maintainer"), str(clone), cwd=tmp_path)
    copy_ccc_files(clone)
    (clone / ".github/ccc").mkdir(parents=True)
    (clone / ".github/ccc/tasks.yml").write_text(MANIFEST)
    git("add", "-A", cwd=clone)
    git("-c", "user.name=maintainer", "-c", "user.email=m@example.com", "commit", "--quiet", "-m", "ccc", cwd=clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
    # The clone's origin carries no token: the workflows get theirs as secrets, as on GitHub.
    git("remote", "set-url", "origin", f"{sandbox.git_url}/{sandbox.repo}.git", cwd=clone)
    return clone


def copy_ccc_files(target: Path) -> Path:
    for name in CCC_FILES:
        source, destination = ROOT / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination)
    return target


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def act_cache(tmp_path_factory) -> Path:
    """act's cache, which in host mode also holds the runner's tool cache: the ccc venv, built once per session."""
    return tmp_path_factory.mktemp("act-cache")


@pytest.fixture
def act(sandbox, repository, tmp_path, act_cache):
    return Act(sandbox, repository, tmp_path, act_cache)


class Act:
    """act in host mode on `repository`, with GitHub's URLs pointing at the sandbox."""

    def __init__(self, sandbox, repository: Path, workdir: Path, cache: Path):
        self.sandbox, self.repository, self.workdir, self.cache = sandbox, repository, workdir, cache
        bin_dir = workdir / "bin"  # uv on PATH makes the setup step take seconds, as on a prepared runner
        bin_dir.mkdir()
        if UV.exists():
            (bin_dir / "uv").symlink_to(UV)
        # Nothing of an outer Actions run (this suite in CI) may leak into the nested runs.
        outer = ("GITHUB_", "RUNNER_", "INPUT_", "CCC_", "ACTIONS_")
        self.env = {name: value for name, value in os.environ.items() if not name.startswith(outer)}
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        self.env["ACT_DISABLE_VERSION_CHECK"] = "1"  # act otherwise asks its makers' server for notices

    def run(self, event: str, payload: dict, *args: str) -> list[dict]:
        """One act run; its JSON log lines. Fails the test, with act's log, when the run fails."""
        event_file = self.workdir / f"{event}.json"
        event_file.write_text(json.dumps(payload))
        command = [
            str(ACT),
            event,
            "--json",
            "--eventpath",
            str(event_file),
            "--action-offline-mode",
            "--no-cache-server",  # no actions/cache server listening on the machine's address
            "--action-cache-path",
            str(self.cache),
            "-P",
            "ubuntu-latest=-self-hosted",
            "-P",
            "self-hosted=-self-hosted",
            "--env",
            f"GITHUB_API_URL={self.sandbox.api_url}",
            "--env",
            f"GITHUB_SERVER_URL={self.sandbox.git_url}",
            "--env",
            f"GITHUB_REPOSITORY={self.sandbox.repo}",
            "-s",
            f"GITHUB_TOKEN={self.sandbox.token(BOT)}",
            *args,
        ]
        done = subprocess.run(
            command,
            cwd=self.repository,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=240,
        )
        log = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert done.returncode == 0, f"act failed ({done.returncode}):\n{act_transcript(log)}\n{done.stderr[-4000:]}"
        return log


def act_transcript(log: list[dict]) -> str:
    return "\n".join(entry.get("msg", "").rstrip() for entry in log)[-12000:]


def outputs(log: list[dict]) -> dict[str, str]:
    """Every step output act recorded (the last value of each name)."""
    return {entry["name"]: entry["arg"] for entry in log if entry.get("command") == "set-output"}


def summaries(log: list[dict]) -> str:
    return "\n".join(entry["content"] for entry in log if entry.get("command") == "summary")


def issues(sandbox) -> dict[str, object]:
    client = github_client(sandbox)
    return {issue.title: issue for issue in client.get_repo(sandbox.repo).get_issues(state="all")}


def test_a_manifest_push_runs_the_manager_workflow_which_creates_the_issues(sandbox, act):
    push = {"ref": "refs/heads/main", "repository": {"full_name": sandbox.repo}}

    log = act.run("push", push, "-W", ".github/workflows/ccc-manager.yml")

    created = issues(sandbox)
    assert set(created) >= {"Add a greeting", "Add a farewell"}
    assert {label.name for label in created["Add a greeting"].labels} >= {"cc01"}
    assert {label.name for label in created["Add a farewell"].labels} >= {"cc02"}
    assert created["Add a greeting"].user.login == BOT
    step_outputs = outputs(log)
    assert step_outputs["created"] == "2"
    assert {row["task"] for row in json.loads(step_outputs["plan-json"])} >= {"greeting", "farewell"}
    assert "Add a greeting" in summaries(log)
    wake_up = [event["payload"] for event in sandbox.events("repository_dispatch")]
    assert [payload["action"] for payload in wake_up] == ["ccc-work"]


def test_a_pull_request_in_a_users_repository_plans_with_the_published_action_and_writes_nothing(
    sandbox, repository, act, tmp_path
):
    # The user's copy of the workflow names `org/ccc/manager-action@v1`; act resolves it to a local ccc
    # release instead of downloading it, and runs it as a remote action (its own directory, not the work tree).
    shutil.copy2(ROOT / "examples/workflows/ccc-manager.yml", repository / ".github/workflows/ccc-manager.yml")
    release = copy_ccc_files(tmp_path / "ccc-release")
    pull_request = {"number": 1, "pull_request": {"head": {"ref": "tasks"}, "base": {"ref": "main"}}}
    sandbox.reset_stats()

    log = act.run(
        "pull_request",
        pull_request,
        "-W",
        ".github/workflows/ccc-manager.yml",
        "--local-repository",
        f"org/ccc@v1={release}",
    )

    assert sandbox.stats()["writes"] == 0
    assert issues(sandbox) == {}
    assert outputs(log)["created"] == "2"
    summary = summaries(log)
    assert "Add a greeting" in summary and "Add a farewell" in summary
    assert any("org/ccc/manager-action@v1" in entry.get("msg", "") for entry in log)


def test_the_wake_up_has_cc01_deliver_its_task_and_the_scheduled_summary_counts_it(sandbox, repository, act):
    push = {"ref": "refs/heads/main", "repository": {"full_name": sandbox.repo}}
    act.run("push", push, "-W", ".github/workflows/ccc-manager.yml")
    dispatch = sandbox.events("repository_dispatch")[0]["payload"]  # GitHub's payload, as act is given it
    agent = (
        'printf "Hello from %s\\n" "$CCC_ISSUE_TITLE" > GREETING.md && echo "wrote GREETING.md" >> "$CCC_PROGRESS_FILE"'
    )

    log = act.run(
        "repository_dispatch",
        dispatch,
        "-W",
        ".github/workflows/ccc-worker.yml",
        "--matrix",
        "worker:cc01",
        "-P",
        "cc01=-self-hosted",
        "--var",
        f"CCC_AGENT_COMMAND={agent}",
    )

    task, other = issues(sandbox)["Add a greeting"], issues(sandbox)["Add a farewell"]
    assert {label.name for label in task.labels} >= {"completed", "ready-for-review"}
    assert "in-progress" not in {label.name for label in task.labels}
    assert not {"in-progress", "completed"} & {label.name for label in other.labels}
    pulls = list(github_client(sandbox).get_repo(sandbox.repo).get_pulls())
    assert len(pulls) == 1 and pulls[0].head.ref.startswith(f"ccc/{task.number}-")
    assert f"Closes #{task.number}" in pulls[0].body
    step_outputs = outputs(log)
    assert step_outputs["status"] == "delivered"
    assert step_outputs["issue"] == str(task.number)
    assert step_outputs["pr-url"] == pulls[0].html_url
    assert json.loads(step_outputs["result-json"])["tasks"][0]["status"] == "delivered"
    assert "Worker cc01: delivered" in summaries(log)
    delivered = git("show", f"{pulls[0].head.sha}:GREETING.md", cwd=fetch_branch(sandbox, repository, pulls[0]))
    assert delivered == "Hello from Add a greeting\n"

    log = act.run("schedule", {"schedule": "17 * * * *"}, "-W", ".github/workflows/ccc-manager.yml")

    summary = json.loads(outputs(log)["summary-json"])
    assert summary["counts"]["completed"] == 1 and summary["counts"]["ready"] == 1
    assert [(done["number"], done["worker"], done["pr"]) for done in summary["newly_completed"]] == [
        (task.number, "cc01", pulls[0].html_url)
    ]
    assert "```mermaid" in summaries(log)


def fetch_branch(sandbox, repository: Path, pull) -> Path:
    git("fetch", "--quiet", sandbox.clone_url(), pull.head.ref, cwd=repository)
    return repository
