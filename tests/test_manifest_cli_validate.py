"""`ccc validate`: an OK line or every problem, annotations in Actions, JSON on request; exit 0 or 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ccc.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"
BAD_TASK = "version: 1\ntasks:\n  - {id: a, title: A, body: a, priority: urgent}\n  - {id: b, title: B}\n"


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the examples at the default manifest paths."""
    shutil.copytree(EXAMPLES, tmp_path / ".github/ccc")
    return tmp_path


def write_bad_manifest(root: Path) -> None:
    """Only .github/ccc/tasks.yml, with two problems."""
    shutil.rmtree(root / ".github/ccc/tasks")
    (root / ".github/ccc/tasks.yml").write_text(BAD_TASK)


def test_valid_manifests_print_one_ok_line_and_exit_0(repo: Path, capsys):
    assert main(["validate", "--root", str(repo)]) == 0
    out, err = capsys.readouterr()
    assert out == "OK: 3 manifest files, 9 tasks (1 coordinated, with 2 parts)\n"
    assert err == ""


def test_the_root_defaults_to_the_current_directory(repo: Path, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 manifest files")


def test_manifest_globs_replace_the_defaults(repo: Path, capsys):
    assert main(["validate", "--root", str(repo), "--manifest", ".github/ccc/tasks/data*.yml"]) == 0
    assert capsys.readouterr().out == "OK: 1 manifest file, 2 tasks (0 coordinated, with 0 parts)\n"


def test_every_problem_is_printed_to_stderr_and_the_exit_code_is_2(repo: Path, capsys):
    write_bad_manifest(repo)
    assert main(["validate", "--root", str(repo)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        ".github/ccc/tasks.yml:3:42: error: invalid priority 'urgent': expected one of high, normal, low",
        ".github/ccc/tasks.yml:4:5: error: missing `body` (or `body_template`)",
    ]


def test_in_actions_each_problem_is_also_an_error_annotation_on_its_file_line_and_column(
    repo: Path, capsys, monkeypatch
):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write_bad_manifest(repo)
    assert main(["validate", "--root", str(repo)]) == 2
    out, err = capsys.readouterr()
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 2
    assert "file=.github/ccc/tasks.yml,line=3" in annotations[0] and "col=42" in annotations[0]
    assert annotations[0].endswith("::invalid priority 'urgent': expected one of high, normal, low")
    assert ".github/ccc/tasks.yml:4:5: error: missing `body`" in err


def test_json_output_lists_tasks_with_their_content_hashes(repo: Path, capsys):
    assert main(["validate", "--root", str(repo), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True and len(result["files"]) == 3
    auth = next(task for task in result["tasks"] if task["id"] == "auth")
    assert auth["worker"] == "cc02" and len(auth["content_hash"]) == 64


def test_json_output_lists_the_problems_on_failure(repo: Path, capsys):
    write_bad_manifest(repo)
    assert main(["validate", "--root", str(repo), "--json"]) == 2
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False
    assert result["problems"][1] == {
        "file": ".github/ccc/tasks.yml",
        "line": 4,
        "col": 5,
        "message": "missing `body` (or `body_template`)",
    }


def test_no_manifest_at_all_is_a_problem_with_exit_2(tmp_path: Path, capsys):
    assert main(["validate", "--root", str(tmp_path)]) == 2
    assert "no manifest files match .github/ccc/tasks.yml" in capsys.readouterr().err
