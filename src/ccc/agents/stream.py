"""Reader of Claude Code's `--output-format stream-json` lines: live progress, running cost, and the final result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccc.agents.pricing import price_for
from ccc.agents.progress import Progress, Step, StepStatus, TodoItem, one_line
from ccc.agents.usage import TokenUsage

# Tools whose input names a file they change; Read is left out on purpose (it touches nothing).
FILE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path"}
COMMAND_TOOLS = {"Bash": "command"}
TODO_TOOL = "TodoWrite"
# The CLI stands in a message of its own ("<synthetic>") when an API call fails; it is not a model turn.
SYNTHETIC_MODEL = "<synthetic>"


@dataclass
class StreamState:
    """Everything read from the stream so far."""

    progress: Progress = field(default_factory=Progress)
    usage_by_message: dict[str, TokenUsage] = field(default_factory=dict)
    model_by_message: dict[str, str] = field(default_factory=dict)
    pending: dict[str, Step] = field(default_factory=dict)
    last_text: str = ""
    api_error: str = ""
    result: dict[str, Any] | None = None
    unparsed_lines: int = 0

    @property
    def usage(self) -> TokenUsage:
        return sum(self.usage_by_message.values(), TokenUsage())

    @property
    def estimated_cost_usd(self) -> float:
        return sum(
            price_for(self.model_by_message.get(message_id, self.progress.model)).cost_usd(usage)
            for message_id, usage in self.usage_by_message.items()
        )


class StreamParser:
    """Feed it the CLI's stdout line by line; it keeps `state` current and says when the checklist changed."""

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir).resolve()
        self.state = StreamState()
        self._current_message = ""

    def feed(self, line: str) -> bool:
        """Read one line; True when something shown in the checklist changed."""
        try:
            event = json.loads(line)
        except ValueError:
            self.state.unparsed_lines += 1  # the CLI may print a stray warning; the stream goes on
            return False
        if not isinstance(event, dict):
            return False
        handler = getattr(self, f"_on_{event.get('type')}", None)
        return bool(handler(event)) if handler else False

    def _on_system(self, event: dict[str, Any]) -> bool:
        subtype = event.get("subtype")
        progress = self.state.progress
        if subtype == "init":
            progress.model = str(event.get("model") or "")
            return True
        if subtype == "api_retry":
            progress.api_retries += 1
            return True
        if subtype == "permission_denied":
            progress.denials.append(f"{event.get('tool_name')}: {event.get('message') or 'denied'}")
            return True
        return False

    def _on_stream_event(self, event: dict[str, Any]) -> bool:
        """Partial-message events: the only place the output token count of a turn appears while it runs."""
        inner = event.get("event") or {}
        if inner.get("type") == "message_start":
            message = inner.get("message") or {}
            self._current_message = str(message.get("id") or event.get("api_message_id") or "")
            self._record_usage(self._current_message, message.get("model"), message.get("usage"))
            self.state.progress.turns = len(self.state.usage_by_message)
            return self._refresh_cost()
        elif inner.get("type") == "message_delta" and self._current_message:
            self._update_usage(self._current_message, inner.get("usage"))
            return self._refresh_cost()
        return False

    def _on_assistant(self, event: dict[str, Any]) -> bool:
        message = event.get("message") or {}
        if message.get("model") == SYNTHETIC_MODEL:
            self.state.api_error = _text_of(message)
            return False
        message_id = str(message.get("id") or "")
        if message_id not in self.state.usage_by_message:
            self._record_usage(message_id, message.get("model"), message.get("usage"))
        self.state.progress.turns = len(self.state.usage_by_message)
        for block in message.get("content") or []:
            if block.get("type") == "text" and block.get("text", "").strip():
                self.state.last_text = block["text"]
            elif block.get("type") == "tool_use":
                self._start_tool(block)
        self._refresh_cost()
        return True

    def _on_user(self, event: dict[str, Any]) -> bool:
        content = (event.get("message") or {}).get("content")
        blocks = content if isinstance(content, list) else []  # a plain-string content holds no tool results
        results = [block for block in blocks if block.get("type") == "tool_result"]
        changed = False
        for block in results:
            step = self.state.pending.pop(str(block.get("tool_use_id")), None)
            if step is not None:
                step.status = StepStatus.FAILED if block.get("is_error") else StepStatus.DONE
                changed = True
        return changed

    def _on_result(self, event: dict[str, Any]) -> bool:
        self.state.result = event
        self.state.progress.turns = int(event.get("num_turns") or self.state.progress.turns)
        return True

    def _start_tool(self, block: dict[str, Any]) -> None:
        name, tool_input = str(block.get("name")), block.get("input") or {}
        if name == TODO_TOOL:
            self.state.progress.todos = _todos(tool_input)
            return
        if name in FILE_TOOLS and tool_input.get(FILE_TOOLS[name]):
            path = self._relative(str(tool_input[FILE_TOOLS[name]]))
            step = self.state.progress.files.setdefault(path, Step(name, path))
            step.status = StepStatus.RUNNING
        elif name in COMMAND_TOOLS and tool_input.get(COMMAND_TOOLS[name]):
            step = Step(name, one_line(str(tool_input[COMMAND_TOOLS[name]])))
            self.state.progress.commands.append(step)
        else:
            return
        self.state.pending[str(block.get("id"))] = step

    def _relative(self, path: str) -> str:
        """Paths inside the work tree as the PR shows them; others stay absolute so they stand out."""
        try:
            return Path(path).resolve().relative_to(self.workdir).as_posix()
        except ValueError:
            return path

    def _record_usage(self, message_id: str, model: Any, usage: dict[str, Any] | None) -> None:
        self.state.usage_by_message[message_id] = TokenUsage.from_api(usage)
        if model:
            self.state.model_by_message[message_id] = str(model)

    def _update_usage(self, message_id: str, usage: dict[str, Any] | None) -> None:
        """message_delta carries the final output count, and other counts only when they changed."""
        known = self.state.usage_by_message.get(message_id, TokenUsage())
        fresh = {key: value for key, value in (usage or {}).items() if value is not None}
        merged = {
            "input_tokens": known.input,
            "output_tokens": known.output,
            "cache_read_input_tokens": known.cache_read,
            "cache_creation_input_tokens": known.cache_creation,
        } | fresh
        self.state.usage_by_message[message_id] = TokenUsage.from_api(merged)

    def _refresh_cost(self) -> bool:
        self.state.progress.running_cost_usd = self.state.estimated_cost_usd
        return True


def _todos(tool_input: dict[str, Any]) -> list[TodoItem]:
    todos = tool_input.get("todos")
    return [
        TodoItem(str(item.get("content") or ""), str(item.get("status") or "pending"))
        for item in (todos if isinstance(todos, list) else [])
        if isinstance(item, dict)
    ]


def _text_of(message: dict[str, Any]) -> str:
    return "\n".join(block.get("text", "") for block in message.get("content") or [] if block.get("type") == "text")
