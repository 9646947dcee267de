"""Finds manifest files under a root and loads them into one Manifest, or raises every problem."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from ccc.manifest.graph import check_dependencies, unique_specs
from ccc.manifest.model import Manifest, ManifestError, Problem, Task
from ccc.manifest.render import BodyRenderer
from ccc.manifest.validate import FileChecker, TaskSpec
from ccc.manifest.yamltree import Pos, parse

DEFAULT_GLOBS = (".github/ccc/tasks.yml", ".github/ccc/tasks/*.yml")


def load_manifests(
    root: Path, globs: Sequence[str] = DEFAULT_GLOBS, *, reserved_labels: Collection[str] = ()
) -> Manifest:
    """All tasks of the manifest files matching `globs` under `root`; ManifestError lists every problem.

    `reserved_labels` are labels the protocol manages (states, workers, priorities); a manifest
    may not claim them. Nothing is half-loaded: either every file is valid or nothing is returned.
    """
    root = Path(root)
    problems: list[Problem] = []
    files = find_files(root, globs, problems)
    specs = [spec for file in files for spec in read_specs(root, file, problems)]
    by_id = unique_specs(specs, problems)
    check_dependencies(by_id, problems)
    check_labels(by_id.values(), reserved_labels, problems)
    renderer = BodyRenderer(root)
    tasks = [build_task(spec, renderer, problems) for spec in by_id.values() if spec.complete]
    if problems:
        raise ManifestError(_in_file_order(problems, files))
    return Manifest(tasks=tuple(tasks), files=tuple(files))


def find_files(root: Path, globs: Sequence[str], problems: list[Problem]) -> list[str]:
    """Matching files relative to `root`, glob by glob, each sorted, each file once."""
    found: dict[str, None] = {}
    for pattern in globs:
        try:
            matches = sorted(path for path in root.glob(pattern) if path.is_file())
        except (ValueError, NotImplementedError) as exc:
            problems.append(Problem(pattern, None, None, f"invalid manifest glob: {exc}"))
            continue
        found.update((path.relative_to(root).as_posix(), None) for path in matches)
    if not found and not problems:
        problems.append(
            Problem(
                str(root), None, None, f"no manifest files match {', '.join(globs)} (paths are relative to this root)"
            )
        )
    return list(found)


def read_specs(root: Path, file: str, problems: list[Problem]) -> list[TaskSpec]:
    checker = FileChecker(file)
    text = read_text(root / file, checker)
    tree = parse(text, checker.report) if text is not None else None
    specs = checker.check_file(tree) if tree is not None else []
    problems.extend(checker.problems)
    return specs


def read_text(path: Path, checker: FileChecker) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        checker.report(Pos(1, 1), f"cannot read the file: {exc.strerror}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        where = Pos(data.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1)
        checker.report(where, f"the file is not UTF-8 text: {exc.reason}")
        return None


def check_labels(specs: Iterable[TaskSpec], reserved_labels: Collection[str], problems: list[Problem]) -> None:
    """Labels that ccc sets itself (worker labels in use, reserved ones) cannot be manifest labels."""
    specs = list(specs)
    workers = {spec.worker.lower() for spec in specs if spec.worker}
    reserved = {label.lower() for label in reserved_labels}
    reported: set[tuple[str, Pos]] = set()
    for spec in specs:
        for ref in spec.labels:
            name = ref.value.lower()
            if (spec.source, ref.pos) in reported or name not in workers | reserved:
                continue
            reported.add((spec.source, ref.pos))
            why = f"a worker label: use `worker: {ref.value}`" if name in workers else "managed by ccc itself"
            problems.append(Problem(spec.source, ref.pos.line, ref.pos.col, f"label '{ref.value}' is {why}"))


def build_task(spec: TaskSpec, renderer: BodyRenderer, problems: list[Problem]) -> Task:
    body = spec.body if spec.template is None else renderer.render(spec, problems)
    return Task(
        id=spec.id,
        title=spec.title,
        body=_normalized(body or ""),
        worker=spec.worker,
        labels=tuple(ref.value for ref in spec.labels),
        priority=spec.priority,
        depends_on=tuple(ref.value for ref in spec.depends_on),
        assignee=spec.assignee,
        state=spec.state,
        parent=spec.parent,
        parts=spec.parts,
        source=spec.source,
        line=spec.pos.line,
    )


def _normalized(body: str) -> str:
    """Trailing whitespace and leading blank lines carry no meaning in markdown; drop them."""
    return body.rstrip().lstrip("\n")


def _in_file_order(problems: list[Problem], files: list[str]) -> list[Problem]:
    order = {file: index for index, file in enumerate(files)}
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (order.get(p.file, -1), p.line or 0, p.col or 0))
