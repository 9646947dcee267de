"""`ccc validate`: load and check the task manifests, report every problem; never touches the network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ccc.actions_io import annotate, in_actions
from ccc.manifest import DEFAULT_GLOBS, Manifest, ManifestError, load_manifests


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check the task manifests (exit 2 on problems)",
        description="Load and validate the task manifests; print every problem as file:line:col.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="repository root; manifest globs and reported paths are relative to it",
    )
    parser.add_argument(
        "--manifest",
        action="append",
        metavar="GLOB",
        dest="globs",
        help=f"manifest glob, repeatable (default: {' '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        manifest = load_manifests(args.root, tuple(args.globs or DEFAULT_GLOBS))
    except ManifestError as error:
        report_problems(error)
        if args.json:
            print(json.dumps({"ok": False, "problems": [vars(problem) for problem in error.problems]}, indent=2))
        return error.exit_code
    print(json.dumps(summary(manifest), indent=2) if args.json else ok_line(manifest))
    return 0


def report_problems(error: ManifestError) -> None:
    """Each problem on stderr as `file:line:col: error: message`, and as an annotation in Actions."""
    for problem in error.problems:
        if in_actions():  # annotate() writes only the workflow command there; keep the readable line too
            print(f"{problem.location()}: error: {problem.message}", file=sys.stderr)
        # Problems without a line (no files matched) name a root or glob, not a file to annotate.
        file = problem.file if problem.line is not None else None
        annotate("error", problem.message if file else str(problem), file=file, line=problem.line, col=problem.col)


def ok_line(manifest: Manifest) -> str:
    """One line: files, top-level tasks, and how many of them are coordinated with how many parts."""
    parents = sum(1 for task in manifest.tasks if task.is_parent)
    top_level = len(manifest.tasks) - manifest.parts_count
    files = len(manifest.files)
    return (
        f"OK: {files} manifest file{'s' if files != 1 else ''}, {top_level} tasks "
        f"({parents} coordinated, with {manifest.parts_count} parts)"
    )


def summary(manifest: Manifest) -> dict:
    return {
        "ok": True,
        "files": list(manifest.files),
        "tasks": [
            {
                "id": task.id,
                "title": task.title,
                "worker": task.worker,
                "priority": task.priority,
                "labels": list(task.labels),
                "depends_on": list(task.depends_on),
                "state": task.state,
                "parent": task.parent,
                "parts": list(task.parts),
                "source": task.source,
                "line": task.line,
                "content_hash": task.content_hash(),
            }
            for task in manifest.tasks
        ],
    }
