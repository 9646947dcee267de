"""Manifests as committed: what `manager sync` and `plan` read, so an uncommitted edit never becomes an issue.

The directories the manifest globs can match (each glob's part before its first wildcard) are read
from HEAD with `git archive` into a temporary directory and loaded from there; file names in
problems stay relative to the repository root. Outside a git repository there is no HEAD, and the
working tree is all there is.
"""

from __future__ import annotations

import io
import logging
import subprocess
import tarfile
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ccc.manifest.load import load_manifests
from ccc.manifest.model import Manifest

log = logging.getLogger(__name__)
_WILDCARDS = set("*?[")


@dataclass(frozen=True)
class Source:
    """Where the manifests were read from, for the user: HEAD's commit, or the working tree."""

    commit: str | None  # None: the working tree
    uncommitted: tuple[str, ...] = ()  # paths under the manifest directories that differ from HEAD

    def describe(self) -> str:
        return f"HEAD ({self.commit[:12]})" if self.commit else "the working tree"


def load_committed(
    root: Path, globs: Sequence[str], *, working_tree: bool = False, reserved_labels: Collection[str] = ()
) -> tuple[Manifest, Source]:
    """The manifests at HEAD (or the working tree when asked, or when `root` is not in a git repository)."""
    root = Path(root)
    commit = None if working_tree else _head(root)
    if commit is None:
        return load_manifests(root, globs, reserved_labels=reserved_labels), Source(None)
    prefixes = sorted({_static_prefix(glob) for glob in globs})
    source = Source(commit, _uncommitted(root, prefixes))
    with tempfile.TemporaryDirectory(prefix="ccc-manifests-") as copy:
        _export(root, prefixes, Path(copy))
        return load_manifests(Path(copy), globs, reserved_labels=reserved_labels), source


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)


def _head(root: Path) -> str | None:
    done = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _static_prefix(glob: str) -> str:
    """The directory part of a glob before its first wildcard: `.github/ccc/tasks/*.yml` → `.github/ccc/tasks`."""
    parts = PurePosixPath(glob).parts
    fixed = []
    for part in parts[:-1]:
        if _WILDCARDS & set(part):
            break
        fixed.append(part)
    return "/".join(fixed) or "."


def _uncommitted(root: Path, prefixes: list[str]) -> tuple[str, ...]:
    done = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *prefixes)
    return tuple(line[3:] for line in done.stdout.decode().splitlines() if line.strip())


def _export(root: Path, prefixes: list[str], target: Path) -> None:
    """HEAD's files under `prefixes` (paths relative to `root`) into `target`; missing prefixes are skipped."""
    present = [p for p in prefixes if _git(root, "cat-file", "-e", f"HEAD:./{p}").returncode == 0]
    if not present:
        return
    done = _git(root, "archive", "--format=tar", "HEAD", "--", *present)
    if done.returncode != 0:
        raise OSError(f"git archive HEAD in {root} failed: {done.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(target, filter="data")
