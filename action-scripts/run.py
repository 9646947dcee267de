"""Run ccc for an action step: inputs from INPUT_* variables in, step outputs from ccc's JSON result out.

Shared by the composite actions (worker-action, manager-action) and the Docker action (action.yml). Every input
reaches this script as an environment variable — `INPUT_<NAME>` with `-` as `_` (set in the composite's `env:`),
or `INPUT_<NAME>` with `-` kept (set by the runner for Docker actions) — never as `${{ }}` inside a script.
Usage: run.py worker | run.py manager (the manager's subcommand comes from the `command` input).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass

from ccc.actions_io import annotate, mask, set_output

MANAGER_COMMANDS = ("validate", "doctor", "plan", "sync", "summarize", "reap")
# Tokens go to ccc by the name of the variable holding them, so they never appear on a command line.
TOKEN_VARIABLES = {"github-token": "CCC_GITHUB_TOKEN", "pr-token": "CCC_PR_TOKEN"}
# The manager action's count outputs and the plan actions they count.
COUNT_OUTPUTS = {"created": "create", "updated": "update", "closed": "close"}


@dataclass(frozen=True)
class Option:
    """One action input and the ccc flag it becomes; empty inputs pass nothing, so ccc's default holds."""

    input: str
    flag: str = ""
    off_flag: str = ""  # for true/false inputs: the flag for false ("" passes nothing)
    switch: bool = False  # a true/false input: `flag` when true, `off_flag` when false
    repeat: bool = False  # one value per line, each as its own flag


CONNECTION = (Option("repository", "--repo"), Option("api-url", "--api-url"))
DRY_RUN = Option("dry-run", "--dry-run", switch=True)
MANAGER_CONNECTION = (*CONNECTION, Option("manager-login", "--manager-login"))
WORKER_OPTIONS = (
    *CONNECTION,
    DRY_RUN,
    Option("worker", "--worker"),
    Option("pool", "--pool"),
    Option("agent", "--agent"),
    Option("command", "--command"),
    Option("allowed-tools", "--allowed-tools"),
    Option("max-turns", "--max-turns"),
    Option("model", "--model"),
    Option("max-cost-usd", "--max-cost-usd"),
    Option("prompt-template", "--prompt-template"),
    Option("test-command", "--test-command"),
    Option("max-tasks", "--max-tasks"),
    Option("timeout-minutes", "--timeout-minutes"),
    Option("lease-minutes", "--lease-minutes"),
    Option("max-attempts", "--max-attempts"),
    Option("trusted-authors", "--trusted-authors"),
    Option("assignee", "--assignee"),
    Option("base-branch", "--base-branch"),
    Option("draft", "--draft", switch=True),
    Option("pass-env", "--pass-env"),
    Option("isolation", "--isolation"),
    Option("network", "--network"),
    Option("allow-domains", "--allow-domains"),
    Option("read-only-paths", "--read-only-paths"),
    Option("allow-workflow-changes", "--allow-workflow-changes", switch=True),
    Option("checkout", "--checkout"),
)
MANIFEST_OPTIONS = (Option("root", "--root"), Option("manifest", "--manifest", repeat=True))
MANAGER_OPTIONS = {
    "validate": MANIFEST_OPTIONS,
    "plan": (*MANAGER_CONNECTION, *MANIFEST_OPTIONS),
    "sync": (
        *MANAGER_CONNECTION,
        *MANIFEST_OPTIONS,
        DRY_RUN,
        Option("close-removed", "--close-removed", "--keep-removed", switch=True),
        Option("dispatch-event", "--dispatch-event"),
    ),
    "summarize": (
        *MANAGER_CONNECTION,
        DRY_RUN,
        Option("dashboard-issue", "--dashboard-issue", "--no-dashboard-issue", switch=True),
        Option("reap", "--reap", switch=True),
    ),
    "reap": (*MANAGER_CONNECTION, DRY_RUN),
    "doctor": (*CONNECTION, *MANIFEST_OPTIONS),
}


