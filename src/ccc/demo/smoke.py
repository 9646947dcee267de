"""A smoke scenario on a fresh sandbox: the API through PyGithub and git over HTTP, end to end.

It shows a newcomer (and CI) that the stand-in behaves like GitHub for both clients ccc relies on:
labels, an issue and a comment through the client layer; clone, branch, commit and push through
the real git binary; a pull request for the pushed branch.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ccc.client import connect
from ccc.protocol.markers import comment_marker
from ccc.protocol.states import Labels, worker_label_spec
from ccc.sandbox.process import SandboxProcess

GIT_IDENTITY = ["-c", "user.name=ccc smoke", "-c", "user.email=smoke@example.com"]


def run_smoke(*, say: Callable[[str], None] = print, data_dir: Path | None = None) -> dict:
    """Run the scenario; returns what it made (issue, comment, branch, PR)."""
    with tempfile.TemporaryDirectory(prefix="ccc-smoke-") as scratch:
        root = Path(data_dir or scratch)
        with SandboxProcess.start(root / "sandbox") as sandbox:
            say(f"sandbox up: {sandbox.api_url} (repo {sandbox.repo})")
            client = connect(repo=sandbox.repo, api_url=sandbox.api_url, token=sandbox.token("maintainer"))
            for spec in [*Labels().specs(), worker_label_spec("cc02")]:
                client.create_label(spec.name, spec.color, spec.description)
            say(f"labels: {len(client.list_labels())} in the repository")
            issue = client.create_issue(
                title="Implement user authentication",
                body="Add JWT-based auth to the API\n<!-- smoke -->",
                labels=["cc02", "backend", "priority-high"],
                marker="<!-- smoke -->",
            )
            say(f"issue #{issue.number}: {issue.title} {list(issue.labels)}")
            marker = comment_marker("smoke", issue.number, "1")
            comment = client.create_comment(issue.number, f"Task claimed by CC02\n{marker}", marker=marker)
            say(f"comment {comment.id} on #{issue.number}")
            branch = f"ccc/{issue.number}-implement-user-authentication"
            work = root / "clone"
            git = ["git", *GIT_IDENTITY, "-C", str(work)]
            # The token is in the URL only for this local, throwaway sandbox.
            subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(work)], check=True)
            subprocess.run([*git, "checkout", "-q", "-b", branch], check=True)
            (work / "auth.py").write_text('"""JWT auth."""\n')
            subprocess.run([*git, "add", "auth.py"], check=True)
            subprocess.run([*git, "commit", "-q", "-m", f"Add auth module (#{issue.number})"], check=True)
            subprocess.run([*git, "push", "-q", "origin", branch], check=True)
            say(f"pushed {branch} at {client.branch_sha(branch)[:12]}")
            pull = client.create_pull(head=branch, base="main", title=issue.title, body=f"Closes #{issue.number}")
            say(f"pull request #{pull.number}: {pull.html_url}")
            say(f"requests used: {client.counter.total} ({client.counter.by_operation()})")
            return {
                "issue": issue.number,
                "comment": comment.id,
                "branch": branch,
                "pull": pull.number,
                "requests": client.counter.snapshot(),
            }
