"""Command-line options several commands share: the connection, label renames, and CCC_* fallbacks.

Values from the environment are read when settings are built, from the one mapping given to them
(`os.environ` in production, a dict in tests), never while the parser is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ccc.connection import DEFAULT_TOKEN_ENV, Connection
from ccc.errors import InputError
from ccc.protocol.states import Labels

# The one way to rename protocol labels, for every command: --label-names KEY=NAME,KEY=NAME.
LABEL_KEYS = tuple(Labels.__dataclass_fields__)
LABEL_NAMES_HELP = "label renames, e.g. in_progress=wip,completed=done (keys: " + ", ".join(LABEL_KEYS) + ")"
# Which of the worker's and the manager's --max-attempts wins, said once for both helps.
MAX_ATTEMPTS_HELP = (
    "attempts per task before it is labelled failed; the worker checks it when it takes a task over, "
    "`manager reap` when a lease expires, so the lower of the two settings wins: keep them equal"
)


class DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written, and every option's default shown in --help (unless it is unset)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        switch = action.nargs == 0  # store_true/false: the help says which is the default
        if switch or "default" in text or action.default in (None, "", argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def add_connection_options(parser: argparse.ArgumentParser, *, git: bool = False) -> None:
    parser.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    parser.add_argument("--api-url", help="GitHub REST API root (default: GITHUB_API_URL, else https://api.github.com)")
    if git:
        parser.add_argument(
            "--git-url",
            help="git server root for clone and push (default: the API URL's server, https://HOST/api/v3 → "
            "https://HOST; in Actions GITHUB_SERVER_URL)",
        )
    parser.add_argument("--token-env", default=DEFAULT_TOKEN_ENV, help="environment variable holding the token")


def connection_from(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    return Connection.resolve(
        env,
        repo=args.repo,
        api_url=args.api_url,
        git_url=getattr(args, "git_url", None),
        token_env=args.token_env,
    )


def add_manager_login_option(parser: argparse.ArgumentParser, help: str) -> None:  # noqa: A002
    parser.add_argument("--manager-login", help=f"{help} [CCC_MANAGER_LOGIN]")


def manager_login_from(args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    return args.manager_login or env.get("CCC_MANAGER_LOGIN") or None


def labels_from(text: str | None) -> Labels:
    overrides = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        key, _, name = item.partition("=")
        if key.strip() not in LABEL_KEYS or not name.strip():
            raise InputError(f"--label-names: {item!r} is not KEY=NAME with KEY one of {', '.join(LABEL_KEYS)}")
        overrides[key.strip()] = name.strip()
    return Labels().with_overrides(**overrides)


@dataclass(frozen=True)
class EnvOption:
    """A flag that falls back to a CCC_* variable, then to its default."""

    dest: str
    env: str
    default: Any
    convert: Callable[[str], Any]
    switch: bool

    def value(self, given: Any, env: Mapping[str, str]) -> Any:
        if given is not None:
            return given
        if self.env not in env:
            return self.default
        text = env[self.env]
        return text.lower() in ("1", "true", "yes") if self.switch else self.convert(text)


class EnvOptions:
    """The table of a command's env-backed options: add one line per flag, resolve them all at once."""

    def __init__(self) -> None:
        self.options: dict[str, EnvOption] = {}

    def add(self, target, flag: str, help: str, *, env: str | None = None, default=None, type=str, switch=False):  # noqa: A002
        """`target` is the parser or a mutually exclusive group; the variable is CCC_<FLAG> unless named."""
        dest = flag.lstrip("-").replace("-", "_")
        name = env or "CCC_" + dest.upper()
        self.options[dest] = EnvOption(dest, name, default, type, switch)
        shown = f" (default: {default})" if default not in (None, "", False) else ""
        if switch:
            target.add_argument(flag, action="store_const", const=True, default=None, help=f"{help} [{name}]")
        else:
            target.add_argument(flag, type=type, default=None, help=f"{help}{shown} [{name}]")

    def resolve(self, args: argparse.Namespace, env: Mapping[str, str]) -> argparse.Namespace:
        values = vars(args) | {dest: option.value(getattr(args, dest), env) for dest, option in self.options.items()}
        return argparse.Namespace(**values)


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """A run's budget (docs/scaling.md): the run stops cleanly when it is spent, naming the flag to raise."""
    parser.add_argument("--max-requests", type=int, default=0, metavar="N", help="requests per run (0: no limit)")
    parser.add_argument(
        "--rate-limit-reserve",
        type=int,
        default=0,
        metavar="N",
        help="units of the hourly rate limit this run never spends (left for the token's other users)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="longest one request waits out rate limits before the run stops with exit 3",
    )
