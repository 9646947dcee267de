"""Body templates render in a sandbox confined to the manifest's directory; vars are data, never source."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccc.manifest.model import Problem
from ccc.manifest.render import BodyRenderer
from ccc.manifest.validate import MAX_BODY_LENGTH, Ref, TaskSpec
from ccc.manifest.yamltree import Pos


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def render(root: Path, template: str, source: str = ".github/ccc/tasks.yml", **vars):
    spec = TaskSpec(
        id="auth",
        source=source,
        pos=Pos(4, 5),
        title="Implement user authentication",
        worker="cc02",
        labels=(Ref("backend", Pos(1, 1)),),
        priority="high",
        template=Ref(template, Pos(7, 5)),
        vars=vars,
    )
    problems: list[Problem] = []
    body = BodyRenderer(root).render(spec, problems)
    return body, [str(problem) for problem in problems]


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A repository root whose manifest directory is .github/ccc."""
    (tmp_path / ".github/ccc").mkdir(parents=True)
    return tmp_path


def test_a_template_sees_its_vars_and_the_task(templates: Path):
    write(
        templates / ".github/ccc/t/auth.md.j2",
        "{{ task.title }} ({{ task.id }}) on {{ task.worker }}, {{ task.priority }}, {{ task.labels | join(',') }}\n"
        "{% for step in steps %}\n- {{ step }}\n{% endfor %}\n",
    )
    body, problems = render(templates, "t/auth.md.j2", steps=["sign", "verify"])
    assert problems == []
    assert body == "Implement user authentication (auth) on cc02, high, backend\n- sign\n- verify\n"


def test_template_syntax_in_a_var_value_stays_literal(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{{ note }} | {{ other }}")
    body, problems = render(templates, "auth.md.j2", note="{{ 7*7 }}", other="{% include '/etc/passwd' %}")
    assert problems == []
    assert body == "{{ 7*7 }} | {% include '/etc/passwd' %}"


def test_output_is_not_html_escaped(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{{ code }}")
    assert render(templates, "auth.md.j2", code="<b>a & b</b>")[0] == "<b>a & b</b>"


def test_an_undefined_variable_names_the_template_line_at_the_body_template_key(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "line one\n{{ algorithm }}\n")
    body, problems = render(templates, "auth.md.j2", algorithim="RS256")
    assert body is None
    assert problems == [
        ".github/ccc/tasks.yml:7:5: undefined variable at .github/ccc/auth.md.j2:2: "
        "'algorithm' is undefined (add it to `vars`)"
    ]


def test_a_syntax_error_names_the_template_line(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "ok\n\n{% if %}\n")
    _, problems = render(templates, "auth.md.j2")
    assert problems[0].startswith(".github/ccc/tasks.yml:7:5: template syntax error at .github/ccc/auth.md.j2:3: ")


def test_a_syntax_error_in_an_included_template_names_that_file(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{% include 'parts/steps.md.j2' %}")
    write(templates / ".github/ccc/parts/steps.md.j2", "one\n{{ oops }\n")
    _, problems = render(templates, "auth.md.j2")
    assert "template syntax error at .github/ccc/parts/steps.md.j2:2" in problems[0]


def test_a_missing_template_file_is_named(templates: Path):
    _, problems = render(templates, "nope.md.j2")
    assert problems == [".github/ccc/tasks.yml:7:5: template file '.github/ccc/nope.md.j2' not found"]


def test_includes_cannot_leave_the_manifest_directory(templates: Path):
    write(templates / "secret.txt", "token")
    write(templates / ".github/ccc/auth.md.j2", "{% include '../../secret.txt' %}")
    body, problems = render(templates, "auth.md.j2")
    assert body is None and "includes '../../secret.txt', which is not found" in problems[0]


def test_a_symlink_out_of_the_manifest_directory_is_not_followed(templates: Path):
    write(templates / "secret.txt", "token")
    (templates / ".github/ccc/auth.md.j2").symlink_to(templates / "secret.txt")
    body, problems = render(templates, "auth.md.j2")
    assert body is None and "not found" in problems[0]


def test_the_sandbox_refuses_unsafe_attribute_access(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    body, problems = render(templates, "auth.md.j2")
    assert body is None and "template error at .github/ccc/auth.md.j2:1: SecurityError" in problems[0]


def test_a_runtime_error_in_a_template_is_a_problem_not_a_crash(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "\n{{ 1 / zero }}")
    _, problems = render(templates, "auth.md.j2", zero=0)
    assert "template error at .github/ccc/auth.md.j2:2: ZeroDivisionError" in problems[0]


def test_a_rendered_body_too_long_for_an_issue_is_a_problem(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{% for i in range(n) %}{{ line }}\n{% endfor %}")
    body, problems = render(templates, "auth.md.j2", n=MAX_BODY_LENGTH // 10, line="0123456789")
    assert body is None and f"the rendered body is longer than {MAX_BODY_LENGTH} characters" in problems[0]


@pytest.mark.parametrize("expression", ["'x' * 10**12", "10**12 * [1]", "9 ** 999999"])
def test_operators_that_would_exhaust_memory_are_refused(templates: Path, expression: str):
    write(templates / ".github/ccc/auth.md.j2", f"{{{{ {expression} }}}}")
    body, problems = render(templates, "auth.md.j2")
    assert body is None and "SecurityError" in problems[0]


def test_ordinary_arithmetic_and_repetition_still_work(templates: Path):
    write(templates / ".github/ccc/auth.md.j2", "{{ '-' * 3 }} {{ 2 ** 10 }} {{ 6 * 7 }}")
    assert render(templates, "auth.md.j2") == ("--- 1024 42", [])


def test_templates_resolve_relative_to_each_manifest_file(templates: Path):
    write(templates / ".github/ccc/tasks/templates/x.md.j2", "from tasks/")
    body, problems = render(templates, "templates/x.md.j2", source=".github/ccc/tasks/more.yml")
    assert (body, problems) == ("from tasks/", [])
