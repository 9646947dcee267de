"""The README's quick start, run as written: `make demo`, then `ccc doctor` and the example workflows on a
repository (the sandbox's, standing in for the reader's: OWNER/NAME, the token and the clone's path are
the only words replaced)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def quick_start_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- quick-start -->", 1)[1].split("<!-- /quick-start -->", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def reader_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CCC_"))}
    names = {"GIT_AUTHOR_NAME": "Reader", "GIT_COMMITTER_NAME": "Reader"}
    emails = {"GIT_AUTHOR_EMAIL": "reader@example.com", "GIT_COMMITTER_EMAIL": "reader@example.com"}
    return {**env, **names, **emails, **extra}


def test_the_quick_start_has_the_three_steps():
    blocks = quick_start_blocks()
    assert [block.strip().splitlines()[0] for block in blocks] == [
        "make demo",
        "CCC=$PWD                                  # this clone of ccc",
        "cd path/to/your/clone",
    ]


@pytest.mark.slow
def test_step_one_make_demo_runs_as_written():
    done = bash(quick_start_blocks()[0], reader_env())

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "all tasks completed" in done.stdout


def test_steps_two_and_three_doctor_and_the_example_workflows_run_as_written(sandbox, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(clone)], check=True)
    script = "\n".join(quick_start_blocks()[1:])
    for placeholder, value in {
        "OWNER/NAME": sandbox.repo,
        "path/to/your/clone": str(clone),
        "github_pat_XXXX": sandbox.token("maintainer"),
    }.items():
        script = script.replace(placeholder, value)

    done = bash(script, reader_env(GITHUB_API_URL=sandbox.api_url))

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("pass  claim-refs") == 2  # the doctor of step 2 and the one of step 3
    assert "OK: 1 manifest file, 6 tasks" in done.stdout  # ccc validate
    assert "pass  manifest      8 tasks valid (read from HEAD" in done.stdout
    pushed = subprocess.run(
        ["git", "ls-remote", sandbox.clone_url(), "refs/heads/main"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert pushed == subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True,
                                    text=True, check=True).stdout.strip()  # fmt: skip
