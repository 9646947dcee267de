"""Repository labels: list, get, create, update, delete (names compare case-insensitively)."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote

from ccc.sandbox.paging import paginate
from ccc.sandbox.records import Repo, node_id
from ccc.sandbox.routing import ApiError, Request, Response, route, too_long, validation_failed
from ccc.sandbox.store import Store

HEX_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")
MAX_NAME_LENGTH = 50
MAX_DESCRIPTION_LENGTH = 100
DEFAULT_COLOR = "ededed"


def label_json(req: Request, label: sqlite3.Row) -> dict:
    """GitHub's label object."""
    return {
        "id": label["id"],
        "node_id": node_id("LA", label["id"]),
        "url": f"{req.base_url}/repos/{req.repo.full_name}/labels/{quote(label['name'])}",
        "name": label["name"],
        "color": label["color"],
        "default": bool(label["is_default"]),
        "description": label["description"],
        "archived_at": None,
        "archived_by": None,
    }


def find_label(store: Store, repo: Repo, name: str) -> sqlite3.Row | None:
    return store.row("SELECT * FROM labels WHERE repo_id = ? AND name = ?", repo.id, name)


def get_label_or_404(store: Store, repo: Repo, name: str) -> sqlite3.Row:
    label = find_label(store, repo, name)
    if label is None:
        raise ApiError(404, "Not Found")
    return label


def ensure_labels(store: Store, repo: Repo, names: list) -> list[sqlite3.Row]:
    """The labels named, creating missing ones with the default colour as GitHub does for issues."""
    found = []
    with store.tx():
        for name in names:
            name = _valid_name(name)
            label = find_label(store, repo, name)
            if label is None:
                store.db.execute(
                    "INSERT INTO labels (repo_id, name, color) VALUES (?, ?, ?)", (repo.id, name, DEFAULT_COLOR)
                )
                label = find_label(store, repo, name)
            if label["id"] not in {existing["id"] for existing in found}:
                found.append(label)
    return found


def _valid_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise validation_failed("Label", "name", "missing_field")
    if len(name) > MAX_NAME_LENGTH:
        raise validation_failed("Label", "name", "invalid", message="name is too long (maximum is 50 characters)")
    return name


def _valid_color(color: object) -> str:
    if not isinstance(color, str) or not HEX_COLOR.match(color.removeprefix("#")):
        raise validation_failed("Label", "color", "invalid")
    return color.removeprefix("#").lower()


def _description(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise validation_failed("Label", "description", "invalid")
    too_long("Label", "description", value, MAX_DESCRIPTION_LENGTH)
    return value


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(req: Request, owner: str, repo: str) -> Response:
    labels = req.store.rows("SELECT * FROM labels WHERE repo_id = ? ORDER BY name", req.repo.id)
    return paginate(req, labels, lambda label: label_json(req, label))


@route("GET", "/repos/{owner}/{repo}/labels/{name:path}")
def get_label(req: Request, owner: str, repo: str, name: str) -> dict:
    return label_json(req, get_label_or_404(req.store, req.repo, name))


@route("POST", "/repos/{owner}/{repo}/labels", permission="triage", status=201)
def create_label(req: Request, owner: str, repo: str) -> dict:
    data, store = req.json(), req.store
    name = _valid_name(data.get("name"))
    color = _valid_color(data.get("color", DEFAULT_COLOR))
    description = _description(data.get("description"))
    with store.tx():
        if find_label(store, req.repo, name) is not None:
            raise validation_failed("Label", "name", "already_exists")
        store.db.execute(
            "INSERT INTO labels (repo_id, name, color, description) VALUES (?, ?, ?, ?)",
            (req.repo.id, name, color, description),
        )
        return label_json(req, find_label(store, req.repo, name))


@route("PATCH", "/repos/{owner}/{repo}/labels/{name:path}", permission="triage")
def update_label(req: Request, owner: str, repo: str, name: str) -> dict:
    data, store = req.json(), req.store
    with store.tx():
        label = get_label_or_404(store, req.repo, name)
        new_name = _valid_name(data["new_name"]) if "new_name" in data else label["name"]
        color = _valid_color(data["color"]) if "color" in data else label["color"]
        description = _description(data["description"]) if "description" in data else label["description"]
        clash = find_label(store, req.repo, new_name)
        if clash is not None and clash["id"] != label["id"]:
            raise validation_failed("Label", "name", "already_exists")
        store.db.execute(
            "UPDATE labels SET name = ?, color = ?, description = ? WHERE id = ?",
            (new_name, color, description, label["id"]),
        )
        return label_json(req, store.row("SELECT * FROM labels WHERE id = ?", label["id"]))


@route("DELETE", "/repos/{owner}/{repo}/labels/{name:path}", permission="triage", status=204)
def delete_label(req: Request, owner: str, repo: str, name: str) -> None:
    store = req.store
    with store.tx():
        label = get_label_or_404(store, req.repo, name)
        store.db.execute("DELETE FROM issue_labels WHERE label_id = ?", (label["id"],))
        store.db.execute("DELETE FROM labels WHERE id = ?", (label["id"],))
