"""Everything a worker makes visible on GitHub for a task: claim notice, PR and completion, or failure.

Each visible result is fenced by a write: the branch is pushed atomically with a move of the claim,
the PR is opened only while git shows our claim, completion is a compare-and-set; so a worker whose
lease was taken over publishes nothing (ccc.worker.fence). The transitions themselves are the
lifecycle's verbs (ccc.protocol.lifecycle).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from ccc.client import PullRequest, RepoClient
from ccc.errors import CccError, UnprocessableError
from ccc.protocol.claims import Claim, ClaimStore
from ccc.protocol.lifecycle import Lifecycle, Note
from ccc.protocol.markers import comment_marker
from ccc.protocol.states import TaskState
from ccc.render import render
from ccc.untrusted import cap_body, cap_title, defuse, neutralise
from ccc.worker.fence import Fence, checkpoint
from ccc.worker.masking import Masker
from ccc.worker.result import Status, TaskResult
from ccc.worker.settings import WorkerSettings
from ccc.worker.task import AttemptFailed, Cancelled, Task
from ccc.worker.workspace import Workspace

log = logging.getLogger(__name__)


def utc_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class Publisher:
    """Writes what a worker shows for a task (claim comment, PR, completion, failure) through the lifecycle's verbs."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        client: RepoClient,
        pr_client: RepoClient,
        store: ClaimStore,
        lifecycle: Lifecycle,
        workspace: Workspace,
        masker: Masker,
    ):
        self.settings = settings
        self.client = client
        self.pr_client = pr_client
        self.store = store
        self.lifecycle = lifecycle
        self.workspace = workspace
        self.mask = masker
        self.labels = settings.labels
        self.template_dir = str(settings.template_dir) if settings.template_dir else None

    # -- claim ---------------------------------------------------------------------------------

    def announce(self, task: Task) -> None:
        """in-progress label, assignee, and the claim comment in the original design's format."""
        claim = task.heartbeat.current
        note = self._note(
            task,
            "claim",
            "worker_claim_comment.md.j2",
            started=utc_text(claim.record.at),
            run_url=self.settings.run_url,
            attempt=claim.record.attempt,
            max_attempts=self.settings.max_attempts,
            branch=task.branch,
        )
        self.lifecycle.announce(task.issue, note, assignee=self.settings.assignee)

    # -- success -------------------------------------------------------------------------------

    def deliver(self, task: Task) -> TaskResult:
        """Push (fenced), open (or reuse) the PR, record completion on the claim, then labels and comment.

        Each step is fenced: the push lands only with our claim, the PR is opened only while git still
        shows our claim, and completion is a compare-and-set. A worker fenced after opening its PR
        closes it with a comment, so only the live holder's PR stays open.
        """
        fence = self._fence(task)
        reason = task.heartbeat.cancelled or task.heartbeat.withdrawn()
        if reason:
            raise Cancelled(reason)
        checkpoint("before-push")
        task.heartbeat.hold(lambda claim: fence.push(claim, task.tree, task.branch))
        task.mark("pushed")
        checkpoint("after-push")
        checkpoint("before-pr")
        task.heartbeat.hold(fence.confirm)
        pull = self._open_pull(task)
        checkpoint("before-completion")
        try:
            self.lifecycle.complete(task.heartbeat.stop(), pr_url=pull.html_url)  # the fence for what follows
        except CccError:  # lost, or never recorded: the task goes to another attempt, which opens its own PR
            self._withdraw(task, pull)
            raise
        problem = self.lifecycle.delivered(task.issue, self._completion_note(task, pull))
        if problem:  # delivered all the same: any worker that sees the issue settles its labels
            log.error("#%d: %s", task.number, problem)
        task.mark("completed")
        return TaskResult(
            task.number,
            Status.DELIVERED,
            attempt=task.attempt,
            branch=task.branch,
            pr=pull.number,
            pr_url=pull.html_url,
            tests=task.tests,
            reason=problem,
            timings=task.timings,
            agent=task.agent,
        )

    def _completion_note(self, task: Task, pull: PullRequest) -> Note:
        """The completion comment in the original design's format."""
        return self._note(
            task,
            "done",
            "worker_completion_comment.md.j2",
            pr={"number": pull.number, "url": pull.html_url},
            agent=task.agent,
            tests=task.tests,
            test_command=self.settings.test_command,
            finished=utc_text(),
        )

    def _open_pull(self, task: Task) -> PullRequest:
        """Open the PR, or reuse the open one for the branch (the client reconciles unknown outcomes)."""
        body = self._text(
            "worker_pr_body.md.j2",
            issue={"number": task.number, "title": neutralise(task.issue.title)},
            attempt=task.attempt,
            progress=task.progress,
            agent=task.agent,
            tests=task.tests,
            test_command=self.settings.test_command,
            run_url=self.settings.run_url,
        )
        title = cap_title(_single_line(task.issue.title) or f"Resolve #{task.number}")
        try:
            return self.pr_client.create_pull(
                head=task.branch, base=task.base, title=title, body=body, draft=self.settings.draft
            )
        except UnprocessableError as exc:
            raise AttemptFailed(f"GitHub refused the pull request: {exc.message}") from None

    def _withdraw(self, task: Task, pull: PullRequest) -> None:
        """Close the PR of an attempt that could not record completion, saying why (best effort)."""
        log.error("#%d: completion was not recorded after PR #%d was opened: closing it", task.number, pull.number)
        try:
            marker = comment_marker("withdrawn", pull.number, task.nonce)
            body = self._text("worker_withdrawn_comment.md.j2", marker=marker, issue=task.number, attempt=task.attempt)
            self.pr_client.create_comment(pull.number, body, marker=marker)
            self.pr_client.close_pull(pull.number)
        except CccError as exc:
            log.error("#%d: could not close PR #%d: %s", task.number, pull.number, exc)

    def _fence(self, task: Task) -> Fence:
        return Fence(self.store, self.workspace, lease=self.settings.lease, scratch=task.files)

    # -- cancellation --------------------------------------------------------------------------

    def cancel(self, task: Task, reason: str) -> TaskResult:
        """The task was withdrawn while we worked: hand the claim back saying why, drop in-progress, comment
        once; nothing is pushed. A task reopened or relabelled later is taken again as the next attempt."""

        def cancelled_note(claim: Claim, state: TaskState) -> Note:
            return self._note(
                task, "cancelled", "worker_cancelled_comment.md.j2", reason=reason, attempt=claim.record.attempt
            )

        claim, _ = self.lifecycle.cancel(task.heartbeat.stop(), task.issue, reason, cancelled_note)
        return TaskResult(
            task.number, Status.CANCELLED, attempt=claim.record.attempt, reason=reason, timings=task.timings
        )

    # -- failure -------------------------------------------------------------------------------

    def give_up(self, task: Task, reason: str, log_tail: str) -> TaskResult:
        """Keep the work for inspection, release the claim for a retry (or fail it), then say why."""
        reason = self.mask(reason)
        branch = self._keep_for_inspection(task)

        def failure_note(claim: Claim, state: TaskState) -> Note:
            return self._note(
                task,
                "failed",
                "worker_failure_comment.md.j2",
                reason=neutralise(reason),
                attempt=claim.record.attempt,
                max_attempts=self.settings.max_attempts,
                final=state is TaskState.FAILED,
                branch=branch,
                log_tail=self.mask(log_tail),
            )

        claim, state = self.lifecycle.give_back(task.heartbeat.stop(), task.issue, reason, failure_note)
        final = state is TaskState.FAILED
        return TaskResult(
            task.number,
            Status.FAILED,
            attempt=claim.record.attempt,
            branch=branch or "",
            reason=reason,
            final=final,
            timings=task.timings,
            agent=task.agent,
        )

    def _keep_for_inspection(self, task: Task) -> str | None:
        """Push whatever the attempt produced to its branch; None when there is nothing to keep."""
        if task.tree is None:
            return None
        try:
            self.workspace.commit_all(task.tree, message=f"WIP: failed attempt at #{task.number}", **self.identity)
            if not self.workspace.has_commits_beyond(task.tree, task.base):
                return None
            fence = self._fence(task)
            task.heartbeat.hold(lambda claim: fence.push(claim, task.tree, task.branch))
            return task.branch
        except CccError as exc:
            if task.heartbeat.lost.is_set():
                raise
            log.warning("#%d: could not push the failed attempt for inspection: %s", task.number, exc)
            return None

    # -- shared --------------------------------------------------------------------------------

    @property
    def identity(self) -> dict[str, str]:
        name = f"ccc-{self.settings.worker}"
        return {"author": name, "email": f"{name}@users.noreply.github.com"}

    def commit_message(self, task: Task) -> str:
        title = defuse(_single_line(task.issue.title))[:72] or "task"
        return (
            f"{title} (#{task.number})\n\nResolves #{task.number}.\n\n"
            f"Ccc-Worker: {self.settings.worker}\nCcc-Attempt: {task.attempt}\n"
        )

    def _text(self, template: str, **variables) -> str:
        text = render(template, override_dir=self.template_dir, worker=self.settings.worker, **variables)
        return cap_body(self.mask(text))

    def _note(self, task: Task, kind: str, template: str, **variables) -> Note:
        marker = comment_marker(kind, task.number, task.nonce)
        return Note(self._text(template, marker=marker, **variables), marker)


def _single_line(text: str) -> str:
    return " ".join(text.split())
