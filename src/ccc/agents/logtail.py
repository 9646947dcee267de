"""The one log tail every agent's failure shows: the last lines of its output, bounded in lines and characters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

TAIL_LINES = 40
TAIL_CHARS = 4000


def tail_of(stream: IO[bytes]) -> str:
    """The tail of a binary stream (read from its end)."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - TAIL_CHARS * 2))
    text = stream.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-TAIL_LINES:])[-TAIL_CHARS:]


def tail(path: Path) -> str:
    """The tail of a log file ("" when there is none)."""
    try:
        with path.open("rb") as stream:
            return tail_of(stream)
    except FileNotFoundError:
        return ""
