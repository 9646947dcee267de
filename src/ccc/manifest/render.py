"""Renders `body_template` files in a jinja2 sandbox confined to the manifest's directory.

Template files are trusted repository content; `vars` values are data only: they are passed as
variables and never compiled, so `{{ 7*7 }}` inside a value stays literal.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path, PurePath

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ccc.manifest.model import Problem
from ccc.manifest.validate import MAX_BODY_LENGTH, TaskSpec


class ConfinedLoader(jinja2.FileSystemLoader):
    """A file loader that also refuses files reached through symlinks pointing out of its directory."""

    def __init__(self, directory: Path):
        super().__init__(str(directory))
        self.real_root = os.path.realpath(directory)

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        if os.path.commonpath([self.real_root, os.path.realpath(filename)]) != self.real_root:
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate


class BodyRenderer:
    """One sandboxed environment per manifest directory; turns template failures into problems."""

    def __init__(self, root: Path):
        self.root = root
        self.environments: dict[Path, SandboxedEnvironment] = {}

    def render(self, spec: TaskSpec, problems: list[Problem]) -> str | None:
        """The rendered body of `spec`, or None after adding a problem at its `body_template` key."""
        directory = (self.root / spec.source).parent
        try:
            body = (
                self.environment(directory)
                .get_template(spec.template.value)
                .render(**spec.vars, task=_task_context(spec))
            )
        except Exception as exc:  # a template is the user's code and may raise anything
            problems.append(self.problem(spec, directory, exc))
            return None
        if len(body) > MAX_BODY_LENGTH:
            problems.append(
                self.at_template(
                    spec,
                    f"the rendered body has {len(body)} characters; at most "
                    f"{MAX_BODY_LENGTH} fit in an issue with ccc's additions",
                )
            )
            return None
        return body

    def environment(self, directory: Path) -> SandboxedEnvironment:
        if directory not in self.environments:
            self.environments[directory] = SandboxedEnvironment(
                loader=ConfinedLoader(directory),
                undefined=jinja2.StrictUndefined,
                autoescape=False,
                # Block tags on their own lines leave no blank lines behind in the markdown.
                trim_blocks=True,
                lstrip_blocks=True,
            )
        return self.environments[directory]

    def problem(self, spec: TaskSpec, directory: Path, exc: Exception) -> Problem:
        template = self.relative(directory / spec.template.value)
        if isinstance(exc, jinja2.TemplateNotFound):
            if exc.name == spec.template.value:
                return self.at_template(spec, f"template file '{template}' not found")
            return self.at_template(spec, f"template '{template}' includes '{exc.name}', which is not found")
        if isinstance(exc, jinja2.TemplateSyntaxError):
            where = f"{self.relative(Path(exc.filename))}:{exc.lineno}" if exc.filename else template
            return self.at_template(spec, f"template syntax error at {where}: {exc.message}")
        where = self.failing_line(exc) or template
        if isinstance(exc, jinja2.UndefinedError):
            return self.at_template(spec, f"undefined variable at {where}: {exc.message} (add it to `vars`)")
        return self.at_template(spec, f"template error at {where}: {type(exc).__name__}: {exc}")

    def failing_line(self, exc: Exception) -> str | None:
        """`file:line` of the innermost template frame, from the frames jinja2 fakes into tracebacks."""
        lines = [
            (frame.f_code.co_filename, line)
            for frame, line in traceback.walk_tb(exc.__traceback__)
            if "__jinja_exception__" in frame.f_globals
        ]
        if not lines:
            return None
        name, line = lines[-1]
        return f"{self.relative(Path(name))}:{line}"

    def relative(self, path: Path) -> str:
        """`path` as reported: relative to the root, with forward slashes."""
        return PurePath(os.path.relpath(path, self.root)).as_posix()

    @staticmethod
    def at_template(spec: TaskSpec, message: str) -> Problem:
        return Problem(spec.source, spec.template.pos.line, spec.template.pos.col, message)


def _task_context(spec: TaskSpec) -> dict:
    return {
        "id": spec.id,
        "title": spec.title,
        "worker": spec.worker,
        "labels": [ref.value for ref in spec.labels],
        "priority": spec.priority,
    }
