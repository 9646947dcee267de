"""Progress of long manager work (a first sync of 1,000 tasks takes minutes at GitHub's pace).

On a terminal: a rich progress bar with counts, rate and time left. In logs (Actions, pipes): a plain
line every `every` seconds, so a run that takes 13 minutes says where it is without flooding the log.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """`advance()` once per item done; use as a context manager around the work."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every, self.clock = every, clock
        self._bar = None

    def __enter__(self) -> Progress:
        self.started = self.last = self.clock()
        if self.terminal:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            console = Console(file=self.stream, force_terminal=True)
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
        elif self.clock() - self.last >= self.every:
            self.last = self.clock()
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = self.clock() - self.started
        share = self.done / self.total if self.total else 1.0
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        eta = f", about {_duration(left)} left" if left is not None and self.done < self.total else ""
        return f"{self.label}: {self.done}/{self.total} ({share:.0%}) in {_duration(elapsed)}{eta}"

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.clock() - self.started >= self.every:
            print(self.line(), file=self.stream, flush=True)  # long runs end with a last count


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
