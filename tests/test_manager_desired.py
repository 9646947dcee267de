"""The desired issue of a task: labels the manifest owns, references by number, marker contents."""

from __future__ import annotations

from pathlib import Path

import yaml

from ccc.manager.desired import desire
from ccc.manager.settings import ManagerSettings
from ccc.manifest import load_manifests
from ccc.protocol.markers import read_task_marker


def manifest(root: Path):
    path = root / ".github/ccc/tasks.yml"
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "tasks": [
                    {"id": "base", "title": "Base", "body": "b", "worker": "cc01"},
                    {
                        "id": "dash",
                        "title": "Dashboard",
                        "body": "Both halves",
                        "labels": ["ui"],
                        "depends_on": ["base"],
                        "priority": "high",
                        "parts": [
                            {"id": "front", "title": "Front", "worker": "any", "body": "f"},
                            {"id": "back", "title": "Back", "worker": "cc02", "body": "k"},
                        ],
                    },
                ],
            }
        )
    )
    return load_manifests(root)


def test_owned_labels_map_the_pool_and_the_priority(tmp_path):
    tasks = manifest(tmp_path)
    settings = ManagerSettings(pool_label="ccc-pool")

    front = desire(tasks.by_id("dash/front"), tasks, {}, settings)

    assert front.owned_labels == ("ccc-pool", "priority-high", "ui")
    assert front.marker.worker == "ccc-pool"


def test_references_use_issue_numbers_once_they_exist(tmp_path):
    tasks = manifest(tmp_path)
    settings = ManagerSettings()

    early = desire(tasks.by_id("dash"), tasks, {"base": 1, "dash/front": 3}, settings)
    late = desire(tasks.by_id("dash"), tasks, {"base": 1, "dash/front": 3, "dash/back": 4}, settings)

    assert early.unresolved == ("dash/back",)
    assert "`dash/back` (issue not created yet)" in early.body
    assert late.unresolved == ()
    assert "- [ ] #3 (`any`)" in late.body and "- [ ] #4 (`cc02`)" in late.body
    assert "### Depends on" in late.body and "- #1" in late.body
    marker = read_task_marker(late.body)
    assert (marker.deps, marker.dep_ids, marker.parts) == ((1,), ("base",), (3, 4))


def test_part_names_its_parent_and_closed_tasks_are_marked_retired(tmp_path):
    tasks = manifest(tmp_path)

    back = desire(tasks.by_id("dash/back"), tasks, {"dash": 2}, ManagerSettings())

    assert "Part of #2." in back.body
    assert back.marker.parent == 2
    assert back.open and not back.marker.retired


def test_a_template_directory_overrides_the_issue_body(tmp_path):
    tasks = manifest(tmp_path / "repo")
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "issue_body.md.j2").write_text("Task {{ task_id }}: {{ body }}\n")

    base = desire(tasks.by_id("base"), tasks, {}, ManagerSettings(template_dir=overrides))

    assert base.body.startswith("Task base: b\n")
    assert read_task_marker(base.body).id == "base"  # the marker is added after any template
