"""The inventory: our task issues by id, our dashboard, and what others wrote (ignored)."""

from __future__ import annotations

from datetime import datetime, timezone

from builders import make_issue
from ccc.client import Issue
from ccc.manager.inventory import take_inventory
from ccc.protocol.markers import DASHBOARD_MARKER, TaskMarker, with_task_marker

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def issue(number: int, body: str, *, author: str = "bot", pull: bool = False) -> Issue:
    return make_issue(number=number, body=body, author=author, is_pull_request=pull)


def task_body(task_id: str) -> str:
    return with_task_marker("text", TaskMarker(id=task_id, manifest="m.yml", hash="h"))


def test_inventory_sorts_issues_into_tasks_dashboard_and_ignored():
    issues = [
        issue(5, task_body("b")),
        issue(2, task_body("a")),
        issue(3, task_body("a")),  # a younger duplicate of a
        issue(4, task_body("c"), author="mallory"),  # forged
        issue(6, f"{DASHBOARD_MARKER}\nstats"),
        issue(7, f"{DASHBOARD_MARKER}\nfake", author="mallory"),
        issue(8, task_body("d"), pull=True),
        issue(9, "a plain issue"),
    ]

    inventory = take_inventory(issues, manager_login="Bot")  # logins compare case-insensitively

    assert {task_id: m.number for task_id, m in inventory.tasks.items()} == {"a": 2, "b": 5}
    assert [m.number for m in inventory.duplicates] == [3]
    assert [i.number for i in inventory.ignored] == [4]
    assert inventory.dashboard.number == 6
    assert sorted(inventory.by_number()) == [2, 5]
