"""Benchmark of the manager's API budget against a local sandbox (not a test): requests, writes, wall time.

Scenarios over one manifest of N tasks (default 1,000, in dependency chains of ten):
sync first (creates everything), sync unchanged, sync after editing 10 tasks, summarize (first, creating
the dashboard issue) and summarize unchanged. Writes are unpaced, as against the sandbox there is no
secondary limit to respect; on GitHub the default pacing (80 writes a minute) dominates the wall time.

    .venv/bin/python scripts/bench_manager.py [--tasks 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from ccc.client import RepoClient, connect
from ccc.manager.settings import ManagerSettings
from ccc.manager.summarize import summarize
from ccc.manager.sync import sync
from ccc.manifest import load_manifests
from ccc.sandbox.process import SandboxProcess


def tasks(count: int, *, edited: int = 0) -> list[dict]:
    return [
        {
            "id": f"t{i:04d}",
            "title": f"Task {i}",
            "body": f"Do thing {i}" + (" (edited)" if i < edited else ""),
            "worker": f"cc0{i % 3 + 1}",
            **({"depends_on": [f"t{i - 1:04d}"]} if i % 10 else {}),
        }
        for i in range(count)
    ]


def write_manifest(root: Path, items: list[dict]) -> None:
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "tasks": items}, sort_keys=False))


def measure(name: str, sandbox: SandboxProcess, action) -> dict:
    client: RepoClient = connect(
        repo=sandbox.repo,
        api_url=sandbox.api_url,
        token=sandbox.token("maintainer"),
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    started = time.perf_counter()
    action(client)
    seconds = time.perf_counter() - started
    counts = client.counter.snapshot()
    return {"scenario": name, "requests": counts["total"], "writes": counts["writes"], "seconds": round(seconds, 2)}


def run(count: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "repo"
        settings = ManagerSettings(root=root, manager_login="maintainer", max_writes_per_minute=0)
        with SandboxProcess.start(Path(scratch) / "sandbox", repos=["acme/widgets"]) as sandbox:
            write_manifest(root, tasks(count))
            manifest = load_manifests(root)
            rows = [
                measure(f"sync {count} tasks: first", sandbox, lambda c: sync(c, manifest, settings)),
                measure(f"sync {count} tasks: unchanged", sandbox, lambda c: sync(c, manifest, settings)),
            ]
            write_manifest(root, tasks(count, edited=10))
            edited = load_manifests(root)
            rows.append(measure(f"sync {count} tasks: 10 edited", sandbox, lambda c: sync(c, edited, settings)))
            rows.append(measure(f"summarize {count} tasks: first", sandbox, lambda c: summarize(c, settings)))
            rows.append(measure(f"summarize {count} tasks: unchanged", sandbox, lambda c: summarize(c, settings)))
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| Scenario | Requests | Writes | Wall time (s) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['scenario']} | {r['requests']} | {r['writes']} | {r['seconds']:.2f} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(args.tasks)
    print(json.dumps(rows, indent=2) if args.json else table(rows))


if __name__ == "__main__":
    main()
