"""The progress checklist shown in the issue's status comment."""

from __future__ import annotations

from ccc.agents.progress import MAX_COMMANDS_SHOWN, Progress, Step, StepStatus, TodoItem, inline_code, plain_text


def test_checklist_shows_files_commands_todos_and_denials() -> None:
    progress = Progress(model="claude-sonnet-4-5", turns=3, running_cost_usd=0.0123, api_retries=1)
    progress.files["src/a.py"] = Step("Write", "src/a.py", StepStatus.DONE)
    progress.commands.append(Step("Bash", "pytest -q", StepStatus.FAILED))
    progress.commands.append(Step("Bash", "ls"))
    progress.todos = [TodoItem("Fix the bug", "completed"), TodoItem("Add a test", "in_progress")]
    progress.denials.append("Bash: needs approval")

    text = progress.render_markdown()

    assert "(claude-sonnet-4-5): turn 3, about $0.0123 so far, 1 API retries." in text
    assert "- [x] `src/a.py`" in text
    assert "- [ ] `pytest -q` (failed)" in text and "- [ ] `ls`\n" in text
    assert "- [x] Fix the bug" in text and "- [ ] Add a test (in progress)" in text
    assert "- Bash: needs approval" in text


def test_finished_checklist_says_so() -> None:
    text = Progress(turns=4, running_cost_usd=0.5).render_markdown(done=True)

    assert text.startswith("**Claude Code** finished: turn 4, about $0.5000 spent.")


def test_only_the_latest_commands_are_listed() -> None:
    progress = Progress(commands=[Step("Bash", f"echo {n}", StepStatus.DONE) for n in range(40)])

    text = progress.render_markdown()

    assert f"(last {MAX_COMMANDS_SHOWN} of 40)" in text
    assert "`echo 39`" in text and "`echo 24`" not in text


def test_command_text_cannot_break_out_of_its_code_span() -> None:
    assert inline_code("echo `id`") == "`` echo `id` ``"
    assert inline_code("a ``b`` c\nd") == "``` a ``b`` c d ```"


def test_long_labels_are_cut_to_one_line() -> None:
    label = inline_code("x" * 500)

    assert len(label) < 170 and label.endswith("…`")


def test_agent_text_cannot_mention_people() -> None:
    assert plain_text("ping @octocat and @org/team") == "ping @\u200boctocat and @\u200borg/team"


def test_template_text_in_agent_output_stays_literal() -> None:
    progress = Progress(todos=[TodoItem("{{ 7 * 7 }} {% if 1 %}x{% endif %}", "pending")])

    assert "{{ 7 * 7 }} {% if 1 %}x{% endif %}" in progress.render_markdown()
