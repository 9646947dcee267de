"""What the agent is doing, as a checklist for the issue's status comment: files touched, commands run, todo items."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from ccc.render import render
from ccc.untrusted import neutralise

PROGRESS_TEMPLATE = "claude_code_progress.md.j2"
# A status comment must stay readable and far below GitHub's 65536-character limit.
MAX_COMMANDS_SHOWN = 15
MAX_LABEL_CHARS = 160


class StepStatus(str, Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def box(self) -> str:
        return "[x]" if self is StepStatus.DONE else "[ ]"


@dataclass
class Step:
    """One tool call the agent made, until its result arrives and after."""

    tool: str
    label: str
    status: StepStatus = StepStatus.RUNNING


@dataclass(frozen=True)
class TodoItem:
    content: str
    status: str  # pending, in_progress or completed, as the agent's todo tool says

    @property
    def box(self) -> str:
        return "[x]" if self.status == "completed" else "[ ]"


@dataclass
class Progress:
    """The live state of one agent run, built from its stream and rendered into the status comment."""

    model: str = ""
    turns: int = 0
    running_cost_usd: float = 0.0
    api_retries: int = 0
    files: dict[str, Step] = field(default_factory=dict)
    commands: list[Step] = field(default_factory=list)
    todos: list[TodoItem] = field(default_factory=list)
    denials: list[str] = field(default_factory=list)

    @property
    def files_changed(self) -> list[str]:
        return [path for path, step in self.files.items() if step.status is StepStatus.DONE]

    def render_markdown(self, *, done: bool = False, override_dir: str | None = None) -> str:
        """The checklist; `done` once the agent has exited, so the header stops saying it is working."""
        return render(
            PROGRESS_TEMPLATE,
            override_dir=override_dir,
            progress=self,
            done=done,
            files=[(step.status.box, inline_code(path), step.status.value) for path, step in self.files.items()],
            commands=[(step.status.box, inline_code(step.label), step.status.value) for step in self.commands],
            hidden_commands=max(0, len(self.commands) - MAX_COMMANDS_SHOWN),
            todos=[(item.box, plain_text(item.content), item.status) for item in self.todos],
            denials=[plain_text(denial) for denial in self.denials],
            max_commands=MAX_COMMANDS_SHOWN,
        )


def one_line(text: str) -> str:
    """Collapse whitespace and cut to MAX_LABEL_CHARS: a checklist item is one short line."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_LABEL_CHARS else line[: MAX_LABEL_CHARS - 1] + "…"


def inline_code(text: str) -> str:
    """A markdown code span that the text cannot break out of, however many backticks it holds."""
    line = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if longest else ""
    return f"{fence}{padding}{line}{padding}{fence}"


def plain_text(text: str) -> str:
    """Agent-written text shown as is, except that it cannot mention, close, reference or embed (see untrusted)."""
    return neutralise(one_line(text))
