"""The worker loop: poll → claim → announce → run the agent (heartbeat) → test → deliver or give up → stop?"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from ccc.client import Budget, Issue, RepoClient, RetryPolicy, connect
from ccc.errors import AuthError, BudgetSpent, CccError, GitHubError, LeaseLost, RateLimitError
from ccc.isolation.confine import Confinement, check_bwrap, host_of
from ccc.protocol.claims import Claim, ClaimStore, lease_margin, new_nonce
from ccc.protocol.lifecycle import Lifecycle
from ccc.protocol.markers import strip_hidden
from ccc.render import render, render_file
from ccc.worker.agent import (
    Agent,
    AgentJob,
    ClaudeCodeAgent,
    CommandAgent,
    CommandRun,
    ProgressTail,
    clean_env,
    run_command,
)
from ccc.worker.deliver import Publisher
from ccc.worker.lease import Heartbeat
from ccc.worker.listing_cache import ListingCache
from ccc.worker.masking import Masker
from ccc.worker.progress import ProgressComment
from ccc.worker.queue import Trust, WorkQueue, manager_marker
from ccc.worker.result import Status, TaskResult, WorkerResult, overall
from ccc.worker.settings import WorkerSettings
from ccc.worker.task import AttemptFailed, Cancelled, Task, branch_name
from ccc.worker.treecheck import TreePolicy
from ccc.worker.workspace import Workspace

log = logging.getLogger(__name__)

UNCONFINED = (
    "ISOLATION IS OFF (--isolation none): the agent runs as this worker's user and can read its tokens, "
    "git credentials and runner files. Use it only on a runner that runs nothing else."
)


def run(
    settings: WorkerSettings, *, client: RepoClient | None = None, sleep: Callable[[float], None] = time.sleep
) -> WorkerResult:
    """Poll once (`--once`) or until stopped (`--loop`); returns what happened, never raises for a task."""
    if not settings.dry_run:
        check_isolation(settings)  # before claiming: a task must not be taken that cannot run confined
    client = client or connect_client(settings, settings.token)
    worker = Worker(settings, client)
    started = time.monotonic()
    result = WorkerResult(worker=settings.worker, status=Status.IDLE, isolation=settings.isolation.mode)
    idle_polls = 0
    budget = Budget(max_requests=settings.max_requests, reserve=settings.rate_limit_reserve)
    try:
        while True:
            budget.check("the next poll", client.counter)  # between tasks: a claimed task is always finished
            result.polls += 1
            if settings.dry_run:
                result.candidates = worker.plan()
                break
            try:
                task = worker.poll()
            except (RateLimitError, AuthError):
                raise
            except GitHubError as exc:
                if not settings.loop:
                    raise
                log.warning("poll failed, trying again next time: %s", exc)  # a daemon outlives outages
                task = None
            if task is not None:
                result.tasks.append(task)
                idle_polls = 0
                if settings.max_tasks and len(result.tasks) >= settings.max_tasks:
                    break
                continue  # work was found: look again at once
            idle_polls = 0 if worker.others_at_work else idle_polls + 1
            if not settings.loop or (settings.max_idle_polls and idle_polls >= settings.max_idle_polls):
                break
            sleep(settings.interval)
        result.status = Status.DRY_RUN if settings.dry_run else overall(result.tasks)
    except RateLimitError as exc:
        result.status, result.reset_at, result.message = Status.RATE_LIMITED, exc.reset_at, exc.message
    except BudgetSpent as exc:
        result.status, result.reset_at, result.message = Status.BUDGET_SPENT, exc.reset_at, exc.message
    result.seconds = time.monotonic() - started
    result.requests = client.counter.snapshot()
    if rate := client.counter.rate_line():
        log.info("%s", rate)
    return result


def check_isolation(settings: WorkerSettings) -> None:
    """Fail with the fixing command if bubblewrap cannot confine the agent; shout when confinement is off."""
    if settings.isolation.confined:
        check_bwrap()
    else:
        log.warning("%s", UNCONFINED)


def make_agent(settings: WorkerSettings) -> Agent:
    if settings.agent == "claude-code":
        template_dir = str(settings.template_dir) if settings.template_dir else None
        return ClaudeCodeAgent(settings.claude, template_dir=template_dir)
    return CommandAgent(settings.command or "")


def connect_client(settings: WorkerSettings, token: str, **kwargs) -> RepoClient:
    """A client paced as GitHub asks for writes; reads are not paced (the heartbeat must not wait on them)."""
    return connect(
        repo=settings.repo,
        api_url=settings.api_url,
        token=token,
        dry_run=settings.dry_run,
        policy=RetryPolicy(max_rate_limit_wait_seconds=settings.max_wait),
        seconds_between_requests=0,
        seconds_between_writes=settings.write_pacing,
        **kwargs,
    )


class Worker:
    """One worker identity on one repository: its queue, claims, work trees and publisher."""

    def __init__(self, settings: WorkerSettings, client: RepoClient):
        self.settings = settings
        self.client = client
        self.mask = Masker(settings.secrets)
        self.agent = make_agent(settings) if not settings.dry_run else None
        self.store = ClaimStore(
            client,
            namespace=settings.claims_namespace,
            max_attempts=settings.max_attempts,
            margin=lease_margin(settings.lease),
        )
        self.queue = WorkQueue(
            client,
            served=settings.served_labels,
            labels=settings.labels,
            trust=Trust(client, settings.trusted_authors),
            manager=settings.manager_login,
            cache=settings.cache_dir and ListingCache(settings.cache_dir, api_url=settings.api_url, repo=settings.repo),
            spread=settings.spread,
        )
        self.workspace = Workspace(
            remote_url=settings.remote_url,
            token=settings.token,
            root=settings.workdir,
            masker=self.mask,
            checkout=settings.checkout,
            policy=TreePolicy(
                secrets=settings.secrets,
                allow_workflow_changes=settings.allow_workflow_changes,
                max_change_bytes=settings.max_change_bytes,
            ),
        )
        pr_client = client
        if settings.pr_token:
            pr_client = connect_client(settings, settings.pr_token, counter=client.counter)
        self._known_leases: dict[int, datetime] = {}  # in-progress issues: when their lease runs out
        self.others_at_work = False  # the last poll saw issues in progress: a lease may yet run out
        self.lifecycle = Lifecycle(client, settings.labels, self.store, manager=settings.manager_login)
        self.publisher = Publisher(
            settings,
            client=client,
            pr_client=pr_client,
            store=self.store,
            lifecycle=self.lifecycle,
            workspace=self.workspace,
            masker=self.mask,
        )

    # -- finding and taking work ----------------------------------------------------------------

    def plan(self) -> list[int]:
        """Dry run: the ready issues this worker would try, in order."""
        ready, _ = self.queue.split(self.queue.listing())
        deps: dict[int, bool] = {}
        return [issue.number for issue in ready if self.queue.dependencies_done(issue, deps)]

    def poll(self) -> TaskResult | None:
        """Take one task, with a fresh listing: a ready issue, else an in-progress one whose lease ran out."""
        ready, held = self.queue.split(self.queue.listing())
        log.debug("poll: %d ready, %d in progress", len(ready), len(held))
        self.others_at_work = bool(held)
        deps: dict[int, bool] = {}
        for issue in ready:
            if self.queue.dependencies_done(issue, deps):
                claim = self._claim(issue)
                if claim:
                    return _logged(self.work_on(issue, claim))
        for issue in held:
            if self._lease_may_have_run_out(issue):
                claim = self._claim(issue)
                if claim:
                    log.info("#%d: took over an expired lease", issue.number)
                    return _logged(self.work_on(issue, claim))
        return None

    def _lease_may_have_run_out(self, issue: Issue) -> bool:
        """Read the claim of an in-progress issue at most once per lease it shows (2 requests).

        A claim that is already final (its worker stopped between recording it and relabelling)
        gets its labels settled here, so no issue stays in-progress without a live lease.
        """
        now = self.store.clock()
        if now < self._known_leases.get(issue.number, now):
            return False
        record = self.store.read(issue.number)
        if record is None or self.store.may_take(record, now):
            return True
        if record.kind.is_final:
            self.lifecycle.settle(issue, record)
            self._known_leases[issue.number] = datetime.max.replace(tzinfo=timezone.utc)
        else:
            self._known_leases[issue.number] = record.lease_expires_at + self.store.margin
        return False

    def _claim(self, issue: Issue) -> Claim | None:
        claim = self.lifecycle.claim(
            issue,
            worker=self.settings.worker,
            run_id=self.settings.run_id,
            run_url=self.settings.run_url,
            lease=self.settings.lease,
        )
        log.info("#%d: %s", issue.number, f"claimed (attempt {claim.record.attempt})" if claim else "taken by another")
        return claim

    # -- one task --------------------------------------------------------------------------------

    def work_on(self, issue: Issue, claim: Claim) -> TaskResult:
        heartbeat = Heartbeat(
            self.store,
            claim,
            lease=self.settings.lease,
            interval=self.settings.heartbeat_seconds,
            withdrawn=lambda: self.queue.withdrawn(issue.number),
        ).start()
        nonce = new_nonce()
        # The nonce proves ccc's own comments: it is never in a path, a file or a variable the agent sees.
        files = self.settings.workdir / "tasks" / f"{issue.number}-{new_nonce()}"
        files.mkdir(parents=True, exist_ok=True)
        branch = branch_name(issue, claim.record.attempt)
        task = Task(issue=issue, heartbeat=heartbeat, branch=branch, base="", files=files, nonce=nonce)
        try:
            self.publisher.announce(task)
            try:
                task.base = self.settings.base_branch or self.workspace.default_branch()
                self.attempt(task)
                return self.publisher.deliver(task)
            except AttemptFailed as failure:
                return self.publisher.give_up(task, failure.reason, failure.log_tail)
            except Cancelled as cancelled:
                return self.publisher.cancel(task, cancelled.reason)
            except (LeaseLost, RateLimitError, AuthError):
                raise  # nothing more can be published: the lease expires and another worker retries
            except CccError as exc:  # GitHub kept failing, or git: a fetch, commit or push that failed
                return self.publisher.give_up(task, exc.message, "")
            except Exception as exc:  # a bug must not leave the task held until its lease runs out
                log.exception("#%d: unexpected error", issue.number)
                return self.publisher.give_up(task, f"internal error: {type(exc).__name__}: {exc}", "")
            except KeyboardInterrupt:  # SIGINT, or SIGTERM from a cancelled run: hand the task back first
                try:
                    self.publisher.give_up(task, "the worker was stopped", "")
                except CccError as exc:
                    log.error("#%d: could not hand the task back (%s); its lease will expire", issue.number, exc)
                raise
        except LeaseLost as exc:
            log.error("%s: publishing nothing", exc)
            return TaskResult(
                issue.number,
                Status.LEASE_LOST,
                attempt=claim.record.attempt,
                branch=task.branch,
                reason=exc.message,
                timings=task.timings,
            )
        finally:
            self._stop_quietly(heartbeat)
            if task.tree is not None:
                self.workspace.remove(task.tree)
            shutil.rmtree(files, ignore_errors=True)  # the log tail that matters is on the issue

    def attempt(self, task: Task) -> None:
        """Work tree, prompt, agent, tests, commit: raises AttemptFailed with the reason when one fails."""
        task.tree = self.workspace.prepare(base=task.base, name=task.files.name)
        task.prompt_file.write_text(self.prompt(task), encoding="utf-8")
        task.progress_file.touch()
        task.mark("prepared")
        env = clean_env(
            {
                "CCC_PROMPT_FILE": str(task.prompt_file),
                "CCC_ISSUE_NUMBER": str(task.number),
                "CCC_ISSUE_TITLE": task.issue.title,
                "CCC_BRANCH": task.branch,
                "CCC_WORKDIR": str(task.tree),
                "CCC_PROGRESS_FILE": str(task.progress_file),
            },
            pass_names=self.settings.agent_env,
            token=self.settings.token if self.settings.pass_token else None,
        )
        progress = ProgressComment(
            self.client,
            issue=task.number,
            worker=self.settings.worker,
            nonce=task.nonce,
            tail=ProgressTail(task.progress_file),
            interval=self.settings.progress_interval,
            mask=self.mask,
            template_dir=str(self.settings.template_dir) if self.settings.template_dir else None,
            may_publish=lambda: not task.heartbeat.lost.is_set(),
        )
        with self._confinement(task) as confinement:
            outcome = self._run_agent(task, env, progress, confinement)
            if self.settings.test_command:
                tests = self._run(task, self.settings.test_command, env, confinement=confinement)
                task.mark("tests")
                if not tests.ok:
                    raise AttemptFailed(tests.describe("the test command"), tests.log_tail)
                task.tests = "passed"
        if not self.workspace.commit_all(
            task.tree, message=self.publisher.commit_message(task), **self.publisher.identity
        ):
            raise AttemptFailed("the agent made no changes", outcome.log_tail)

    def _confinement(self, task: Task) -> Confinement:
        """The task's confinement: its tree, its prompt read-only, its progress file writable; never GitHub."""
        assert self.agent is not None and task.tree is not None
        return Confinement(
            self.settings.isolation,
            tree=task.tree,
            read_only=(task.prompt_file, *self.agent.toolchain),
            writable_files=(task.progress_file,),
            blocked_hosts=(host_of(self.settings.api_url), host_of(self.settings.git_url)),
            model_api=self.agent.model_api,
        )

    def _run_agent(self, task: Task, env: dict, progress: ProgressComment, confinement: Confinement):
        assert self.agent is not None and task.tree is not None
        job = AgentJob(
            prompt_file=task.prompt_file,
            tree=task.tree,
            env=env,
            log_file=task.log_file,
            timeout=self.settings.timeout.total_seconds(),
            stop=task.heartbeat.halt,
            confinement=confinement,
            on_tick=progress.tick,
            on_checklist=progress.show,
        )
        outcome = self.agent.run(job)
        self._raise_if_halted(task, "the agent")
        progress.flush()
        task.progress = progress.lines
        task.agent = outcome.figures
        task.mark("agent")
        if not outcome.ok:
            raise AttemptFailed(outcome.reason, self.mask(outcome.log_tail))
        return outcome

    def prompt(self, task: Task) -> str:
        marker = manager_marker(task.issue, self.settings.manager_login)
        variables = {
            "issue": {
                "number": task.number,
                "title": task.issue.title,
                "body": strip_hidden(task.issue.body).strip(),
                "labels": list(task.issue.labels),
                "author": task.issue.author,
                "url": task.issue.html_url,
            },
            "task": {"id": marker.id, "deps": list(marker.deps)} if marker else None,
            "repo": self.settings.repo,
            "worker": self.settings.worker,
            "branch": task.branch,
            "base_branch": task.base,
            "progress_file": str(task.progress_file),
            "test_command": self.settings.test_command,
        }
        if self.settings.prompt_template:
            return render_file(self.settings.prompt_template, **variables)
        return render("worker_prompt.md.j2", **variables)

    def _run(self, task: Task, command: str, env: dict, *, confinement: Confinement) -> CommandRun:
        run_result = run_command(
            command,
            cwd=task.tree,
            env=env,
            timeout=self.settings.timeout.total_seconds(),
            log_path=task.log_file,
            stop=task.heartbeat.halt,
            confinement=confinement,
        )
        self._raise_if_halted(task, repr(command))
        return replace(run_result, log_tail=self.mask(run_result.log_tail))

    @staticmethod
    def _raise_if_halted(task: Task, what: str) -> None:
        if task.heartbeat.lost.is_set():
            raise LeaseLost(f"#{task.number}: the lease was lost while {what} ran", issue=task.number)
        if task.heartbeat.cancelled:
            raise Cancelled(task.heartbeat.cancelled)

    @staticmethod
    def _stop_quietly(heartbeat: Heartbeat) -> None:
        try:
            heartbeat.stop()
        except LeaseLost:
            pass


def _logged(result: TaskResult) -> TaskResult:
    """One line per outcome of a task, for the log of a --loop worker (lost leases log their own)."""
    if result.status is Status.DELIVERED:
        log.info("#%d: delivered %s (attempt %d)", result.issue, result.pr_url or f"PR #{result.pr}", result.attempt)
    elif result.status is Status.FAILED:
        outcome = "failed for good" if result.final else "released for a retry"
        log.warning("#%d: %s (attempt %d): %s", result.issue, outcome, result.attempt, result.reason)
    return result


def workdir_default(env: Mapping[str, str]) -> Path:
    """Where clones and task files live: the runner's temp dir in Actions, else a cache dir."""
    if env.get("RUNNER_TEMP"):
        return Path(env["RUNNER_TEMP"]) / "ccc"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ccc" / "worker"
