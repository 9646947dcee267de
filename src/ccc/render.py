"""Rendering of ccc's own texts (comments, issue and PR bodies, prompts, dashboards) from jinja2 templates.

Templates ship in `ccc/templates/`; a user directory given in settings overrides them file by file.
Untrusted text (issue titles and bodies, agent output) is only ever passed as a variable: it is
never template source, so `{{ }}` inside it stays literal. The sandboxed environment limits what
a user-supplied override template can reach.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


@lru_cache(maxsize=8)
def environment(override_dir: str | None = None) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(PackageLoader("ccc", "templates"))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["code_fence"] = code_fence
    return env


def render(template_name: str, *, override_dir: str | Path | None = None, **variables: Any) -> str:
    """Render a named template (e.g. "claim_comment.md.j2") with `variables` as data."""
    return environment(str(override_dir) if override_dir else None).get_template(template_name).render(**variables)


def render_file(path: str | Path, **variables: Any) -> str:
    """Render a user's template file (e.g. --prompt-template) with `variables` as data."""
    path = Path(path)
    return environment(str(path.parent.resolve())).get_template(path.name).render(**variables)


def code_fence(text: str, lang: str = "") -> str:
    """Wrap text in a markdown code fence longer than any backtick run inside it, so it cannot break out."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"
