"""Every malformed manifest in tests/manifests/bad gives its expected problem at file:line:col, exit 2.

A case is a file (loaded alone) or a folder (loaded with tasks.yml and tasks/*.yml). Its first lines
say what must be reported: `# expect: [file:]line:col message fragment`, file defaulting to the case file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ccc.cli import main
from ccc.manifest import ManifestError, load_manifests

BAD = Path(__file__).parent / "manifests" / "bad"
FOLDER_GLOBS = ("tasks.yml", "tasks/*.yml")
EXPECT = re.compile(r"# expect: (?:(?P<file>[^\s:]+):)?(?P<line>\d+):(?P<col>\d+) (?P<fragment>.+)")


@dataclass(frozen=True)
class Expected:
    file: str
    line: int
    col: int
    fragment: str


@dataclass(frozen=True)
class Case:
    root: Path
    globs: tuple[str, ...]
    expected: tuple[Expected, ...]


def load_case(path: Path) -> Case:
    if path.is_dir():
        root, globs, first_file = path, FOLDER_GLOBS, "tasks.yml"
    else:
        root, globs, first_file = path.parent, (path.name,), path.name
    head = (root / first_file).read_bytes().decode("utf-8", errors="replace").splitlines()
    matches = [EXPECT.fullmatch(line) for line in head if line.startswith("# expect:")]
    expected = tuple(
        Expected(m["file"] or first_file, int(m["line"]), int(m["col"]), m["fragment"]) for m in matches if m
    )
    return Case(root, globs, expected)


CASES = [pytest.param(load_case(path), id=path.name) for path in sorted(BAD.iterdir())]


def test_the_corpus_has_at_least_thirty_cases_each_with_an_expectation():
    assert len(CASES) >= 30
    assert all(param.values[0].expected for param in CASES)


@pytest.mark.parametrize("case", CASES)
def test_malformed_manifest_reports_the_expected_problem_at_its_position(case: Case):
    with pytest.raises(ManifestError) as raised:
        load_manifests(case.root, case.globs)
    problems = raised.value.problems
    for expected in case.expected:
        assert any(
            (p.file, p.line, p.col) == (expected.file, expected.line, expected.col) and expected.fragment in p.message
            for p in problems
        ), f"expected {expected}, got:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("case", CASES)
def test_ccc_validate_exits_2_and_prints_the_problem_on_stderr_only(case: Case, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    manifest_flags = [flag for glob in case.globs for flag in ("--manifest", glob)]

    exit_code = main(["validate", "--root", str(case.root), *manifest_flags])

    out, err = capsys.readouterr()
    assert exit_code == 2
    assert out == ""
    for expected in case.expected:
        assert f"{expected.file}:{expected.line}:{expected.col}: error: " in err
        assert expected.fragment in err
