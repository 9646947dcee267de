"""After the agent, the work tree is untrusted data: what it staged is checked before anything is committed.

Refused: symlinks that point out of the tree, nested git repositories, changes under .github/workflows/
(unless allowed), more changed bytes than the cap, and any known secret value in raw, hex or base64 form.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccc.errors import CccError

WORKFLOWS = ".github/workflows/"
SYMLINK, GITLINK = "120000", "160000"
MIN_SECRET_FORM = 8  # shorter encoded fragments would match by chance


class TreeRefused(CccError):
    """The agent's changes break a rule: the attempt fails with this reason and nothing is pushed."""


@dataclass(frozen=True)
class TreePolicy:
    secrets: tuple[str, ...] = ()
    allow_workflow_changes: bool = False
    max_change_bytes: int = 10_000_000


@dataclass(frozen=True)
class Change:
    path: str
    mode: str  # the new mode; "000000" when deleted
    blob: str


def staged_changes(git: Callable[..., str]) -> list[Change]:
    """The staged changes, from `git diff --cached --raw -z` (paths exactly as stored, no renames)."""
    fields = git("diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev").split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        _, new_mode, _, new_blob, _ = meta.lstrip(":").split(" ")
        changes.append(Change(path, new_mode, new_blob))
    return changes


def check(changes: list[Change], tree: Path, git: Callable[..., str], policy: TreePolicy) -> None:
    """Raise TreeRefused naming the first rule the changes break."""
    kept = [change for change in changes if change.mode != "000000"]
    for change in changes:
        if change.path.startswith(WORKFLOWS) and not policy.allow_workflow_changes:
            raise TreeRefused(f"the agent changed {change.path}: workflow changes need allow-workflow-changes")
    for change in kept:
        if change.mode == GITLINK:
            raise TreeRefused(f"the agent added a nested git repository at {change.path}")
        if change.mode == SYMLINK and _leaves_tree(tree, change.path, git("cat-file", "blob", change.blob)):
            raise TreeRefused(f"the agent added a symlink leaving the work tree: {change.path}")
    total = sum((tree / change.path).lstat().st_size for change in kept)
    if total > policy.max_change_bytes:
        raise TreeRefused(
            f"the agent's changes hold {total} bytes, over the cap of {policy.max_change_bytes} (max-change-bytes)"
        )
    forms = secret_forms(policy.secrets)
    for change in kept:
        content = (tree / change.path).read_bytes() if change.mode != SYMLINK else b""
        if any(form in content for form in forms) or any(form in change.path.encode() for form in forms):
            raise TreeRefused(f"{change.path} holds a secret value (a token or key the worker knows)")


def _leaves_tree(tree: Path, path: str, target: str) -> bool:
    """Absolute targets, and relative ones that resolve outside through the tree's real symlinks."""
    if target.startswith("/"):
        return True
    root = os.path.realpath(tree)
    return os.path.commonpath([root, os.path.realpath(tree / path)]) != root


def secret_forms(secrets: tuple[str, ...]) -> set[bytes]:
    """Each secret raw, in hex, and base64-encoded at each of the three alignments it can have in a stream."""
    forms: set[bytes] = set()
    for secret in (s.encode() for s in secrets if s):
        forms |= {secret, secret.hex().encode(), secret.hex().upper().encode()}
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + secret)
            start, end = (4 * offset + 2) // 3, (offset + len(secret)) // 3 * 4
            forms |= {encoded[start:end], base64.urlsafe_b64encode(b"\0" * offset + secret)[start:end]}
    return {form for form in forms if len(form) >= MIN_SECRET_FORM}
