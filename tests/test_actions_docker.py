"""The Docker action without a Docker engine: the image's files laid out as its COPY lines say, its ENTRYPOINT run
with the environment the runner gives a Docker action (INPUT_<NAME> with `-` kept, the workspace as working dir).

The image itself is not built here (no Docker engine on these machines): hadolint lints the Dockerfile in
`make lint`, and the Python dependencies come from the same lock the image installs.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines() if line.strip()]


def docker_ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (last matching pattern wins)."""
    ignored = False
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").replace("**/", "*").replace("/**", "/*")
        if fnmatch.fnmatch(path, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parents(path)):
            ignored = not negated
    return ignored


def parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@pytest.fixture
def image(tmp_path) -> tuple[Path, dict[str, str], list[str]]:
    """The image's file system (its COPY lines, under tmp_path), its ENV and its ENTRYPOINT."""
    root, workdir, env, entrypoint = tmp_path / "image", "/", {}, []
    for instruction, arguments in instructions():
        if instruction == "WORKDIR":
            workdir = arguments.strip()
        elif instruction == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(arguments)))
        elif instruction == "ENTRYPOINT":
            entrypoint = json.loads(arguments)
        elif instruction == "COPY":
            *sources, destination = shlex.split(arguments)
            target = root / workdir.lstrip("/") / destination
            for source in sources:
                copy_into_image(source, target, into_directory=destination.endswith("/"))
    return root, env, entrypoint


def copy_into_image(source: str, target: Path, *, into_directory: bool) -> None:
    """COPY's rules for our cases: a directory's contents into the target; a file to `target/` or as `target`."""
    path = ROOT / source
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for file in files:
        relative = file.relative_to(ROOT).as_posix()
        if "__pycache__" in relative or docker_ignored(relative):
            continue
        if path.is_dir():
            destination = target / file.relative_to(path)
        else:
            destination = target / file.name if into_directory else target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)


def run_container(image, workspace: Path, inputs: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """The ENTRYPOINT, as the runner starts a Docker action: every input (defaults filled in) as INPUT_<NAME>."""
    root, image_env, entrypoint = image
    action_inputs = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    defaults = {name: evaluate(str(spec.get("default", ""))) for name, spec in action_inputs.items()}
    given = {**defaults, **inputs}
    (tmp_path / "output.txt").touch()  # the runner creates the file command files
    env = {key: value for key, value in os.environ.items() if not key.startswith(("INPUT_", "GITHUB_"))}
    env.update({key: value.replace("/opt/ccc", str(root / "opt/ccc")) for key, value in image_env.items()})
    env.update({f"INPUT_{name.upper()}": value for name, value in given.items()})
    env.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(tmp_path / "output.txt"), GITHUB_WORKSPACE=str(workspace))
    program, *args = entrypoint
    assert program == "python"
    args = [arg.replace("/opt/ccc", str(root / "opt/ccc")) for arg in args]
    return subprocess.run([sys.executable, *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=60)


def evaluate(default: str) -> str:
    """The runner's value for the expressions the action's defaults use."""
    context = {"github.token": "ghs_test", "github.repository": "acme/widgets", "github.api_url": "http://api"}
    return re.sub(r"\$\{\{ (\S+) \}\}", lambda match: context[match.group(1)], default)


@pytest.fixture
def workspace(tmp_path) -> Path:
    path = tmp_path / "workspace"
    (path / ".github/ccc").mkdir(parents=True)
    return path


def test_the_image_holds_the_package_and_the_entry_point_and_nothing_else_of_the_repository(image):
    root, env, entrypoint = image
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert "opt/ccc/requirements.lock" in files
    assert "opt/ccc/action-scripts/run.py" in files
    assert "opt/ccc/src/ccc/cli/__init__.py" in files
    assert all(f.startswith(("opt/ccc/src/ccc/", "opt/ccc/action-scripts/", "opt/ccc/requirements")) for f in files)
    assert env["PYTHONPATH"] == "/opt/ccc/src"
    assert entrypoint == ["python", "/opt/ccc/action-scripts/run.py", "manager"]


def test_the_container_validates_the_workspace_manifest_and_sets_its_result(image, workspace, tmp_path):
    (workspace / ".github/ccc/tasks.yml").write_text(
        "version: 1\ntasks:\n  - id: a\n    title: A\n    body: do A\n    worker: cc01\n"
    )

    done = run_container(image, workspace, {"command": "validate"}, tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::add-mask::ghs_test\n")  # the token is masked before anything runs
    assert json.loads(done.stdout[done.stdout.index("{") :])["ok"] is True
    assert "result-json<<" in (tmp_path / "output.txt").read_text()


def test_a_manifest_error_in_the_container_is_an_annotation_on_its_line_and_exit_code_2(image, workspace, tmp_path):
    (workspace / ".github/ccc/tasks.yml").write_text("version: 1\ntasks:\n  - id: a\n    titel: A\n")

    done = run_container(image, workspace, {"command": "validate"}, tmp_path)

    assert done.returncode == 2
    assert re.search(r"^::error .*file=\.github/ccc/tasks\.yml,line=4,.*unknown key 'titel'", done.stdout, flags=re.M)
