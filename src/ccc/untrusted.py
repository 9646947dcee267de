"""Agent-written text made harmless before it reaches GitHub, and every body and title ccc writes kept in bounds.

What the agent writes (progress lines, summaries, file names, reasons, log tails) is read by people
and by GitHub's own automation. `neutralise` keeps it readable while defusing what GitHub acts on:
@mentions (notifications), closing keywords and issue references (closing an unrelated issue on
merge), images (requests to any URL when the page is viewed) and raw HTML, which includes the hidden
comment markers ccc finds its own text by. `cap_body` and `cap_title` keep what ccc writes under the
sizes GitHub accepts, with a visible note where text was cut, and the trailing marker kept.

Reference: https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/linking-a-pull-request-to-an-issue
(the closing keywords) and https://docs.github.com/en/rest/issues/comments (bodies up to 65,536 characters).
"""

from __future__ import annotations

import re

ZWSP = "\u200b"  # invisible, and breaks the patterns GitHub links and notifies on
MAX_BODY = 65_000  # GitHub refuses bodies over 65,536 characters; the margin absorbs counting differences
MAX_TITLE = 255  # GitHub refuses titles of 256 characters and more
TRUNCATION_NOTE = "\n\n*(ccc cut {cut:,} characters here: GitHub accepts at most 65,536 in a body.)*\n"

_MENTION = re.compile(r"@(?=[\w-])")
_REFERENCE = re.compile(r"(#|\bGH-)(?=\d)", re.IGNORECASE)
# A closing keyword counts only before a reference: "#2", "GH-2", "owner/repo#2" or an issue URL.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?=:?\s+(?:#|GH-|https?://|[\w.-]+/[\w.-]+#))", re.IGNORECASE
)
_IMAGE = re.compile(r"!(?=\[)")
_TRAILING_MARKER = re.compile(r"\n*<!-- ccc:[^\n]*-->\s*\Z")


def neutralise(text: str) -> str:
    """Markdown text as written, except that it cannot mention, close, reference, embed an image or carry HTML."""
    return defuse(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def defuse(text: str) -> str:
    """Plain text (a commit message) that cannot mention, close or reference anything when GitHub reads it."""
    text = _MENTION.sub("@" + ZWSP, text)
    text = _REFERENCE.sub(lambda match: match.group(1) + ZWSP, text)
    text = _CLOSING.sub(lambda match: match.group(0)[0] + ZWSP + match.group(0)[1:], text)
    return _IMAGE.sub("!" + ZWSP, text)


def cap_body(body: str, limit: int = MAX_BODY) -> str:
    """`body` cut to fit under `limit` with a visible note; a trailing ccc marker stays the last line."""
    if len(body) <= limit:
        return body
    match = _TRAILING_MARKER.search(body)
    marker = match.group(0) if match else ""
    text = body[: match.start()] if match else body
    room = limit - len(marker) - len(TRUNCATION_NOTE.format(cut=len(text)))
    return text[:room] + TRUNCATION_NOTE.format(cut=len(text) - room) + marker.lstrip("\n")


def cap_title(title: str, limit: int = MAX_TITLE) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
