"""Checks one manifest file's tree field by field and turns it into task specs with defaults applied.

Rules (version 1), documented in the README and mirrored by manifest.schema.json:
- `defaults` (worker, labels, priority, assignee) apply to every task and part of the same file.
- `worker` falls back to `defaults.worker`, then to "any" (the shared pool).
- `labels` add up: defaults, then the task's, then (for a part) the part's; duplicates collapse.
- A task with `parts` is a coordinated task: it has no `worker` of its own, may omit its body, and
  its parts inherit its labels, priority, assignee, vars, depends_on and a closed state.
- A part's `depends_on` may name a sibling part by its short id; any other id is a full task id.
- Every other task and part has exactly one of `body` or `body_template` (+ optional `vars`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from ccc.manifest.model import ANY_WORKER, PRIORITIES, STATES, Problem
from ccc.manifest.yamltree import Entry, Map, Node, Pos, Scalar, Seq, to_data

SUPPORTED_VERSIONS = (1,)
TOP_KEYS = ("version", "defaults", "tasks")
DEFAULTS_KEYS = ("worker", "labels", "priority", "assignee")
PART_KEYS = (
    "id",
    "title",
    "body",
    "body_template",
    "vars",
    "worker",
    "labels",
    "priority",
    "depends_on",
    "assignee",
    "state",
)
TASK_KEYS = (*PART_KEYS, "parts")
# Known keys written in the wrong place get an explanation instead of a spelling suggestion.
MISPLACED_KEYS = {
    "parts": "parts cannot be nested: a part is one issue for one worker",
    "version": "`version` belongs at the top level of the file",
    "tasks": "`tasks` belongs at the top level of the file",
    "defaults": "`defaults` belongs at the top level of the file",
    "state": "`state` is set per task; it has no default",
}

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
DEPENDENCY_PATTERN = re.compile(rf"{ID_PATTERN.pattern}(/{ID_PATTERN.pattern})?")
# Worker labels also name claim refs and workflow inputs, so keep them to a branch-safe alphabet.
WORKER_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,49}")
# GitHub logins: alphanumerics and single hyphens, not at either end, at most 39 characters.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
MAX_LABEL_LENGTH = 50  # GitHub refuses longer label names
MAX_TITLE_LENGTH = 256  # GitHub's issue title limit
# GitHub allows 65,536 characters per issue body; the manager adds a marker and a dependency section.
MAX_BODY_LENGTH = 60_000
# Names the template sees besides the task's vars; a var may not shadow them.
RESERVED_VARS = ("task",)


@dataclass(frozen=True)
class Ref:
    """A value as written, with where it is written (for problems found after this stage)."""

    value: str
    pos: Pos


@dataclass
class TaskSpec:
    """A task or part as written, with defaults applied and the positions later checks point at."""

    id: str
    source: str
    pos: Pos
    title: str = ""
    body: str | None = None
    template: Ref | None = None
    vars: dict = field(default_factory=dict)
    worker: str | None = None
    labels: tuple[Ref, ...] = ()
    priority: str = "normal"
    depends_on: tuple[Ref, ...] = ()
    assignee: str | None = None
    state: str = "open"
    parent: str | None = None
    parts: tuple[str, ...] = ()
    parts_pos: Pos | None = None
    # False when a field was invalid: the spec then only takes part in id and dependency checks.
    complete: bool = True


@dataclass(frozen=True)
class Defaults:
    worker: str | None = None
    labels: tuple[Ref, ...] = ()
    priority: str = "normal"
    assignee: str | None = None


def _kind(value: object) -> str:
    if isinstance(value, Map):
        return "a mapping"
    if isinstance(value, Seq):
        return "a list"
    value = value.value if isinstance(value, Scalar) else value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return "a string" if isinstance(value, str) else type(value).__name__


def _merge_refs(*groups: tuple[Ref, ...]) -> tuple[Ref, ...]:
    """Concatenated refs, keeping the first of equal values; case-blind, as GitHub labels are."""
    merged: dict[str, Ref] = {}
    for group in groups:
        for ref in group:
            merged.setdefault(ref.value.lower(), ref)
    return tuple(merged.values())


class FileChecker:
    """Collects the problems of one manifest file while reading its tasks."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def report(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(self.source, pos.line, pos.col, message))

    # -- the file ------------------------------------------------------------------------------

    def check_file(self, tree: Node) -> list[TaskSpec]:
        if not isinstance(tree, Map):
            self.report(tree.pos, f"the top level must be a mapping with `version:` and `tasks:`, not {_kind(tree)}")
            return []
        self.check_keys(tree, TOP_KEYS, "the top level")
        self.check_version(tree)
        defaults_entry = tree.get("defaults")
        defaults = self.defaults(defaults_entry) if defaults_entry else Defaults()
        tasks_entry = self.required(tree, "tasks", "the top level")
        if tasks_entry is None or not self.is_list(tasks_entry):
            return []
        return [spec for item in tasks_entry.value.items for spec in self.task(item, defaults)]

    def check_version(self, tree: Map) -> None:
        entry = self.required(tree, "version", "the top level")
        if entry is None:
            return
        value = entry.value.value if isinstance(entry.value, Scalar) else None
        if type(value) is not int or value not in SUPPORTED_VERSIONS:
            supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
            self.report(
                entry.value.pos, f"unsupported version {_shown(entry.value)}: this ccc reads version {supported}"
            )

    def defaults(self, entry: Entry) -> Defaults:
        if not self.is_map(entry):
            return Defaults()
        node = entry.value
        self.check_keys(node, DEFAULTS_KEYS, "defaults")
        return Defaults(
            worker=self.worker(node.get("worker")),
            labels=self.labels(node.get("labels")),
            priority=self.enum(node.get("priority"), PRIORITIES) or "normal",
            assignee=self.assignee(node.get("assignee")),
        )

    # -- tasks and parts -----------------------------------------------------------------------

    def task(self, node: Node, defaults: Defaults) -> list[TaskSpec]:
        if not isinstance(node, Map):
            self.report(node.pos, f"each task must be a mapping with `id:` and `title:`, not {_kind(node)}")
            return []
        problems_before = len(self.problems)
        self.check_keys(node, TASK_KEYS, "a task")
        task_id = self.identifier(node, "a task")
        parts_entry = node.get("parts")
        spec = TaskSpec(
            id=task_id or "",
            source=self.source,
            pos=node.pos,
            title=self.title(node, "a task"),
            labels=_merge_refs(defaults.labels, self.labels(node.get("labels"))),
            priority=self.enum(node.get("priority"), PRIORITIES) or defaults.priority,
            assignee=self.assignee(node.get("assignee")) or defaults.assignee,
            state=self.enum(node.get("state"), STATES) or "open",
            vars=self.vars(node, allowed=parts_entry is not None),
        )
        spec.body, spec.template = self.body(node, optional=parts_entry is not None)
        spec.depends_on = self.dependencies(node.get("depends_on"))
        if parts_entry is None:
            spec.worker = self.worker(node.get("worker")) or defaults.worker or ANY_WORKER
            specs = [spec]
        else:
            specs = self.coordinated(spec, node, parts_entry, defaults)
        spec.complete = len(self.problems) == problems_before
        # A task without a valid id is still checked field by field, so all its problems show, but not kept.
        return specs if task_id is not None else []

    def coordinated(self, parent: TaskSpec, node: Map, parts_entry: Entry, defaults: Defaults) -> list[TaskSpec]:
        worker_entry = node.get("worker")
        if worker_entry is not None:
            self.report(
                worker_entry.key_pos, "a task with parts has no worker of its own: set `worker:` on each part instead"
            )
        parent.parts_pos = parts_entry.key_pos
        parts: list[TaskSpec] = []
        if self.is_list(parts_entry):
            if not parts_entry.value.items:
                self.report(parts_entry.value.pos, "`parts` is empty: list at least one part, or remove `parts:`")
            parts = self.unique_parts(parent, parts_entry.value.items, defaults)
        parent.parts = tuple(part.id for part in parts)
        return [parent, *parts]

    def unique_parts(self, parent: TaskSpec, items: tuple[Node, ...], defaults: Defaults) -> list[TaskSpec]:
        parts: dict[str, TaskSpec] = {}
        for item in items:
            part = self.part(item, parent, defaults)
            if part is None:
                continue
            if part.id in parts:
                first = parts[part.id].pos
                short = part.id.split("/", 1)[1]
                self.report(
                    part.pos,
                    f"duplicate part id '{short}' in task '{parent.id}' "
                    f"(first at line {first.line}, column {first.col})",
                )
                continue
            parts[part.id] = part
        siblings = {part_id.split("/", 1)[1] for part_id in parts}
        for part in parts.values():
            part.depends_on = _merge_refs(parent.depends_on, _resolve_siblings(part.depends_on, parent.id, siblings))
        return list(parts.values())

    def part(self, node: Node, parent: TaskSpec, defaults: Defaults) -> TaskSpec | None:
        if not isinstance(node, Map):
            self.report(node.pos, f"each part must be a mapping with `id:` and `title:`, not {_kind(node)}")
            return None
        problems_before = len(self.problems)
        self.check_keys(node, PART_KEYS, "a part")
        part_id = self.identifier(node, "a part")
        part = TaskSpec(
            id=f"{parent.id}/{part_id}",
            source=self.source,
            pos=node.pos,
            title=self.title(node, "a part"),
            worker=self.worker(node.get("worker")) or defaults.worker or ANY_WORKER,
            labels=_merge_refs(parent.labels, self.labels(node.get("labels"))),
            priority=self.enum(node.get("priority"), PRIORITIES) or parent.priority,
            assignee=self.assignee(node.get("assignee")) or parent.assignee,
            vars={**parent.vars, **self.vars(node, allowed=False)},
            parent=parent.id,
        )
        own_state = self.enum(node.get("state"), STATES) or "open"
        part.state = "closed" if parent.state == "closed" else own_state
        part.body, part.template = self.body(node, optional=False)
        part.depends_on = self.dependencies(node.get("depends_on"))
        part.complete = len(self.problems) == problems_before
        return part if part_id is not None else None

    # -- fields --------------------------------------------------------------------------------

    def identifier(self, node: Map, what: str) -> str | None:
        entry = self.required(node, "id", what)
        value = self.string(entry) if entry else None
        if value is None:
            return None
        if not ID_PATTERN.fullmatch(value):
            self.report(
                entry.value.pos,
                f"invalid id '{value}': use 1-63 lowercase letters, digits, '.', '_' "
                "or '-', starting with a letter or digit",
            )
            return None
        return value

    def title(self, node: Map, what: str) -> str:
        entry = self.required(node, "title", what)
        value = self.string(entry) if entry else None
        if value is None:
            return ""
        if "\n" in value.strip() or len(value) > MAX_TITLE_LENGTH:
            self.report(entry.value.pos, f"the title must be one line of at most {MAX_TITLE_LENGTH} characters")
        return value.strip()

    def body(self, node: Map, *, optional: bool) -> tuple[str | None, Ref | None]:
        body_entry, template_entry = node.get("body"), node.get("body_template")
        if body_entry and template_entry:
            self.report(template_entry.key_pos, "use either `body` or `body_template`, not both")
            return None, None
        if not body_entry and not template_entry:
            if not optional:
                self.report(node.pos, "missing `body` (or `body_template`)")
            return None, None
        if body_entry:
            body = self.string(body_entry)
            if body is not None and len(body) > MAX_BODY_LENGTH:
                self.report(
                    body_entry.value.pos,
                    f"the body has {len(body)} characters; at most "
                    f"{MAX_BODY_LENGTH} fit in an issue with ccc's additions",
                )
            return body, None
        return None, self.template_path(template_entry)

    def template_path(self, entry: Entry) -> Ref | None:
        path = self.string(entry)
        if path is None:
            return None
        segments = path.replace("\\", "/").split("/")
        if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path) or ".." in segments:
            self.report(
                entry.value.pos,
                f"body_template '{path}' must be a relative path inside the "
                "manifest's directory (no leading '/', no '..')",
            )
            return None
        return Ref(path, entry.key_pos)

    def vars(self, node: Map, *, allowed: bool) -> dict:
        entry = node.get("vars")
        if entry is None:
            return {}
        if not self.is_map(entry):
            return {}
        if not allowed and node.get("body_template") is None:
            self.report(entry.key_pos, "`vars` are only used by `body_template`: add one or remove `vars`")
        for var in entry.value.entries:
            if var.key in RESERVED_VARS:
                self.report(var.key_pos, f"'{var.key}' is reserved in templates: rename this variable")
            elif not var.key.isidentifier():
                self.report(var.key_pos, f"variable name '{var.key}' must be a valid identifier")
        return to_data(entry.value)

    def worker(self, entry: Entry | None) -> str | None:
        value = self.string(entry) if entry else None
        if value is not None and not WORKER_PATTERN.fullmatch(value):
            self.report(
                entry.value.pos,
                f"invalid worker label '{value}': use 1-50 lowercase letters, digits, "
                f"'.', '_' or '-' (e.g. cc02), or '{ANY_WORKER}' for the shared pool",
            )
            return None
        return value

    def labels(self, entry: Entry | None) -> tuple[Ref, ...]:
        if entry is None or not self.is_list(entry):
            return ()
        refs = []
        for item in entry.value.items:
            label = self.label(item)
            if label is not None:
                refs.append(Ref(label, item.pos))
        return _merge_refs(tuple(refs))

    def label(self, node: Node) -> str | None:
        if not isinstance(node, Scalar) or not isinstance(node.value, str):
            self.report(node.pos, f"a label must be a string, not {_kind(node)}")
            return None
        label = node.value
        if not label.strip():
            self.report(node.pos, "empty label")
        elif len(label) > MAX_LABEL_LENGTH:
            self.report(node.pos, f"label '{label}' has {len(label)} characters; GitHub allows {MAX_LABEL_LENGTH}")
        elif "," in label:
            self.report(node.pos, f"label '{label}' contains a comma, which GitHub's label lists cannot hold")
        elif label != label.strip():
            self.report(node.pos, f"label '{label}' starts or ends with whitespace")
        else:
            return label
        return None

    def dependencies(self, entry: Entry | None) -> tuple[Ref, ...]:
        if entry is None or not self.is_list(entry):
            return ()
        refs = []
        for item in entry.value.items:
            if not isinstance(item, Scalar) or not isinstance(item.value, str):
                self.report(item.pos, f"a dependency must be a task id string, not {_kind(item)}")
            elif not DEPENDENCY_PATTERN.fullmatch(item.value):
                self.report(
                    item.pos,
                    f"invalid dependency '{item.value}': expected a task id such as 'auth' or 'dashboard/backend'",
                )
            else:
                refs.append(Ref(item.value, item.pos))
        return _merge_refs(tuple(refs))

    def assignee(self, entry: Entry | None) -> str | None:
        if entry is None or (isinstance(entry.value, Scalar) and entry.value.value is None):
            return None
        value = self.string(entry)
        if value is not None and not LOGIN_PATTERN.fullmatch(value):
            self.report(entry.value.pos, f"invalid assignee '{value}': expected a GitHub login")
            return None
        return value

    def enum(self, entry: Entry | None, allowed: tuple[str, ...]) -> str | None:
        value = self.string(entry) if entry else None
        if value is not None and value not in allowed:
            self.report(entry.value.pos, f"invalid {entry.key} '{value}': expected one of {', '.join(allowed)}")
            return None
        return value

    # -- shapes --------------------------------------------------------------------------------

    def check_keys(self, node: Map, known: tuple[str, ...], where: str) -> None:
        for entry in node.entries:
            if entry.key not in known:
                self.report(entry.key_pos, _unknown_key(entry.key, known, where))

    def required(self, node: Map, key: str, where: str) -> Entry | None:
        entry = node.get(key)
        if entry is None:
            self.report(node.pos, f"missing required key '{key}' in {where}")
        return entry

    def string(self, entry: Entry) -> str | None:
        value = entry.value
        if not isinstance(value, Scalar) or not isinstance(value.value, str):
            hint = " (quote it)" if isinstance(value, Scalar) and value.value is not None else ""
            self.report(value.pos, f"`{entry.key}` must be a string, not {_kind(value)}{hint}")
            return None
        if not value.value.strip():
            self.report(value.pos, f"`{entry.key}` is empty")
            return None
        return value.value

    def is_list(self, entry: Entry) -> bool:
        if isinstance(entry.value, Seq):
            return True
        self.report(entry.value.pos, f"`{entry.key}` must be a list, not {_kind(entry.value)}")
        return False

    def is_map(self, entry: Entry) -> bool:
        if isinstance(entry.value, Map):
            return True
        self.report(entry.value.pos, f"`{entry.key}` must be a mapping, not {_kind(entry.value)}")
        return False


def _unknown_key(key: str, known: tuple[str, ...], where: str) -> str:
    if key in MISPLACED_KEYS:
        return f"key '{key}' is not allowed in {where}: {MISPLACED_KEYS[key]}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f"; known keys: {', '.join(known)}"
    return f"unknown key '{key}' in {where}{hint}"


def _shown(node: Node) -> str:
    return repr(node.value) if isinstance(node, Scalar) else _kind(node)


def _resolve_siblings(refs: tuple[Ref, ...], parent_id: str, siblings: set[str]) -> tuple[Ref, ...]:
    """Short part ids naming a sibling become full ids; a sibling wins over a task of the same id."""
    return tuple(Ref(f"{parent_id}/{ref.value}", ref.pos) if ref.value in siblings else ref for ref in refs)
