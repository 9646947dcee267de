"""Reading Claude Code's stream-json lines into live progress, running cost and the final result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccc.agents.progress import StepStatus
from ccc.agents.stream import StreamParser

MODEL = "claude-sonnet-4-5-20250929"


def line(**event: Any) -> str:
    return json.dumps(event) + "\n"


def assistant(message_id: str, *blocks: dict[str, Any], input_tokens: int = 10, model: str = MODEL) -> str:
    usage = {"input_tokens": input_tokens, "output_tokens": 1}
    message = {"id": message_id, "model": model, "role": "assistant", "content": list(blocks), "usage": usage}
    return line(type="assistant", message=message)


def tool_use(tool_id: str, name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def tool_result(tool_id: str, *, is_error: bool = False) -> str:
    block = {"type": "tool_result", "tool_use_id": tool_id, "content": "ok", "is_error": is_error}
    return line(type="user", message={"role": "user", "content": [block]})


@pytest.fixture
def parser(tmp_path: Path) -> StreamParser:
    return StreamParser(tmp_path)


def test_init_line_names_the_model(parser: StreamParser) -> None:
    assert parser.feed(line(type="system", subtype="init", model=MODEL, tools=["Bash"]))
    assert parser.state.progress.model == MODEL


def test_file_tool_is_running_until_its_result_and_paths_are_relative_to_the_work_tree(
    parser: StreamParser, tmp_path: Path
) -> None:
    parser.feed(assistant("m1", tool_use("t1", "Write", file_path=str(tmp_path / "src" / "a.py"), content="x")))
    assert parser.state.progress.files["src/a.py"].status is StepStatus.RUNNING
    assert parser.state.progress.files_changed == []

    assert parser.feed(tool_result("t1"))

    assert parser.state.progress.files_changed == ["src/a.py"]


def test_failed_tool_result_marks_the_step_failed(parser: StreamParser) -> None:
    parser.feed(assistant("m1", tool_use("t1", "Bash", command="make\n  test")))
    parser.feed(tool_result("t1", is_error=True))

    [step] = parser.state.progress.commands
    assert (step.label, step.status) == ("make test", StepStatus.FAILED)


def test_read_is_not_a_change_and_files_outside_the_work_tree_stay_absolute(parser: StreamParser) -> None:
    parser.feed(
        assistant("m1", tool_use("t1", "Read", file_path="/etc/hosts"), tool_use("t2", "Edit", file_path="/etc/x"))
    )
    parser.feed(tool_result("t1"))
    parser.feed(tool_result("t2"))

    assert parser.state.progress.files_changed == ["/etc/x"]


def test_latest_todo_list_replaces_the_previous_one(parser: StreamParser) -> None:
    parser.feed(assistant("m1", tool_use("t1", "TodoWrite", todos=[{"content": "a", "status": "pending"}])))
    parser.feed(assistant("m2", tool_use("t2", "TodoWrite", todos=[{"content": "a", "status": "completed"}])))

    assert [(t.content, t.status) for t in parser.state.progress.todos] == [("a", "completed")]


def test_turns_count_distinct_messages_not_content_blocks(parser: StreamParser) -> None:
    parser.feed(assistant("m1", {"type": "text", "text": "thinking aloud"}))
    parser.feed(assistant("m1", tool_use("t1", "Bash", command="ls")))
    parser.feed(assistant("m2", {"type": "text", "text": "done"}))

    assert parser.state.progress.turns == 2
    assert parser.state.last_text == "done"


def test_running_cost_uses_the_final_output_count_from_message_delta(parser: StreamParser) -> None:
    start = {"id": "m1", "model": MODEL, "usage": {"input_tokens": 1_000_000, "output_tokens": 1}}
    parser.feed(line(type="stream_event", event={"type": "message_start", "message": start}))
    assert parser.state.progress.running_cost_usd == pytest.approx(3.0, rel=1e-3)

    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 100_000}}
    parser.feed(line(type="stream_event", event=delta))
    parser.feed(assistant("m1", {"type": "text", "text": "hi"}, input_tokens=1_000_000))  # same turn, counted once

    assert parser.state.usage.output == 100_000
    assert parser.state.progress.running_cost_usd == pytest.approx(3.0 + 1.5)


def test_api_error_message_is_kept_and_not_counted_as_a_turn(parser: StreamParser) -> None:
    error = {"id": "x", "model": "<synthetic>", "content": [{"type": "text", "text": "API Error: 500 boom"}]}
    parser.feed(line(type="assistant", message=error, is_api_error_message=True))

    assert parser.state.api_error == "API Error: 500 boom"
    assert parser.state.progress.turns == 0


def test_retries_and_denials_show_in_progress(parser: StreamParser) -> None:
    parser.feed(line(type="system", subtype="api_retry", attempt=1, max_retries=2, error_status=529))
    parser.feed(line(type="system", subtype="permission_denied", tool_name="Bash", message="needs approval"))

    assert parser.state.progress.api_retries == 1
    assert parser.state.progress.denials == ["Bash: needs approval"]


def test_result_line_is_kept_and_sets_the_turn_count(parser: StreamParser) -> None:
    assert parser.feed(line(type="result", subtype="success", num_turns=7, is_error=False, result="ok"))

    assert parser.state.result is not None and parser.state.progress.turns == 7


def test_lines_that_are_not_json_objects_are_skipped(parser: StreamParser) -> None:
    assert not parser.feed("warning: something\n")
    assert not parser.feed("[1, 2]\n")
    assert not parser.feed(line(type="system", subtype="status", status="requesting"))

    assert parser.state.unparsed_lines == 1
