"""The dashboard's markdown tables and mermaid graph are well-formed, also with hostile titles and 1,000 tasks.

The mermaid block is checked structurally always, and with mermaid's own parser (node, jsdom) when
CCC_MERMAID_DIR names a directory whose node_modules hold `mermaid` and `jsdom`
(`npm install --prefix DIR mermaid@11 jsdom`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ccc.manager.dashboard import ISSUE_BODY_LIMIT, TaskView, build_dashboard, dashboard_body, job_summary
from ccc.manager.history import History, TaskHistory, read_history
from ccc.manager.settings import ManagerSettings
from ccc.protocol.states import TaskState

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
STAMP = int(NOW.timestamp())
HOSTILE = 'a "quoted" [x] {y} <b>z</b> `code` | pipe #35; hash \\ slash\nnewline ```mermaid --> end %% note'
NODE = re.compile(r'^  t(\d+)\["#\d+ [^"\n\[\]{}<>`|;\\#]*"\]:::(ready|blocked|in_progress|completed|failed|retired)$')
EDGE = re.compile(r"^  t(\d+) (-->|-\.-) t(\d+)$")
CLASS = re.compile(r"^  classDef (\w+) [\w:#,]+$")
PR = "https://github.com/some-organisation/some-repository/pull/{}"
SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")


def view(number: int, *, state=TaskState.READY, title: str = "Task", deps=(), parts=(), **extra) -> TaskView:
    fields = dict(
        number=number,
        task_id=f"t{number}",
        title=title,
        url="",
        state=state,
        route="cc01",
        worker="",
        attempts=0,
        created=STAMP - 3600,
        started=0,
        finished=0,
        lease=0,
        pr="",
        deps=tuple(deps),
        parts=tuple(parts),
    )
    return TaskView(**{**fields, **extra})


def sample_views() -> list[TaskView]:
    return [
        view(
            1,
            state=TaskState.COMPLETED,
            title=HOSTILE,
            worker="cc01",
            attempts=1,
            started=STAMP - 600,
            finished=STAMP - 60,
            pr="https://example.test/pull/9",
        ),
        view(2, state=TaskState.IN_PROGRESS, deps=[1], worker="cc01", attempts=2, started=STAMP - 60, lease=STAMP - 1),
        view(3, state=TaskState.BLOCKED, deps=[2, 99]),  # 99: not a managed task, no edge
        view(4, state=TaskState.FAILED, attempts=3, title="x | y"),
        view(5, title="Parent", parts=[2, 3], route=""),
        view(6, state=TaskState.RETIRED),
    ]


def mermaid_block(markdown: str) -> str:
    match = re.search(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)
    assert match, "no mermaid block"
    return match.group(1)


def check_mermaid_structure(graph: str) -> None:
    lines = graph.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, classes, edges = set(), set(), []
    for line in lines[1:]:
        if node := NODE.match(line):
            nodes.add(node.group(1))
        elif edge := EDGE.match(line):
            edges.append((edge.group(1), edge.group(3)))
        elif cls := CLASS.match(line):
            classes.add(cls.group(1))
        else:
            pytest.fail(f"unexpected mermaid line: {line!r}")
    assert all(a in nodes and b in nodes for a, b in edges)
    assert classes == {"ready", "blocked", "in_progress", "completed", "merged", "failed", "retired"}


def check_tables(markdown: str) -> int:
    """Every table: a header, a separator with as many cells, rows with as many cells. Returns the table count."""
    tables, block = 0, []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            tables += 1
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in block}
            assert len(widths) == 1, block
            assert SEPARATOR.match(block[1]), block[1]
            assert len(block) >= 3, block
            block = []
    return tables


def test_dashboard_counts_workers_and_lists():
    dashboard = build_dashboard(sample_views(), now=NOW, settings=ManagerSettings())

    assert dashboard.counts == {
        "ready": 1,
        "blocked": 1,
        "in-progress": 1,
        "completed": 1,
        "merged": 0,
        "failed": 1,
        "retired": 1,
    }
    [cc01] = dashboard.workers  # the parent (no route) is nobody's work
    assert (cc01.worker, cc01.completed_last_day, cc01.median_work_seconds) == ("cc01", 1, 540)
    assert [t.number for t in dashboard.expired] == [2]
    assert [t.number for t in dashboard.failed] == [4]


def test_markdown_tables_are_well_formed_with_hostile_titles():
    markdown = job_summary(build_dashboard(sample_views(), now=NOW, settings=ManagerSettings()), ManagerSettings())

    assert check_tables(markdown) == 6  # counts, workers, expired, in progress, failed, recently completed
    assert "x \\| y" in markdown
    fences = [line for line in markdown.splitlines() if line.startswith("```")]
    assert fences == ["```mermaid", "```"]  # the title's backticks stay inside its table cell


def test_mermaid_graph_has_valid_ids_escaped_labels_and_state_classes():
    graph = mermaid_block(
        job_summary(build_dashboard(sample_views(), now=NOW, settings=ManagerSettings()), ManagerSettings())
    )

    check_mermaid_structure(graph)
    assert "  t1 --> t2" in graph and "  t5 -.- t2" in graph
    assert "t99" not in graph
    assert '  t1["#1 a quoted x y b z /b code pipe 35 hash slash newline mermaid…"]:::completed' in graph


def test_issue_body_for_a_thousand_tasks_fits_and_leaves_the_graph_to_the_job_summary():
    views = [
        view(
            n,
            state=TaskState.COMPLETED,
            title=f"Task number {n} " + "x" * 40,
            worker="cc01",
            attempts=1,
            started=STAMP - 100,
            finished=STAMP,
            deps=[n - 1] if n > 1 else (),
        )
        for n in range(1, 1001)
    ]
    settings = ManagerSettings()
    dashboard = build_dashboard(views, now=NOW, settings=settings)
    history = History(
        {
            n: TaskHistory(TaskState.COMPLETED, TaskState.COMPLETED, "cc01", 1, STAMP - 100, STAMP, 0, PR.format(n))
            for n in range(1, 1001)
        },
        STAMP,
    )

    body = dashboard_body(dashboard, history, settings)
    summary = job_summary(dashboard, settings)

    assert len(body) <= ISSUE_BODY_LIMIT
    assert "```mermaid" not in body and "job summary" in body
    kept = read_history(body)  # compacted: every task's states survive, so nothing is re-read or re-reported
    assert len(kept.tasks) == 1000
    assert all(h.read_at_state is TaskState.COMPLETED for h in kept.tasks.values())
    check_mermaid_structure(mermaid_block(summary))
    check_tables(summary)


def thousand_linked_views() -> list[TaskView]:
    """1,000 tasks in chains with parts links; every third is still open."""
    return [
        view(
            n,
            state=TaskState.READY if n % 3 == 0 else TaskState.COMPLETED,
            title=f"Task {n} " + "y" * 50,
            deps=[n - 1] if n > 1 else (),
            parts=[n + 1] if n % 7 == 0 and n < 1000 else (),
        )
        for n in range(1, 1001)
    ]


def test_large_graph_stays_within_mermaids_limits_showing_open_tasks_first():
    summary = job_summary(
        build_dashboard(thousand_linked_views(), now=NOW, settings=ManagerSettings()), ManagerSettings()
    )
    graph = mermaid_block(summary)

    check_mermaid_structure(graph)
    assert sum(1 for line in graph.splitlines() if EDGE.match(line)) < 500  # mermaid's maxEdges
    assert len(graph) < 50_000  # mermaid's maxTextSize
    shown = {int(m.group(1)) for line in graph.splitlines() if (m := NODE.match(line))}
    assert {n for n in range(1, 1001) if n % 3 == 0} <= shown  # every open task is drawn
    assert f"_Showing {len(shown)} of 1000 tasks, open ones first" in summary


def test_small_dashboard_issue_carries_the_graph():
    settings = ManagerSettings()
    body = dashboard_body(build_dashboard(sample_views(), now=NOW, settings=settings), History({}), settings)

    assert body.startswith("<!-- ccc:dashboard -->\n")
    check_mermaid_structure(mermaid_block(body))


def mermaid_dir() -> Path | None:
    directory = os.environ.get("CCC_MERMAID_DIR")
    if not directory or not shutil.which("node"):
        return None
    path = Path(directory)
    return path if (path / "node_modules/mermaid").is_dir() and (path / "node_modules/jsdom").is_dir() else None


PARSE_SCRIPT = """
import { createRequire } from 'module';
import { pathToFileURL } from 'url';
import fs from 'fs';
const dir = process.env.CCC_MERMAID_DIR;
const require = createRequire(dir + '/package.json');
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import(pathToFileURL(dir + '/node_modules/mermaid/dist/mermaid.core.mjs'));
try {
  const parsed = await mermaid.parse(fs.readFileSync(0, 'utf8'));
  console.log(JSON.stringify({ok: true, type: parsed.diagramType}));
} catch (e) {
  console.log(JSON.stringify({ok: false, error: String(e.message || e)}));
}
"""


# `make test` installs the parser (tools/mermaid) and sets CCC_MERMAID_DIR; only a bare pytest run skips, never CI.
@pytest.mark.skipif(
    mermaid_dir() is None and not os.environ.get("CI"),
    reason="set CCC_MERMAID_DIR to a directory with mermaid and jsdom",
)
def test_mermaid_graph_parses_with_mermaid_itself(tmp_path):
    assert mermaid_dir() is not None, "CCC_MERMAID_DIR must name an install of tools/mermaid (make test does this)"
    script = tmp_path / "parse.mjs"
    script.write_text(PARSE_SCRIPT)
    graph = mermaid_block(
        job_summary(build_dashboard(sample_views(), now=NOW, settings=ManagerSettings()), ManagerSettings())
    )

    def parse(text: str) -> dict:
        done = subprocess.run(
            ["node", str(script)],
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CCC_MERMAID_DIR": str(mermaid_dir())},
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert parse(graph) == {"ok": True, "type": "flowchart-v2"}
    large = job_summary(
        build_dashboard(thousand_linked_views(), now=NOW, settings=ManagerSettings()), ManagerSettings()
    )
    assert parse(mermaid_block(large)) == {"ok": True, "type": "flowchart-v2"}
    assert parse('flowchart LR\n  t1["a "b" c"]\n')["ok"] is False  # the parser does catch broken labels
