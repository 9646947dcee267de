"""Renders `body_template` files in a jinja2 sandbox confined to the manifest's directory.

Template files are trusted repository content; `vars` values are data only: they are passed as
variables and never compiled, so `{{ 7*7 }}` inside a value stays literal.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path, PurePath

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from ccc.manifest.model import Problem
from ccc.manifest.validate import MAX_BODY_LENGTH, TaskSpec

# Far beyond any number a body needs, far below what takes noticeable time to compute.
MAX_POWER_BITS = 100_000


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


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus limits on the operators that can make huge values from small source.

    `validate` runs on pull requests, so the one-line ways to exhaust the runner's memory
    (`'x' * 10**12`, `9 ** 999999`) are refused and output size is bounded while rendering.
    This is hardening, not isolation: a template is repository code, and a deliberate loop can
    still burn CPU time (the job's timeout ends it).
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "*" and _repeat_size(left, right) > MAX_BODY_LENGTH:
            raise SecurityError(f"'*' would build a value longer than {MAX_BODY_LENGTH}")
        if operator == "**" and _power_bits(left, right) > MAX_POWER_BITS:
            raise SecurityError(f"'**' would build a number of more than {MAX_POWER_BITS} bits")
        return super().call_binop(context, operator, left, right)


def _repeat_size(left, right) -> int:
    """Length of a sequence repeated by an integer; 0 for other multiplications."""
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
            return len(sequence) * count
    return 0


def _power_bits(base, exponent) -> int:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        return abs(base).bit_length() * exponent
    return 0


class BodyRenderer:
    """One sandboxed environment per manifest directory; turns template failures into problems."""

    def __init__(self, root: Path):
        self.root = root
        self.environments: dict[Path, BoundedEnvironment] = {}

    def render(self, spec: TaskSpec, problems: list[Problem]) -> str | None:
        """The rendered body of `spec`, or None after adding a problem at its `body_template` key."""
        directory = (self.root / spec.source).parent
        length = 0
        chunks: list[str] = []
        try:
            template = self.environment(directory).get_template(spec.template.value)
            for chunk in template.generate(**spec.vars, task=_task_context(spec)):
                length += len(chunk)
                if length > MAX_BODY_LENGTH:
                    problems.append(
                        self.at_template(
                            spec,
                            f"the rendered body is longer than {MAX_BODY_LENGTH} "
                            "characters, which is all that fits in an issue "
                            "with ccc's additions",
                        )
                    )
                    return None
                chunks.append(chunk)
        except Exception as exc:  # a template is the user's code and may raise anything
            problems.append(self.problem(spec, directory, exc))
            return None
        return "".join(chunks)

    def environment(self, directory: Path) -> BoundedEnvironment:
        if directory not in self.environments:
            self.environments[directory] = BoundedEnvironment(
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
