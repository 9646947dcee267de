"""Agent progress on the issue: one status comment, created on the first line and then edited, rate-limited."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ccc.client import RepoClient
from ccc.errors import GitHubError
from ccc.protocol.markers import comment_marker
from ccc.render import render
from ccc.untrusted import cap_body, neutralise
from ccc.worker.agent import ProgressTail

log = logging.getLogger(__name__)

MAX_LINES = 30
MAX_LINE_CHARS = 300


class ProgressComment:
    """Collects the agent's progress lines and mirrors them into one comment at most every `interval` seconds."""

    def __init__(
        self,
        client: RepoClient,
        *,
        issue: int,
        worker: str,
        nonce: str,
        tail: ProgressTail,
        interval: float,
        mask: Callable[[str], str],
        template_dir: str | None = None,
        may_publish: Callable[[], bool] = lambda: True,
    ):
        self.client = client
        self.issue = issue
        self.worker = worker
        self.tail = tail
        self.interval = interval
        self.mask = mask
        self.template_dir = template_dir
        self.may_publish = may_publish
        self.lines: list[str] = []
        self.checklist = ""  # an agent preset's live checklist, shown above the lines
        self._shown_checklist = ""
        self._marker = comment_marker("progress", issue, nonce)
        self._comment_id: int | None = None
        self._published = 0  # lines already on GitHub
        self._last = float("-inf")

    def show(self, checklist: str) -> None:
        """Replace the checklist (agent presets that report structured progress); the next tick publishes it."""
        self.checklist = self.mask(checklist)

    def tick(self) -> None:
        """Read new lines; publish when there is news and the last edit is `interval` seconds old."""
        self._read()
        if self._news() and time.monotonic() - self._last >= self.interval:
            try:
                self._publish(done=False)
            except GitHubError as exc:  # progress is a courtesy: the task goes on, the next tick retries
                log.warning("#%d: progress comment not updated: %s", self.issue, exc)
                self._last = time.monotonic()

    def flush(self) -> None:
        """Final state after the agent exits: whatever is not on the issue yet goes there now."""
        self._read()
        if self._news():
            self._publish(done=True)

    def _read(self) -> None:
        """New lines, masked, cut and neutralised: from here on they are safe to show on GitHub."""
        self.lines.extend(neutralise(self.mask(line)[:MAX_LINE_CHARS]) for line in self.tail.read_new())

    def _news(self) -> bool:
        return len(self.lines) > self._published or self.checklist != self._shown_checklist

    def _publish(self, *, done: bool) -> None:
        if not self.may_publish():
            return
        body = cap_body(
            render(
                "worker_progress_comment.md.j2",
                override_dir=self.template_dir,
                worker=self.worker,
                lines=self.lines[-MAX_LINES:],
                checklist=self.checklist,
                updated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                done=done,
            )
            + f"\n{self._marker}\n"
        )
        if self._comment_id is None:
            made = self.client.create_comment(self.issue, body, marker=self._marker)
            self._comment_id = made.id if made else None
        else:
            self.client.update_comment(self._comment_id, body)
        self._published = len(self.lines)
        self._shown_checklist = self.checklist
        self._last = time.monotonic()
