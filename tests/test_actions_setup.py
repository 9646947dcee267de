"""action-scripts/setup.sh: one venv per ccc version and content under the runner's tool cache, built once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


@pytest.fixture
def action_checkout(tmp_path) -> Path:
    """What a runner downloads of ccc for `uses: org/ccc/worker-action@v1`: the files setup.sh reads."""
    checkout = tmp_path / "ccc"
    for name in ("action-scripts", "worker-action", "src/ccc"):
        shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, checkout / name)
    return checkout


def setup(checkout: Path, tool_cache: Path, **env: str) -> subprocess.Popen:
    output = tool_cache.parent / f"output-{len(list(tool_cache.parent.glob('output-*')))}"
    output.touch()
    bin_dir = tool_cache.parent / "bin"  # uv on PATH, as on a prepared runner; without it pip does the same, slower
    bin_dir.mkdir(exist_ok=True)
    if UV.exists() and not (bin_dir / "uv").exists():
        (bin_dir / "uv").symlink_to(UV)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "VIRTUAL_ENV"))},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTION_PATH": str(checkout / "worker-action"),
        "RUNNER_TOOL_CACHE": str(tool_cache),
        "GITHUB_OUTPUT": str(output),
        **env,
    }
    process = subprocess.Popen(
        ["bash", str(checkout / "action-scripts/setup.sh")],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.output_file = output
    return process


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    """Exit code, log, and the `python` step output."""
    log, _ = process.communicate(timeout=300)
    lines = process.output_file.read_text().splitlines()
    python = next((line.removeprefix("python=") for line in lines if line.startswith("python=")), "")
    return process.returncode, log, python


def test_jobs_starting_together_build_one_venv_and_later_runs_reuse_it(action_checkout, tmp_path):
    cache = tmp_path / "tool-cache"

    first, second = setup(action_checkout, cache), setup(action_checkout, cache)
    (code_1, log_1, python_1), (code_2, log_2, python_2) = finish(first), finish(second)
    code_3, log_3, python_3 = finish(setup(action_checkout, cache))

    assert (code_1, code_2, code_3) == (0, 0, 0), log_1 + log_2 + log_3
    assert python_1 == python_2 == python_3
    assert [path.name for path in (cache / "ccc").iterdir()] == [Path(python_1).parents[1].name]
    assert Path(python_1).parents[1].name.startswith("0.1.0-py")
    assert "reusing" in log_3
    version = subprocess.run([python_3, "-m", "ccc", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "ccc 0.1.0"


def test_a_change_to_the_sources_gets_a_venv_of_its_own(action_checkout, tmp_path):
    cache = tmp_path / "tool-cache"
    _, _, before = finish(setup(action_checkout, cache))
    module = action_checkout / "src/ccc/render.py"
    module.write_text(module.read_text() + "\n# changed\n")

    code, log, after = finish(setup(action_checkout, cache))

    assert code == 0, log
    assert after != before and Path(after).exists()
    installed = next(Path(after).parents[1].glob("lib/python*/site-packages/ccc/render.py"))
    assert "# changed" in installed.read_text()


def test_without_python_the_step_fails_saying_what_to_install(action_checkout, tmp_path):
    code, log, python = finish(setup(action_checkout, tmp_path / "tool-cache", CCC_SETUP_PYTHON="no-such-python3"))

    assert code == 1 and python == ""
    assert "::error title=ccc setup::no no-such-python3 on PATH: install Python 3.10 or newer" in log


def test_a_python_older_than_3_10_is_refused_by_name(action_checkout, tmp_path):
    old_python = tmp_path / "python3.9"  # answers like Python 3.9 would to setup.sh's two questions
    old_python.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.9.18" && exit 0\nexit 1\n')
    old_python.chmod(0o755)

    code, log, _ = finish(setup(action_checkout, tmp_path / "tool-cache", CCC_SETUP_PYTHON=str(old_python)))

    assert code == 1
    assert "Python 3.9.18 is too old: ccc needs Python 3.10 or newer" in log
