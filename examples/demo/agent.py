"""The demo's example agent: deterministic, offline, and it makes a real change the project's tests verify.

A worker runs it with the task prompt in CCC_PROMPT_FILE and the work tree as the current directory
(CCC_WORKDIR). The prompt carries a fenced block written by the task's manifest, for example:

    ```textkit-task
    add: slugify
    to: textkit/slug.py
    expect: slugify("Hello, World!") == "hello-world"
    ```

The agent looks the function up in its table of known recipes, writes it into the named module,
and writes a unittest module that checks every `expect` line. Expectations are parsed as data
(literal arguments and results only), never evaluated. Progress lines go to CCC_PROGRESS_FILE.

Exit codes: 0 change made, 2 the prompt has no usable task block, 3 no recipe for the function.
Standard library only, so the demo's workers need nothing installed to run it.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from pathlib import Path

BLOCK = re.compile(r"^```textkit-task[ \t]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
MODULE_PATH = re.compile(r"textkit/[a-z_][a-z0-9_]*\.py")

# Known recipes: function name -> (imports it needs, source). Each is self-contained, so every
# task's pull request passes the suite on its own, whichever others are merged.
RECIPES: dict[str, tuple[tuple[str, ...], str]] = {
    "normalize_whitespace": (
        (),
        '''def normalize_whitespace(text):
    """`text` with runs of whitespace collapsed to one space and the ends trimmed."""
    return " ".join(text.split())
''',
    ),
    "slugify": (
        ("re", "unicodedata"),
        '''def slugify(text):
    """A lowercase, hyphen-separated ASCII slug of `text`: "Hello, World!" -> "hello-world"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
''',
    ),
    "title_case": (
        (),
        '''SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}


def title_case(text):
    """Headline capitalisation: small words stay lowercase unless they come first or last."""
    parts = text.lower().split()
    return " ".join(
        part if part in SMALL_WORDS and 0 < index < len(parts) - 1 else part[:1].upper() + part[1:]
        for index, part in enumerate(parts)
    )
''',
    ),
    "truncate": (
        (),
        '''def truncate(text, width, ellipsis="…"):
    """`text` cut to at most `width` characters, ending with `ellipsis` when something was cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - len(ellipsis))].rstrip() + ellipsis
''',
    ),
    "word_frequencies": (
        ("collections", "re"),
        '''def word_frequencies(text):
    """How often each lowercase word occurs, most frequent first (ties in order of appearance)."""
    counts = collections.Counter(re.findall(r"[^\\W_]+(?:'[^\\W_]+)*", text.lower()))
    return dict(counts.most_common())
''',
    ),
    "reading_time_minutes": (
        ("math", "re"),
        '''def reading_time_minutes(text, words_per_minute=200):
    """Whole minutes needed to read `text` at `words_per_minute` (at least 1 for any text)."""
    count = len(re.findall(r"\\S+", text))
    return max(1, math.ceil(count / words_per_minute)) if count else 0
''',
    ),
    "initials": (
        (),
        '''def initials(name):
    """The initials of a name: "ada king lovelace" -> "A.K.L."."""
    return "".join(part[0].upper() + "." for part in name.split())
''',
    ),
}


class TaskError(Exception):
    """The prompt does not describe a task this agent can do; `code` is the exit status."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def parse_task(prompt: str) -> dict:
    """The `add`, `to` and `expect` entries of the prompt's first textkit-task block."""
    match = BLOCK.search(prompt)
    if not match:
        raise TaskError("the prompt has no ```textkit-task block", 2)
    task: dict = {"expect": []}
    for line in match.group("body").splitlines():
        key, sep, value = line.partition(":")
        if not sep or not line.strip():
            continue
        key, value = key.strip(), value.strip()
        if key == "expect":
            task["expect"].append(value)
        else:
            task[key] = value
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", task.get("add", "")):
        raise TaskError("the task block needs `add: <function name>`", 2)
    if not MODULE_PATH.fullmatch(task.get("to", "")):
        raise TaskError("the task block needs `to: textkit/<module>.py`", 2)
    return task


