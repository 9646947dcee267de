"""Builders shared by the worker tests: unpaced clients on the sandbox, issues, worker settings, test agents."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from ccc.client import RepoClient
from ccc.isolation.confine import BASE_PYTHON, IsolationSettings
from ccc.protocol.claims import ClaimStore
from ccc.worker.settings import WorkerSettings
from conftest import github_client, repo_client

AGENT_SCRIPT = Path(__file__).parent / "agents" / "scripted.py"
BOT = "github-actions[bot]"
# The confinement the worker tests run agents in: the default one, plus the test agents' directory.
ISOLATED = IsolationSettings(read_only=(AGENT_SCRIPT.parent,))


def agent(*flags: str) -> str:
    """The shell command running the scripted test agent with `flags` (the bare interpreter: no venv needed)."""
    return shlex.join([str(BASE_PYTHON), str(AGENT_SCRIPT), *flags])


def client(sandbox, login: str = BOT, **overrides) -> RepoClient:
    """The client layer as the worker uses it (the bot's token), unpaced."""
    return repo_client(sandbox, login, **overrides)


github = github_client  # plain PyGithub for arranging and inspecting state


def allow_actions_to_open_pulls(sandbox) -> None:
    """What ccc's setup asks of a repository admin: let the Actions token open pull requests (the
    realistic sandbox, like GitHub, starts with it off)."""
    github(sandbox).requester.requestJsonAndCheck(
        "PUT", f"/repos/{sandbox.repo}/actions/permissions/workflow", input={"can_approve_pull_request_reviews": True}
    )


def settings(sandbox, workdir: Path, **overrides) -> WorkerSettings:
    """A worker's settings on a repository set up as ccc asks (Actions may open pull requests)."""
    allow_actions_to_open_pulls(sandbox)
    values = {
        "worker": "cc01",
        "repo": sandbox.repo,
        "token": sandbox.token(BOT),
        "api_url": sandbox.api_url,
        "git_url": sandbox.git_url,
        "workdir": workdir,
        "command": agent(),
        "write_pacing": 0,
        "progress_interval": 0,
        "trusted_authors": (),
        "manager_login": "maintainer",  # the tests' issues are made by the maintainer, as the manager's would be
        "lease": timedelta(minutes=5),
        "isolation": ISOLATED,
        **overrides,
    }
    return WorkerSettings(**values)


def claims(sandbox, **kwargs) -> ClaimStore:
    return ClaimStore(client(sandbox), **kwargs)


def labels_of(repo, number: int) -> set[str]:
    return {label.name for label in repo.get_issue(number).labels}


def comments_of(repo, number: int) -> list[str]:
    return [comment.body for comment in repo.get_issue(number).get_comments()]


def git(*args: str, cwd: Path | None = None) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    return subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def bare_repo(sandbox) -> str:
    owner, name = sandbox.repo.split("/")
    return str(sandbox.data_dir / "git" / owner / f"{name}.git")


def show_file(sandbox, branch: str, path: str) -> str:
    """A file's content on a branch, read from the sandbox's bare repository."""
    return git("--git-dir", bare_repo(sandbox), "show", f"refs/heads/{branch}:{path}")


def branches(sandbox) -> list[str]:
    out = git("--git-dir", bare_repo(sandbox), "for-each-ref", "--format=%(refname:short)", "refs/heads")
    return out.split()


def push_branch(sandbox, workdir: Path, branch: str, filename: str) -> None:
    """Push a branch with one extra file, as an earlier attempt would have left it."""
    clone = workdir / f"clone-{branch.replace('/', '-')}"
    git("clone", "--quiet", sandbox.clone_url(), str(clone))
    (clone / filename).write_text("earlier attempt\n")
    git("add", filename, cwd=clone)
    git("commit", "--quiet", "-m", "earlier attempt", cwd=clone)
    git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=clone)


def worker_process(
    sandbox, workdir: Path, name: str, *flags: str, env: dict | None = None, setup: bool = True
) -> subprocess.Popen:
    """`ccc worker run` as its own process, as a runner would start it (on a repository set up as ccc asks;
    `setup=False` when the test has set it up already, e.g. before injecting faults)."""
    if setup:
        allow_actions_to_open_pulls(sandbox)
    command = [
        sys.executable, "-m", "ccc", "worker", "run", "--worker", "cc01", "--repo", sandbox.repo,
        "--api-url", sandbox.api_url, "--git-url", sandbox.git_url, "--workdir", str(workdir / name),
        "--trusted-authors", "maintainer", "--manager-login", "maintainer", "--write-pacing", "0",
        "--progress-interval", "0", "--json", "--read-only-paths", str(AGENT_SCRIPT.parent), *flags,
    ]  # fmt: skip
    environment = {**os.environ, "GITHUB_TOKEN": sandbox.token(BOT), "GITHUB_RUN_ID": name,
                   "CCC_CACHE_DIR": str(workdir / name / "cache"), **(env or {})}  # fmt: skip
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def create_issues(sandbox, count: int, *, labels=("cc01",)) -> list[int]:
    repo = github(sandbox).get_repo(sandbox.repo)
    with ThreadPoolExecutor(8) as pool:
        made = pool.map(lambda i: repo.create_issue(title=f"Task {i}", body="do it", labels=list(labels)), range(count))
        return sorted(issue.number for issue in made)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
