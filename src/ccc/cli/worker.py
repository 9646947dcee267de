"""`ccc worker run`: read the worker's settings (flags, else CCC_* variables) once and run the worker."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from ccc.actions_io import annotate, append_summary, set_output
from ccc.agents.claude_code import DEFAULT_ALLOWED_TOOLS, ClaudeCodeSettings
from ccc.cli.options import (
    LABEL_NAMES_HELP,
    MAX_ATTEMPTS_HELP,
    DefaultsFormatter,
    EnvOptions,
    add_connection_options,
    connection_from,
    labels_from,
)
from ccc.errors import InputError
from ccc.isolation.confine import MODEL_API_HOST, IsolationSettings
from ccc.protocol.claims import DEFAULT_NAMESPACE
from ccc.render import render
from ccc.worker.listing_cache import cache_dir_default
from ccc.worker.masking import Masker, MaskingFilter
from ccc.worker.result import Status, WorkerResult
from ccc.worker.run import run, workdir_default
from ccc.worker.settings import DEFAULT_TRUSTED_AUTHORS, WorkerSettings, actions_run_url, split_list

DESCRIPTION = """\
Poll for open issues labelled with this worker's label (and --pool), claim one exactly once through a
git ref, run the agent command on it in a fresh work tree, and deliver a pull request.

Every option can also be set with the environment variable named after it in brackets (e.g.
--max-tasks is CCC_MAX_TASKS); flags win. Tokens are read only from environment variables (--token-env).

