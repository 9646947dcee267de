"""Making untrusted text safe inside the markdown ccc writes (table cells, mermaid labels)."""

from __future__ import annotations

import re

_MERMAID_UNSAFE = re.compile(r'["`<>{}\[\]|#;\\]')


def cell(text: object) -> str:
    """Text for one markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def mermaid_label(text: str, limit: int = 60) -> str:
    """Text for a quoted mermaid node label: no quotes, brackets or markup that could end the label."""
    flat = _MERMAID_UNSAFE.sub(" ", " ".join(text.split()))
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
