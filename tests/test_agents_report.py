"""Turning what the stream said and how the process ended into one AgentReport."""

from __future__ import annotations

from typing import Any

from ccc.agents.progress import Step, StepStatus
from ccc.agents.report import Outcome, Stop, build_report
from ccc.agents.stream import StreamState
from ccc.agents.usage import TokenUsage


def state_with(result: dict[str, Any] | None = None, **fields: Any) -> StreamState:
    state = StreamState(result=result, **fields)
    state.progress.model = "claude-sonnet-4-5"
    return state


def success(**overrides: Any) -> dict[str, Any]:
    result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 3,
        "duration_ms": 1500,
        "total_cost_usd": 0.25,
        "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 5},
        "permission_denials": [],
        "result": "  All done.  ",
    }
    return result | overrides


def test_success_reports_the_result_line_figures() -> None:
    state = state_with(success())
    state.progress.files["a.py"] = Step("Write", "a.py", StepStatus.DONE)
    state.progress.files["b.py"] = Step("Edit", "b.py", StepStatus.FAILED)

    report = build_report(state, exit_code=0, wall_seconds=9.0, stop=None)

    assert report.ok and report.outcome is Outcome.COMPLETED and not report.is_error
    assert (report.turns, report.duration_seconds, report.cost_usd) == (3, 1.5, 0.25)
    assert report.tokens == TokenUsage(input=10, output=20, cache_read=5)
    assert report.files_changed == ("a.py",)
    assert report.summary == "All done."
    assert report.as_dict()["tokens"]["total"] == 35 and report.as_dict()["outcome"] == "completed"


def test_turn_limit_and_cli_budget_stop_are_limits_with_the_flag_to_raise() -> None:
    turns = build_report(
        state_with(success(subtype="error_max_turns", is_error=True, errors=["Reached maximum number of turns (2)"])),
        exit_code=1,
        wall_seconds=1,
        stop=None,
    )
    budget = build_report(
        state_with(success(subtype="error_max_budget_usd", is_error=True, errors=["Reached maximum budget ($0.01)"])),
        exit_code=1,
        wall_seconds=1,
        stop=None,
    )

    assert turns.outcome is Outcome.MAX_TURNS and "(2)" in turns.reason and "--max-turns" in turns.reason
    assert budget.outcome is Outcome.MAX_COST and "$0.01" in budget.reason and "--max-cost-usd" in budget.reason
    assert turns.outcome.is_limit and budget.outcome.is_limit


def test_api_error_reports_the_status_and_message() -> None:
    result = success(is_error=True, api_error_status=529, result="API Error: 529 Overloaded")

    report = build_report(state_with(result), exit_code=1, wall_seconds=1, stop=None)

    assert report.outcome is Outcome.API_ERROR and report.is_error
    assert report.reason == "Anthropic API error 529: API Error: 529 Overloaded"


def test_permission_denials_fail_a_run_that_says_success() -> None:
    denial = {"tool_name": "Bash", "tool_use_id": "t1", "tool_input": {"command": "rm -rf /"}}

    report = build_report(state_with(success(permission_denials=[denial])), exit_code=0, wall_seconds=1, stop=None)

    assert report.outcome is Outcome.PERMISSION_DENIED and not report.ok
    assert report.permission_denials == ("Bash rm -rf /",)


def test_other_errors_from_the_cli_are_agent_errors() -> None:
    report = build_report(
        state_with(success(subtype="error_during_execution", is_error=True, errors=["boom"])),
        exit_code=1,
        wall_seconds=1,
        stop=None,
    )

    assert report.outcome is Outcome.AGENT_ERROR and "boom" in report.reason


def test_a_run_without_a_result_line_uses_the_estimate_and_the_last_log_line() -> None:
    state = state_with(None, usage_by_message={"m1": TokenUsage(input=1_000_000)}, last_text="partial work")

    report = build_report(state, exit_code=2, wall_seconds=4.5, stop=None, log_tail="starting\nError: bad flag\n")

    assert report.outcome is Outcome.NO_RESULT
    assert report.reason == "claude exited with code 2 before reporting a result: Error: bad flag"
    assert (report.cost_usd, report.cost_is_estimate, report.duration_seconds) == (3.0, True, 4.5)
    assert report.summary == "partial work"


def test_a_wrapper_stop_wins_over_what_the_stream_said() -> None:
    stop = Stop(Outcome.TIMEOUT, "timed out after 5 s")

    report = build_report(state_with(success()), exit_code=-15, wall_seconds=5, stop=stop)

    assert (report.outcome, report.reason, report.is_error) == (Outcome.TIMEOUT, "timed out after 5 s", True)


def test_report_text_shows_the_figures_and_keeps_agent_text_inert() -> None:
    state = state_with(success(result="Fixes #1 @octocat\n```\n{{ 7 * 7 }}"))
    state.progress.files["src/a.py"] = Step("Write", "src/a.py", StepStatus.DONE)

    text = build_report(state, exit_code=0, wall_seconds=1, stop=None).render_markdown()

    assert "**Claude Code** (claude-sonnet-4-5): 3 turns, 1.5 s, $0.2500, 35 tokens" in text
    assert "```\nsrc/a.py\n```" in text
    assert "````markdown\nFixes #1 @octocat\n```\n{{ 7 * 7 }}\n````" in text