The agent command runs with `sh -c` in the work tree, confined by bubblewrap (--isolation bwrap: its
own namespaces, only its tree writable, network only through the --allow-domains proxy; see
docs/security.md), with a clean environment: PATH, HOME, locale, CCC_PROMPT_FILE, CCC_ISSUE_NUMBER,
CCC_ISSUE_TITLE, CCC_BRANCH, CCC_WORKDIR, CCC_PROGRESS_FILE, plus --pass-env names; no GitHub token
unless --pass-token. Lines it appends to $CCC_PROGRESS_FILE appear on the issue, neutralised.
"""

EPILOG = """\
exit codes: 0 idle, delivered or rate-limited (the JSON says which); 1 a task failed or its lease was
lost; 2 bad settings; 3 GitHub refused or could not be reached.
"""


# The worker's flags, each backed by a CCC_* variable read when settings are built (see EnvOptions).
OPTIONS = EnvOptions()


def register(subparsers) -> None:
    worker = subparsers.add_parser("worker", help="claim tasks and deliver pull requests", description=DESCRIPTION)
    commands = worker.add_subparsers(dest="worker_command", metavar="COMMAND", required=True)
    parser = commands.add_parser(
        "run",
        help="poll once (--once) or keep polling (--loop)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=DefaultsFormatter,
    )
    add_connection_options(parser, git=True)
    _add_options(parser, OPTIONS.add)
    parser.set_defaults(run=run_command)


def _add_options(p: argparse.ArgumentParser, option) -> None:
    option(p, "--worker", "this worker's label and name, e.g. cc02 (required)")
    option(p, "--pool", "a shared label served as well")
    option(
        p,
        "--pr-token-env",
        "variable holding a token to open PRs with (PRs opened with the Actions GITHUB_TOKEN do not trigger CI)",
    )
    option(p, "--command", "the agent: any shell command")
    option(p, "--agent", "command (run --command) or claude-code (drive the Claude Code CLI)", default="command")
    option(
        p,
        "--allowed-tools",
        "claude-code: comma-separated tools it may use without asking",
        default=",".join(DEFAULT_ALLOWED_TOOLS),
    )
    option(p, "--max-turns", "claude-code: model turns before it is stopped", type=int, default=50)
    option(p, "--model", "claude-code: model name or alias (default: the CLI's)")
    option(p, "--max-cost-usd", "claude-code: stop the run once its cost passes this", type=float)
    option(p, "--claude-executable", "claude-code: the CLI to run", default="claude")
    option(p, "--prompt-template", "jinja2 file for the agent's prompt (default: the packaged one)", type=Path)
    option(p, "--template-dir", "directory whose templates override the packaged comment/PR templates", type=Path)
    option(p, "--test-command", "shell command run after the agent; the task fails if it fails")
    option(p, "--pass-env", "comma-separated variables the agent may see (e.g. its API key)", default="")
    option(p, "--pass-token", "give the agent GITHUB_TOKEN and GH_TOKEN too", switch=True)
    option(
        p,
        "--isolation",
        "bwrap (confine the agent with bubblewrap) or none (an explicit, loudly logged opt-out; macOS)",
        default="bwrap",
    )
    option(p, "--network", "the confined agent's network: allowlist, none or host", default="allowlist")
    option(p, "--allow-domains", "comma-separated hosts the agent may reach besides the model API", default="")
    option(p, "--read-only-paths", "comma-separated toolchain directories the confined agent may read", default="")
    option(
        p,
        "--secret-env",
        "comma-separated variables holding secrets: masked in logs and refused in the agent's commit",
        default="",
    )
    option(p, "--allow-workflow-changes", "let the agent's commit change .github/workflows/", switch=True)
    option(p, "--max-change-bytes", "refuse a commit whose changed files hold more", type=int, default=10_000_000)
    option(p, "--max-tasks", "tasks per run (default 1 with --once, no limit with --loop)", type=int)
    option(p, "--timeout-minutes", "kill the agent's process group after this long", type=float, default=60.0)
    option(p, "--lease-minutes", "claim lease, renewed by a heartbeat every third of it", type=float, default=10.0)
    option(p, "--max-attempts", MAX_ATTEMPTS_HELP, type=int, default=3)
    option(
        p,
        "--trusted-authors",
        "comma-separated logins whose issues are taken besides people with write access; bots are "
        "trusted only by exact login (the default lets the issues the manager creates with the Actions "
        "token be taken out of the box)",
        default=",".join(DEFAULT_TRUSTED_AUTHORS),
    )
    option(
        p,
        "--manager-login",
        "the manager's login: only its issues' task markers (dependencies, retired) count, and only its issues "
        "are taken without checking who applied the worker label",
        default=DEFAULT_TRUSTED_AUTHORS[0],
    )
    option(p, "--assignee", "login to assign claimed issues to")
    option(p, "--base-branch", "branch to work from and open PRs against (default: the repository's default)")
    option(p, "--draft", "open draft pull requests", switch=True)
    option(p, "--checkout", "an existing clone (e.g. actions/checkout's) to add work trees to", type=Path)
    option(
        p,
        "--workdir",
        "where clones, work trees and task files go (default: $RUNNER_TEMP/ccc or ~/.cache/ccc/worker)",
        type=Path,
        env="CCC_WORKER_DIR",  # CCC_WORKDIR is the agent's work tree
    )
    option(p, "--label-names", LABEL_NAMES_HELP, default="")
    option(p, "--claims-namespace", "ref prefix of the claim locks", default=DEFAULT_NAMESPACE)
    option(
        p,
        "--cache-dir",
        "where listing ETags persist between runs, so idle polls cost nothing "
        "(default: $RUNNER_TOOL_CACHE/ccc/listings or ~/.cache/ccc/listings)",
        type=Path,
    )
    mode = p.add_mutually_exclusive_group()
    option(mode, "--once", "take up to --max-tasks tasks, then exit 0 even when idle (the default)", switch=True)
    option(mode, "--loop", "keep polling, with ETags so idle polls cost no rate limit", switch=True)
    option(p, "--interval", "seconds between polls with --loop", type=float, default=300.0)
    option(
        p,
        "--max-idle-polls",
        "with --loop, stop after this many polls in a row found nothing ready and nothing in progress (0: never)",
        type=int,
        default=0,
    )
    option(p, "--progress-interval", "least seconds between edits of the progress comment", type=float, default=30.0)
    option(p, "--write-pacing", "seconds between write requests (GitHub asks for 1)", type=float, default=1.0)
    option(p, "--max-requests", "requests per run, checked before each poll (0: no limit)", type=int, default=0)
    option(
        p,
        "--rate-limit-reserve",
        "units of the hourly rate limit left for the token's other users: no poll starts into them",
        type=int,
        default=0,
    )
    option(p, "--max-wait", "longest one request waits out rate limits before the run stops", type=float, default=300.0)
    option(p, "--dry-run", "list what would be claimed; change nothing", switch=True)
    option(p, "--json", "print only the JSON result (on stdout, always), not the summary line on stderr", switch=True)


def settings_from(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> WorkerSettings:
    """Flags, else CCC_* variables, else defaults; the connection from the same `env`."""
    connection = connection_from(args, env)
    args = OPTIONS.resolve(args, env)
    pr_token = env.get(args.pr_token_env, "") if args.pr_token_env else None
    if args.pr_token_env and not pr_token:
        raise InputError(f"--pr-token-env names {args.pr_token_env}, which is empty")
    loop = bool(args.loop) and not args.once
    max_tasks = int(args.max_tasks) if args.max_tasks is not None else (0 if loop else 1)
    return WorkerSettings(
        worker=args.worker or "",
        repo=connection.repo,
        token=connection.token,
        api_url=connection.api_url,
        git_url=connection.git_url,
        workdir=Path(args.workdir) if args.workdir else workdir_default(env),
        pool=args.pool or None,
        command=args.command,
        agent=args.agent,
        claude=ClaudeCodeSettings.from_env(
            env,
            executable=args.claude_executable,
            allowed_tools=split_list(args.allowed_tools),
            max_turns=int(args.max_turns),
            model=args.model or None,
            max_cost_usd=float(args.max_cost_usd) if args.max_cost_usd else None,
            timeout_seconds=float(args.timeout_minutes) * 60,
        ),
        test_command=args.test_command or None,
        prompt_template=Path(args.prompt_template) if args.prompt_template else None,
        template_dir=Path(args.template_dir) if args.template_dir else None,
        agent_env=split_list(args.pass_env),
        pass_token=bool(args.pass_token),
        isolation=IsolationSettings(
            mode=args.isolation,
            network=args.network,
            allow_domains=(MODEL_API_HOST, *split_list(args.allow_domains)),
            read_only=tuple(Path(path) for path in split_list(args.read_only_paths)),
        ),
        secret_env=split_list(args.secret_env),
        allow_workflow_changes=bool(args.allow_workflow_changes),
        max_change_bytes=int(args.max_change_bytes),
        max_tasks=max_tasks,
        timeout=timedelta(minutes=float(args.timeout_minutes)),
        lease=timedelta(minutes=float(args.lease_minutes)),
        max_attempts=int(args.max_attempts),
        trusted_authors=split_list(args.trusted_authors),
        manager_login=args.manager_login,
        assignee=args.assignee or None,
        base_branch=args.base_branch or None,
        draft=bool(args.draft),
        pr_token=pr_token,
        checkout=Path(args.checkout) if args.checkout else None,
        loop=loop,
        interval=float(args.interval),
        max_idle_polls=int(args.max_idle_polls),
        dry_run=bool(args.dry_run),
        progress_interval=float(args.progress_interval),
        write_pacing=float(args.write_pacing),
        max_requests=int(args.max_requests),
        rate_limit_reserve=int(args.rate_limit_reserve),
        max_wait=float(args.max_wait),
        cache_dir=Path(args.cache_dir) if args.cache_dir else cache_dir_default(env),
        spread=f"{args.worker}@{env.get('RUNNER_NAME') or socket.gethostname()}/{os.getpid()}",
        labels=labels_from(args.label_names),
        claims_namespace=args.claims_namespace,
        run_id=env.get("GITHUB_RUN_ID", ""),
        run_url=actions_run_url(env),
    )


def run_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    # A cancelled workflow run sends SIGINT, then SIGTERM: both hand the current task back before exiting.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    masker = Masker(settings.secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter(masker))
    result = run(settings)
    report(result, as_json=bool(OPTIONS.resolve(args, os.environ).json), mask=masker)
    return result.exit_code


def report(result: WorkerResult, *, as_json: bool, mask: Masker) -> None:
    """JSON on stdout (and a readable line on stderr), step outputs and summary in Actions, annotations."""
    data = result.to_json()
    text = mask(json.dumps(data))
    print(text)
    if not as_json:
        print(mask(_line(result)), file=sys.stderr)
    set_output("status", result.status.value)
    set_output("issue", str(data["issue"] or ""))
    set_output("pr-url", data["pr_url"] or "")
    set_output("result-json", text)
    agent = (data["tasks"][-1]["agent"] if data["tasks"] else None) or {}  # an agent preset's figures
    set_output("agent-turns", str(agent.get("turns", "")))
    set_output("agent-cost-usd", str(agent.get("cost_usd", "")))
    set_output("agent-tokens", str(agent.get("tokens", {}).get("total", "")))
    append_summary(mask(render("worker_summary.md.j2", result=data)))
    for task in result.tasks:
        if task.status in (Status.FAILED, Status.LEASE_LOST):
            annotate("error", mask(f"#{task.issue}: {task.status.value}: {task.reason}"))
    if result.status is Status.RATE_LIMITED:
        annotate("warning", mask(result.message or "rate limited"))


def _line(result: WorkerResult) -> str:
    parts = [f"{t.status.value} #{t.issue}" + (f" → PR #{t.pr}" if t.pr else "") for t in result.tasks]
    if result.status is Status.DRY_RUN:
        parts.append("would try " + (", ".join(f"#{n}" for n in result.candidates) or "nothing"))
    if result.message:
        parts.append(result.message)
    return (
        f"{result.worker}: {result.status.value}"
        + (": " + "; ".join(parts) if parts else "")
        + (f" ({result.requests.get('total', 0)} requests)")
    )
