"""GitHub Actions I/O: outputs, job summary, annotations, masking.

The only module that talks the runner's workflow-command protocol. Outside Actions
(no GITHUB_ACTIONS) annotations become plain stderr lines and outputs/summaries are skipped,
so the same code serves the CLI.
"""

from __future__ import annotations

import json
import os
import sys

from actions_toolkit import core
from actions_toolkit.command import issue_command

# The runner refuses step summaries above 1 MiB; stay clearly under it.
SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotate(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    col: int | None = None,
    title: str | None = None,
) -> None:
    """An error/warning/notice annotation in Actions; `file:line:col: level: message` elsewhere."""
    if in_actions():
        # issue_command directly: actions-toolkit's helpers emit every property, empty ones included.
        props = {k: v for k, v in {"title": title, "file": file, "line": line, "col": col}.items() if v is not None}
        issue_command(level, props, message)
        return
    where = ":".join(str(p) for p in (file, line, col) if p is not None)
    print(f"{where + ': ' if where else ''}{level}: {message}", file=sys.stderr)


def mask(secret: str | None) -> None:
    """Ask the runner to mask a secret in all later log lines."""
    if secret and in_actions():
        core.set_secret(secret)


def set_output(name: str, value: object) -> None:
    """Set a step output (JSON for non-strings); no-op outside Actions."""
    if os.environ.get("GITHUB_OUTPUT"):
        core.set_output(name, value if isinstance(value, str) else json.dumps(value))


def append_summary(markdown: str) -> None:
    """Append markdown to the job summary, truncated under the runner's size limit."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    data = markdown.encode()
    if len(data) > SUMMARY_LIMIT_BYTES:
        note = "\n\n_(summary truncated to fit GitHub's 1 MiB job summary limit)_\n"
        data = data[: SUMMARY_LIMIT_BYTES - len(note)].decode(errors="ignore").encode() + note.encode()
    with open(path, "ab") as fh:
        fh.write(data + b"\n")
