"""Named exceptions for the conditions ccc reports to people, with their exit codes.

Exit codes (documented in the README):
  0  success (including an idle worker poll)
  1  a task or operation failed
  2  bad input: manifest, settings, command line
  3  GitHub refused or could not be reached (auth, permission, rate limit, outage)
"""

from __future__ import annotations


class CccError(Exception):
    """Base class: a message for people, and the process exit code it maps to."""

    exit_code = 1

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col

    def location(self) -> str:
        """`file:line:col: ` prefix, or '' when the error has no place in a file."""
        if not self.file:
            return ""
        parts = [self.file] + [str(n) for n in (self.line, self.col) if n is not None]
        return ":".join(parts) + ": "

    def __str__(self) -> str:
        return self.location() + self.message


class InputError(CccError):
    """Bad input from the user: a setting, a flag, a manifest."""

    exit_code = 2


class GitHubError(CccError):
    """GitHub answered with an error that retrying will not fix."""

    exit_code = 3


class AuthError(GitHubError):
    """The token is missing, wrong, or lacks a permission."""


class ActionsMayNotOpenPullsError(AuthError):
    """The repository forbids GitHub Actions' token to create pull requests (GitHub's default)."""


class BadCredentialsError(AuthError):
    """GitHub does not know the token at all (401): nothing else is worth trying."""


class RateLimitError(GitHubError):
    """The rate limit is spent and its reset is further away than we may wait."""

    def __init__(self, message: str, *, reset_at: float | None = None):
        super().__init__(message)
        self.reset_at = reset_at


class BudgetSpent(CccError):
    """The run reached its own budget (requests, writes, the rate-limit reserve) and stopped cleanly.

    Not a failure: the work left is for the next run, which resumes where this one stopped.
    """

    exit_code = 0

    def __init__(self, message: str, *, reset_at: float | None = None):
        super().__init__(message)
        self.reset_at = reset_at


class AmbiguousWriteError(GitHubError):
    """A write may or may not have been applied (timeout or 5xx): read back before retrying."""


class TransientError(GitHubError):
    """The server kept failing (5xx, resets) after every retry we allow."""


class OutcomeUnknown(TransientError):
    """A claim write GitHub never settled: neither won nor lost. The claim stays as it was known; try later."""


class NotFoundError(GitHubError):
    """GitHub answered 404: the object does not exist (or the token may not see it)."""


class UnprocessableError(GitHubError):
    """GitHub answered 422: a validation failure, or a compare-and-set that lost (ref exists, not a fast forward)."""

    def __init__(self, message: str, *, errors: list | None = None):
        super().__init__(message)
        self.errors = errors or []


class LeaseLost(CccError):
    """Our claim on a task is gone (the ref moved: expired and taken over, or finalized): publish nothing."""

    def __init__(self, message: str, *, issue: int | None = None):
        super().__init__(message)
        self.issue = issue