def read_input(name: str) -> str:
    """An input's value: the composite actions' INPUT_GITHUB_TOKEN or Docker's INPUT_GITHUB-TOKEN."""
    upper = name.upper()
    return os.environ.get(f"INPUT_{upper.replace('-', '_')}", os.environ.get(f"INPUT_{upper}", "")).strip()


def read_switch(name: str) -> bool:
    value = read_input(name).lower()
    if value not in ("true", "false"):
        annotate("error", f"input `{name}` must be true or false, not {value!r}")
        raise SystemExit(2)
    return value == "true"


def flags(options: tuple[Option, ...]) -> list[str]:
    argv: list[str] = []
    for option in options:
        value = read_input(option.input)
        if not value:
            continue
        if option.switch:
            flag = option.flag if read_switch(option.input) else option.off_flag
            argv += [flag] if flag else []
        elif option.repeat:
            argv += [part for line in value.splitlines() if line.strip() for part in (option.flag, line.strip())]
        else:
            argv += [option.flag, value]
    return argv


def command_line(action: str) -> list[str]:
    """ccc's arguments for this step; tokens are passed by variable name, never by value."""
    if action == "worker":
        return ["worker", "run", "--once", "--json", *token_flags(), *flags(WORKER_OPTIONS)]
    command = read_input("command")
    if command not in MANAGER_COMMANDS:
        annotate("error", f"input `command` must be one of {', '.join(MANAGER_COMMANDS)}, not {command!r}")
        raise SystemExit(2)
    if command == "validate":
        return ["validate", "--json", *flags(MANAGER_OPTIONS[command])]
    if command == "doctor":
        return ["doctor", "--json", "--token-env", TOKEN_VARIABLES["github-token"], *flags(MANAGER_OPTIONS[command])]
    return [
        "manager",
        command,
        "--json",
        "--token-env",
        TOKEN_VARIABLES["github-token"],
        *flags(MANAGER_OPTIONS[command]),
    ]


def token_flags() -> list[str]:
    argv = ["--token-env", TOKEN_VARIABLES["github-token"]]
    return argv + (["--pr-token-env", TOKEN_VARIABLES["pr-token"]] if read_input("pr-token") else [])


def child_environment() -> dict[str, str]:
    """The environment for ccc: the tokens under their own names, no INPUT_* variables (so no token twice)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INPUT_")}
    for name, variable in TOKEN_VARIABLES.items():
        token = read_input(name)
        mask(token)
        if token:
            env[variable] = token
    return env


def publish_manager_outputs(result: dict) -> None:
    """The manager action's outputs from ccc's JSON result (`ccc worker run` sets the worker action's itself)."""
    set_output("result-json", compact(result))
    command = read_input("command")
    if command in ("plan", "sync"):
        counts = result.get("counts", {})
        for output, action_name in COUNT_OUTPUTS.items():
            set_output(output, str(counts.get(action_name, 0)))
        set_output("plan-json", compact(result.get("rows", [])))
    elif command == "summarize":
        set_output("summary-json", compact(result))


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def json_result(stdout: str) -> dict:
    """ccc's JSON document; in Actions its annotations and masks (`::` workflow commands) share stdout with it."""
    result = json.loads("\n".join(line for line in stdout.splitlines() if not line.startswith("::")))
    return result if isinstance(result, dict) else {"result": result}


def main(action: str) -> int:
    argv = command_line(action)
    print(f"ccc {shlex.join(argv)}", file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, "-m", "ccc", *argv], stdout=subprocess.PIPE, text=True, env=child_environment()
    )
    sys.stdout.write(completed.stdout)
    if action == "manager":
        try:
            publish_manager_outputs(json_result(completed.stdout))
        except ValueError:
            annotate("warning", "ccc printed no JSON result, so this step sets no outputs")
    return completed.returncode


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("worker", "manager"):
        sys.exit("usage: run.py worker|manager")
    sys.exit(main(sys.argv[1]))