def parse_expectation(text: str, function: str) -> tuple[list, dict, object]:
    """(args, kwargs, expected) of `function(<literals>) == <literal>`; data only, never evaluated as code."""
    try:
        tree = ast.parse(text, mode="eval").body
        if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq)):
            raise ValueError("not `call == value`")
        call = tree.left
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function):
            raise ValueError(f"the left side must call {function}")
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
        return args, kwargs, ast.literal_eval(tree.comparators[0])
    except (SyntaxError, ValueError) as exc:
        raise TaskError(f"cannot use expectation {text!r}: {exc}", 2) from None


def module_source(existing: str, function: str) -> str:
    """The module text with the recipe added (once: a re-run on the same tree changes nothing)."""
    imports, body = RECIPES[function]
    if re.search(rf"^def {function}\(", existing, re.MULTILINE):
        return existing
    header = existing or f'"""textkit: {function.replace("_", " ")}."""\n'
    missing = [f"import {name}\n" for name in imports if f"import {name}\n" not in header]
    if missing:
        header = header.rstrip("\n") + "\n\n" + "".join(missing)
    return header.rstrip("\n") + "\n\n\n" + body


def test_source(module: str, function: str, expectations: list[tuple[list, dict, object]]) -> str:
    lines = [
        "import unittest",
        "",
        f"from {module} import {function}",
        "",
        "",
        f"class {''.join(part.title() for part in function.split('_'))}Test(unittest.TestCase):",
    ]
    for number, (args, kwargs, expected) in enumerate(expectations, 1):
        call = ", ".join([*map(repr, args), *(f"{key}={value!r}" for key, value in kwargs.items())])
        lines += [
            f"    def test_expectation_{number}(self):",
            f"        self.assertEqual({function}({call}), {expected!r})",
            "",
        ]
    if not expectations:
        lines += [f"    def test_{function}_is_callable(self):", f"        self.assertTrue(callable({function}))", ""]
    lines += ["", 'if __name__ == "__main__":', "    unittest.main()"]
    return "\n".join(lines) + "\n"


class Progress:
    """Appends one line per step to the worker's progress file, pausing `pace` seconds so people can watch."""

    def __init__(self, path: str | None, pace: float):
        self.path = Path(path) if path else None
        self.pace = pace

    def __call__(self, line: str) -> None:
        print(line, flush=True)
        if self.path:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        time.sleep(self.pace)


def run(prompt: str, workdir: Path, progress: Progress) -> list[Path]:
    """Make the change the prompt asks for; returns the files written."""
    task = parse_task(prompt)
    function, target = task["add"], workdir / task["to"]
    progress(f"task: add {function} to {task['to']} ({len(task['expect'])} expectations)")
    if function not in RECIPES:
        raise TaskError(f"no recipe for {function}; known: {', '.join(sorted(RECIPES))}", 3)
    expectations = [parse_expectation(text, function) for text in task["expect"]]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(module_source(target.read_text() if target.exists() else "", function))
    progress(f"wrote {function} in {task['to']}")
    module = task["to"].removesuffix(".py").replace("/", ".")
    test_file = workdir / "tests" / f"test_{target.stem}.py"
    test_file.parent.mkdir(exist_ok=True)
    test_file.write_text(test_source(module, function, expectations))
    progress(f"wrote {len(expectations)} tests in tests/{test_file.name}")
    return [target, test_file]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pace", type=float, default=0.0, help="seconds to pause after each progress line")
    args = parser.parse_args(argv)
    prompt_file = os.environ.get("CCC_PROMPT_FILE")
    if not prompt_file:
        print("agent: CCC_PROMPT_FILE is not set (run me from a ccc worker)", file=sys.stderr)
        return 2
    progress = Progress(os.environ.get("CCC_PROGRESS_FILE"), args.pace)
    try:
        run(Path(prompt_file).read_text(encoding="utf-8"), Path(os.environ.get("CCC_WORKDIR") or "."), progress)
    except TaskError as exc:
        progress(f"giving up: {exc}")
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
