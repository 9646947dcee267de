"""The outcome of one agent run, in the terms the worker publishes: turns, duration, cost, tokens, files, summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ccc.agents.progress import Progress
from ccc.agents.stream import StreamState
from ccc.agents.usage import TokenUsage
from ccc.render import render

AGENT_NAME = "Claude Code"
REPORT_TEMPLATE = "agent_report.md.j2"


class Outcome(str, Enum):
    """Why the run ended. Only COMPLETED lets the worker deliver."""

    COMPLETED = "completed"
    MAX_TURNS = "max_turns"
    TIMEOUT = "timeout"
    MAX_COST = "max_cost"
    API_ERROR = "api_error"
    PERMISSION_DENIED = "permission_denied"
    AGENT_ERROR = "agent_error"
    NO_RESULT = "no_result"
    STOPPED = "stopped"  # the worker stopped it, e.g. because its lease on the task was lost

    @property
    def is_limit(self) -> bool:
        return self in (Outcome.MAX_TURNS, Outcome.TIMEOUT, Outcome.MAX_COST)


@dataclass(frozen=True)
class AgentReport:
    outcome: Outcome
    reason: str
    turns: int
    duration_seconds: float
    cost_usd: float
    cost_is_estimate: bool
    tokens: TokenUsage
    files_changed: tuple[str, ...]
    commands_run: tuple[str, ...]
    summary: str
    is_error: bool
    model: str = ""
    exit_code: int | None = None
    permission_denials: tuple[str, ...] = ()
    log_tail: str = ""
    progress: Progress = field(default_factory=Progress, repr=False, compare=False)  # the final checklist

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    def render_markdown(self, *, override_dir: str | None = None) -> str:
        """Figures, files and summary for the PR body and the completion comment."""
        return render(REPORT_TEMPLATE, override_dir=override_dir, agent=self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        """For the worker's JSON result and the action outputs."""
        return {
            "agent": AGENT_NAME,
            "outcome": self.outcome.value,
            "ok": self.ok,
            "reason": self.reason,
            "turns": self.turns,
            "duration_seconds": round(self.duration_seconds, 3),
            "cost_usd": round(self.cost_usd, 6),
            "cost_is_estimate": self.cost_is_estimate,
            "tokens": self.tokens.as_dict(),
            "files_changed": list(self.files_changed),
            "commands_run": len(self.commands_run),
            "summary": self.summary,
            "is_error": self.is_error,
            "model": self.model,
            "exit_code": self.exit_code,
            "permission_denials": list(self.permission_denials),
        }


@dataclass(frozen=True)
class Stop:
    """A limit the wrapper enforced by killing the agent, with the text that says so."""

    outcome: Outcome
    reason: str


def build_report(
    state: StreamState, *, exit_code: int | None, wall_seconds: float, stop: Stop | None, log_tail: str = ""
) -> AgentReport:
    """Combine what the stream said with how the process ended into one report."""
    result = state.result or {}
    outcome, reason = (stop.outcome, stop.reason) if stop else _classify(state, exit_code, log_tail)
    has_cost = isinstance(result.get("total_cost_usd"), (int, float))
    return AgentReport(
        outcome=outcome,
        reason=reason,
        turns=int(result.get("num_turns") or state.progress.turns),
        duration_seconds=float(result["duration_ms"]) / 1000 if result.get("duration_ms") else wall_seconds,
        cost_usd=float(result["total_cost_usd"]) if has_cost else state.estimated_cost_usd,
        cost_is_estimate=not has_cost,
        tokens=TokenUsage.from_api(result["usage"]) if result.get("usage") else state.usage,
        files_changed=tuple(state.progress.files_changed),
        commands_run=tuple(step.label for step in state.progress.commands),
        summary=str(result.get("result") or state.last_text or "").strip(),
        is_error=outcome is not Outcome.COMPLETED,
        model=state.progress.model,
        exit_code=exit_code,
        permission_denials=_denials(result),
        log_tail=log_tail,
        progress=state.progress,
    )


def _classify(state: StreamState, exit_code: int | None, log_tail: str) -> tuple[Outcome, str]:
    result = state.result
    if result is None:
        detail = state.api_error or _last_line(log_tail) or "no output"
        return Outcome.NO_RESULT, f"claude exited with code {exit_code} before reporting a result: {detail}"
    subtype = str(result.get("subtype") or "")
    errors = "; ".join(str(e) for e in result.get("errors") or []) or str(result.get("result") or subtype)
    if subtype == "error_max_turns":
        return Outcome.MAX_TURNS, f"turn limit reached: {errors} (raise --max-turns)"
    if subtype == "error_max_budget_usd":
        return Outcome.MAX_COST, f"cost cap reached: {errors} (raise --max-cost-usd)"
    if result.get("api_error_status"):
        return Outcome.API_ERROR, f"Anthropic API error {result['api_error_status']}: {errors}"
    if result.get("is_error") or subtype != "success":
        return Outcome.AGENT_ERROR, f"Claude Code reported an error ({subtype}): {errors}"
    if result.get("permission_denials"):
        return Outcome.PERMISSION_DENIED, "tool calls were denied: " + "; ".join(_denials(result)) + (
            " (allow the tool with --allowed-tools, or change the task)"
        )
    return Outcome.COMPLETED, "completed"


def _denials(result: dict[str, Any]) -> tuple[str, ...]:
    described = []
    for denial in result.get("permission_denials") or []:
        tool_input = denial.get("tool_input") or {}
        target = tool_input.get("command") or tool_input.get("file_path") or ""
        described.append(f"{denial.get('tool_name')} {target}".strip())
    return tuple(described)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
