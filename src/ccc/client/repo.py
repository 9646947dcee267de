"""`RepoClient`: every GitHub operation ccc performs on one repository, with the right retry for each.

The only code that talks to PyGithub (with `transport` and `__init__`). Reads return the plain
models of `ccc.client.models`; lists are fetched page by page (per_page 100) straight from JSON
so no object is ever lazily completed with an extra GET. Writes go through PyGithub's lazy objects.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException

from ccc.client.budget import Budget
from ccc.client.listing import WATERMARK_SLACK, LabelView
from ccc.client.models import Comment, GitCommit, Issue, Label, PullRequest, Ref, RefWrite, RepositoryAccess, Runner
from ccc.client.policy import RateLimitWait, RetryPolicy, describe_reset, rate_limit_wait
from ccc.client.transport import RequestCounter, ServerClock, counting
from ccc.errors import (
    ActionsMayNotOpenPullsError,
    AmbiguousWriteError,
    AuthError,
    BadCredentialsError,
    GitHubError,
    NotFoundError,
    RateLimitError,
    TransientError,
    UnprocessableError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PER_PAGE = 100
DEFAULT_API_URL = "https://api.github.com"
# Clock skew between us and GitHub when reading back "what did I just create".
_READBACK_SLACK = timedelta(minutes=2)
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

# Rendered when GitHub refuses a sub-issue link other than "already linked to this parent".
SUB_ISSUE_REFUSED = (
    "#{parent}: GitHub refused to link a sub-issue ({reason}). It may already have another parent, or the link "
    "would exceed GitHub's limits (100 sub-issues per parent, 8 levels, no cycles)."
)
# GitHub's 403 text when the repository does not let Actions' token open pull requests.
ACTIONS_PULLS_FORBIDDEN = "GitHub Actions is not permitted to create or approve pull requests."
# Rendered for that 403, naming both ways out.
ACTIONS_PULLS_HINT = (
    "{operation}: GitHub refused (403 {message}) because this repository does not let GitHub Actions' token "
    "open pull requests. Fix one of: turn on Settings > Actions > General > Workflow permissions > "
    '"Allow GitHub Actions to create and approve pull requests" (REST: PUT /repos/OWNER/NAME/actions/'
    "permissions/workflow with can_approve_pull_request_reviews=true), or give the worker a `pr-token` "
    "(a token of a user or app allowed to open pull requests)."
)


class RepoClient:
    """GitHub operations on one repository; counts every request under the operation that made it."""

    def __init__(
        self,
        *,
        token: str,
        repo: str,
        api_url: str = DEFAULT_API_URL,
        counter: RequestCounter | None = None,
        dry_run: bool = False,
        policy: RetryPolicy | None = None,
        timeout: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        budget: Budget | None = None,
        listing_slack: timedelta = WATERMARK_SLACK,
        seconds_between_requests: float = 0.25,
        seconds_between_writes: float = 1.0,
    ):
        """The pacing defaults are PyGithub's (GitHub asks for a second between writes); 0 turns pacing off."""
        if not token:
            raise AuthError("no GitHub token: set GITHUB_TOKEN (in Actions: the github-token input)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
            raise AuthError(f"repository must be OWNER/NAME, got {repo!r} (set --repo or GITHUB_REPOSITORY)")
        self.full_name = repo
        self.api_url = api_url.rstrip("/")
        self.counter = counter or RequestCounter()
        self.dry_run = dry_run
        self.policy = policy or RetryPolicy()
        self.server_clock = ServerClock()
        self.budget = budget or Budget()
        self.listing_slack = listing_slack  # how far before a view's watermark changes are re-read
        self._sleep = sleep
        self._clock = clock
        # retry=None: no replays inside PyGithub/urllib3; `_call` decides per request.
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            per_page=PER_PAGE,
            retry=None,
            timeout=int(timeout),
            lazy=True,
            user_agent="ccc (+https://github.com/org/ccc)",
            seconds_between_requests=seconds_between_requests or None,
            seconds_between_writes=seconds_between_writes or None,
        )
        self._repo = self._gh.get_repo(repo)
        self._repo_path = f"/repos/{repo}"
        self._comment_login: str | None = None  # the author of our first comment: read-backs accept only it

    def close(self) -> None:
        self._gh.close()

    # -- the one place requests are made, retried and translated ------------------------------

    def _call(self, operation: str, fn: Callable[[], T], *, replay_safe: bool, write: bool) -> T:
        """Run one API exchange; replay it only when that cannot duplicate a write."""
        if write and self.dry_run:
            log.info("dry-run: would %s", operation)
            self.counter.add(operation, status=None, write=True)
            return None  # type: ignore[return-value]
        attempt, limited, waited = 0, 0, 0.0
        while True:
            attempt += 1
            self.budget.check(operation, self.counter)
            try:
                with counting(self.counter, operation, self.server_clock):
                    return fn()
            except GithubException as exc:
                message = _message(exc)
                now = self._clock()
                wait = rate_limit_wait(exc.status, exc.headers or {}, message, self.policy, now, repeat=limited + 1)
                if wait is not None:
                    limited += 1
                    if waited + wait.seconds > self.policy.max_rate_limit_wait_seconds:
                        raise _rate_limit_error(operation, wait, now) from None
                    log.warning("%s: rate limited, waiting %.0fs", operation, wait.seconds)
                    self._sleep(wait.seconds)
                    waited += wait.seconds
                    attempt -= 1  # not applied by GitHub: waiting is not a failed attempt
                    continue
                if exc.status < 500:
                    raise _translate(operation, exc.status, message, exc.data, self.full_name) from None
                failure = f"HTTP {exc.status} {message}".strip()
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = type(exc).__name__
            if not replay_safe:
                raise AmbiguousWriteError(f"{operation}: outcome unknown after {failure}")
            if attempt >= self.policy.attempts:
                raise TransientError(f"{operation}: GitHub kept failing ({failure}) after {attempt} attempts")
            log.info("%s: %s, retrying (attempt %d)", operation, failure, attempt + 1)
            self._sleep(self.policy.backoff(attempt))

    def read_back(self, find: Callable[[], T | None]) -> T | None:
        """Look for what a write made (or may have made); a miss is believed only once a lagging
        replica has had time to catch up (`policy.read_back_delays`)."""
        for delay in (0.0, *self.policy.read_back_delays):
            if delay:
                self._sleep(delay)
            found = find()
            if found is not None:
                return found
        return None

    def _get_json(
        self, operation: str, path: str, params: dict | None = None, headers: dict | None = None
    ) -> tuple[dict, Any]:
        url = path if path.startswith("http") else self.api_url + path
        return self._call(
            operation,
            lambda: self._gh.requester.requestJsonAndCheck("GET", url, parameters=params, headers=headers),
            replay_safe=True,
            write=False,
        )

    def _paginate(self, operation: str, path: str, params: dict | None = None) -> Iterator[Any]:
        url: str | None = self.api_url + path
        params = {"per_page": PER_PAGE, **(params or {})}
        while url:
            headers, data = self._get_json(operation, url, params)
            yield from data
            match = _LINK_NEXT.search(headers.get("link", ""))
            url, params = (match.group(1), None) if match else (None, None)

    # -- identity and permissions -------------------------------------------------------------

    def authenticated_login(self) -> str:
        return self._get_json("whoami", "/user")[1]["login"]

    def permission(self, login: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        try:
            data = self._get_json("permission", f"{self._repo_path}/collaborators/{quote(login)}/permission")[1]
        except NotFoundError:
            return "none"
        return data.get("role_name") or data.get("permission") or "none"

    def server_time(self) -> datetime:
        """GitHub's time (from its answers' `Date`); asks once, for free, when nothing was asked yet.

        Falls back to our own clock, with a warning, only if GitHub's answers carry no `Date` at all.
        """
        now = self.server_clock.now()
        if now is None:
            self._get_json("server_time", "/rate_limit")  # /rate_limit costs no rate limit
            now = self.server_clock.now()
        if now is None:
            log.warning("GitHub's answers carry no Date header: judging leases by this runner's clock")
            return datetime.now(timezone.utc)
        return now

    def rate_limit(self) -> dict:
        return self._get_json("rate_limit", "/rate_limit")[1]["resources"]["core"]

    # -- repository settings (what `ccc doctor` checks) ---------------------------------------

    def repository_access(self) -> RepositoryAccess:
        """GET /repos/{owner}/{repo}: the token's role there (and a classic token's scopes, from its header)."""
        return RepositoryAccess.from_answer(*self._get_json("get_repo", self._repo_path))

    def workflow_permissions(self) -> dict:
        """GET …/actions/permissions/workflow: default_workflow_permissions and can_approve_pull_request_reviews
        (whether the Actions GITHUB_TOKEN may create pull requests)."""
        return self._get_json("workflow_permissions", f"{self._repo_path}/actions/permissions/workflow")[1]

    def list_runners(self) -> list[Runner]:
        """GET …/actions/runners: the repository's self-hosted runners (first 100)."""
        data = self._get_json("list_runners", f"{self._repo_path}/actions/runners", {"per_page": PER_PAGE})[1]
        return [Runner.from_json(runner) for runner in data.get("runners") or ()]

    # -- labels ------------------------------------------------------------------------------

    def list_labels(self) -> list[Label]:
        return [Label.from_json(d) for d in self._paginate("list_labels", f"{self._repo_path}/labels")]

    def create_label(self, name: str, color: str, description: str = "") -> None:
        try:
            self._call(
                "create_label", lambda: self._repo.create_label(name, color, description), replay_safe=True, write=True
            )
        except UnprocessableError as exc:
            if not any(e.get("code") == "already_exists" for e in exc.errors if isinstance(e, dict)):
                raise

    # -- issues ------------------------------------------------------------------------------

    def list_issues(
        self,
        *,
        labels: Iterable[str] = (),
        state: str = "open",
        since: datetime | None = None,
        sort: str = "created",
        direction: str = "asc",
        operation: str = "list_issues",
    ) -> list[Issue]:
        params: dict[str, Any] = {"state": state, "sort": sort, "direction": direction}
        if labels:
            params["labels"] = ",".join(labels)
        if since:
            params["since"] = _iso(since)
        return [Issue.from_json(d) for d in self._paginate(operation, f"{self._repo_path}/issues", params)]

    def poll_label(self, label: str, view: LabelView | None) -> LabelView:
        """The label's open issues, brought up to date from `view` at a cost that follows change (see
        `ccc.client.listing`): unchanged is one free 304; a few changes cost 2 requests; no view, a full listing.

        The probe sorts by last update, newest first, so any change to any matching issue changes its ETag.
        """
        params = {"state": "open", "sort": "updated", "direction": "desc", "per_page": PER_PAGE, "labels": label}
        etag = view.etag if view else None
        headers = {"If-None-Match": etag} if etag else None
        resp_headers, data = self._get_json("poll_issues", f"{self._repo_path}/issues", params, headers)
        if view is not None and etag and not data and resp_headers.get("etag", etag) == etag:
            return view  # 304: not charged
        new_etag, now = resp_headers.get("etag"), self._clock()
        match = _LINK_NEXT.search(resp_headers.get("link", ""))
        if not match:  # one page holds the whole label: the probe is the listing
            return LabelView.listed(label, new_etag, list(data or ()), at=now)
        if view is not None and not view.wants_full_listing(now):
            changed = self._changes_since(view.since(self.listing_slack), limit=len(view.raw) + PER_PAGE)
            if changed is not None:
                return view.merged(changed, new_etag, at=now)
        rest = self._paginate("poll_issues", match.group(1).replace(self.api_url, "", 1))
        return LabelView.listed(label, new_etag, [*data, *rest], at=now)

    def _changes_since(self, since: datetime, *, limit: int) -> list[dict] | None:
        """Issues (any state, any label) updated since `since`; None once there are more than `limit`
        (then listing the label itself costs less)."""
        params = {"state": "all", "sort": "updated", "direction": "asc", "since": _iso(since)}
        changed = []
        for item in self._paginate("poll_changes", f"{self._repo_path}/issues", params):
            changed.append(item)
            if len(changed) > limit:
                return None
        return changed

    def get_issue(self, number: int) -> Issue:
        return Issue.from_json(self._get_json("get_issue", f"{self._repo_path}/issues/{number}")[1])

    def create_issue(
        self, *, title: str, body: str, labels: Iterable[str] = (), assignees: Iterable[str] = (), marker: str
    ) -> Issue | None:
        """Create an issue exactly once: after an ambiguous failure, find it by `marker` before retrying.

        `marker` must be a string unique to this issue that appears in `body`.
        """
        if marker not in body:
            raise ValueError("the reconcile marker must appear in the issue body")
        started = datetime.now(timezone.utc)
        kwargs: dict[str, Any] = {"title": title, "body": body, "labels": list(labels)}
        if assignees:
            kwargs["assignees"] = list(assignees)
        for _ in range(self.policy.attempts):
            try:
                created = self._call(
                    "create_issue", lambda: self._repo.create_issue(**kwargs), replay_safe=False, write=True
                )
                return None if created is None else Issue.from_json(created._rawData)
            except AmbiguousWriteError:
                found = self.read_back(lambda: self.find_issue_by_marker(marker, since=started))
                if found:
                    return found
        raise TransientError(f"create_issue {title!r}: GitHub kept failing; nothing was created")

    def find_issue_by_marker(self, marker: str, *, since: datetime) -> Issue | None:
        """The issue created since `since` whose body holds `marker`; reads newest first, page by page,
        and stops at the first issue created before `since` (a 1,000-issue repo costs one page, not ten)."""
        horizon = since - _READBACK_SLACK
        params = {"state": "all", "sort": "created", "direction": "desc", "since": _iso(horizon)}
        for data in self._paginate("reconcile_issue", f"{self._repo_path}/issues", params):
            issue = Issue.from_json(data)
            if marker in issue.body:
                return issue
            if issue.created_at < horizon:
                return None
        return None

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        """Set fields to absolute values: replaying it is harmless."""
        fields = {
            "title": title,
            "body": body,
            "state": state,
            "state_reason": state_reason,
            "labels": None if labels is None else list(labels),
        }
        kwargs = {k: v for k, v in fields.items() if v is not None}
        if kwargs:
            self._call(
                "update_issue", lambda: self._repo.get_issue(number).edit(**kwargs), replay_safe=True, write=True
            )

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        names = list(labels)
        if names:
            self._call(
                "add_labels", lambda: self._repo.get_issue(number).add_to_labels(*names), replay_safe=True, write=True
            )

    def remove_label(self, number: int, label: str) -> None:
        """Remove a label; absent already is fine (a replay after success answers 404)."""
        try:
            self._call(
                "remove_label",
                lambda: self._repo.get_issue(number).remove_from_labels(label),
                replay_safe=True,
                write=True,
            )
        except NotFoundError:
            pass

    def add_assignees(self, number: int, logins: Iterable[str]) -> None:
        names = list(logins)
        if names:
            self._call(
                "add_assignees",
                lambda: self._repo.get_issue(number).add_to_assignees(*names),
                replay_safe=True,
                write=True,
            )

    def add_sub_issue(self, parent_number: int, child_id: int) -> None:
        """Link a sub-issue by the child's issue **id** (not its number); already linked here is fine.

        Any other refusal (another parent, a cycle, GitHub's 100 sub-issues or 8 levels) is raised.
        """
        try:
            self._call(
                "add_sub_issue",
                lambda: self._repo.get_issue(parent_number).add_sub_issue(child_id),
                replay_safe=True,
                write=True,
            )
        except UnprocessableError as exc:
            if any(child.id == child_id for child in self.list_sub_issues(parent_number)):
                return
            message = SUB_ISSUE_REFUSED.format(parent=parent_number, reason=exc.message)
            raise UnprocessableError(message, errors=exc.errors) from exc

    def list_sub_issues(self, parent_number: int) -> list[Issue]:
        path = f"{self._repo_path}/issues/{parent_number}/sub_issues"
        return [Issue.from_json(d) for d in self._paginate("list_sub_issues", path)]

    def label_actors(self, number: int, label: str) -> list[tuple[str, str]]:
        """Who applied `label` to the issue, as (login, user type), oldest first (the issue's `labeled` events)."""
        path = f"{self._repo_path}/issues/{number}/events"
        events = self._paginate("label_actors", path)
        labeled = (e for e in events if e.get("event") == "labeled" and (e.get("label") or {}).get("name") == label)
        return [(e["actor"]["login"], e["actor"].get("type", "User")) for e in labeled if e.get("actor")]

    # -- comments ----------------------------------------------------------------------------

    def list_comments(self, number: int, *, since: datetime | None = None) -> list[Comment]:
        params = {"since": _iso(since)} if since else None
        path = f"{self._repo_path}/issues/{number}/comments"
        return [Comment.from_json(d) for d in self._paginate("list_comments", path, params)]

    def create_comment(self, number: int, body: str, *, marker: str | None = None) -> Comment | None:
        """Post a comment; with a `marker` (unique, inside `body`) an ambiguous failure is read back, not replayed."""
        started = datetime.now(timezone.utc)
        for _ in range(self.policy.attempts):
            try:
                made = self._call(
                    "create_comment",
                    lambda: self._repo.get_issue(number).create_comment(body),
                    replay_safe=False,
                    write=True,
                )
                if made is None:
                    return None
                comment = Comment.from_json(made._rawData)
                self._comment_login = self._comment_login or comment.author  # who GitHub says we are
                return comment
            except AmbiguousWriteError:
                if marker is None:
                    raise
                found = self.read_back(lambda: self._find_comment(number, marker, since=started))
                if found:
                    return found
        raise TransientError(f"comment on #{number}: GitHub kept failing; nothing was posted")

    def _find_comment(self, number: int, marker: str, *, since: datetime) -> Comment | None:
        """Ours only if the marker ends the body and, once we know our login, we wrote it: a marker quoted
        or forged elsewhere (by an agent's text, or another account) is never taken for ours."""
        for comment in self.list_comments(number, since=since - _READBACK_SLACK):
            mine = self._comment_login is None or comment.author == self._comment_login
            if mine and comment.body.rstrip().endswith(marker):
                return comment
        return None

    def update_comment(self, comment_id: int, body: str) -> None:
        def edit() -> None:
            self._gh.requester.requestJsonAndCheck(
                "PATCH", f"{self.api_url}{self._repo_path}/issues/comments/{comment_id}", input={"body": body}
            )

        self._call("update_comment", edit, replay_safe=True, write=True)

    # -- git data: commits and refs (the claim lock) -----------------------------------------

    def create_commit(self, *, message: str, tree: str, parents: Iterable[str], when: datetime) -> str:
        """Create a git commit object; with a fixed `when` it is content-addressed, so replays are harmless."""
        stamp = _iso(when)
        ident = {"name": "ccc", "email": "ccc@users.noreply.github.com", "date": stamp}
        data = {"message": message, "tree": tree, "parents": list(parents), "author": ident, "committer": ident}

        def post() -> str:
            _, made = self._gh.requester.requestJsonAndCheck(
                "POST", f"{self.api_url}{self._repo_path}/git/commits", input=data
            )
            return made["sha"]

        return self._call("create_commit", post, replay_safe=True, write=True)

    def create_tree(self, files: dict[str, str]) -> str:
        """Create a flat tree of text files {path: content}; content-addressed, so replays are harmless."""
        entries = [{"path": path, "mode": "100644", "type": "blob", "content": text} for path, text in files.items()]

        def post() -> str:
            _, made = self._gh.requester.requestJsonAndCheck(
                "POST", f"{self.api_url}{self._repo_path}/git/trees", input={"tree": entries}
            )
            return made["sha"]

        return self._call("create_tree", post, replay_safe=True, write=True)

    def get_commit(self, sha: str) -> GitCommit:
        return GitCommit.from_json(self._get_json("get_commit", f"{self._repo_path}/git/commits/{sha}")[1])

    def get_ref(self, name: str) -> Ref | None:
        """The ref `refs/...`, or None when it does not exist."""
        try:
            return Ref.from_json(self._get_json("get_ref", f"{self._repo_path}/git/ref/{_short(name)}")[1])
        except NotFoundError:
            return None

    def matching_refs(self, prefix: str) -> list[Ref]:
        path = f"{self._repo_path}/git/matching-refs/{_short(prefix)}"
        return [Ref.from_json(d) for d in self._paginate("matching_refs", path)]

    def create_ref(self, name: str, sha: str) -> RefWrite:
        """Compare-and-set create: DONE when the ref points at `sha` because of us, TAKEN when it exists elsewhere.

        An answer that leaves the outcome open (a 5xx, a reset, GitHub's transient "Reference update
        failed", or "already exists" after such an answer) is settled by fast-forwarding the ref to
        `sha`: GitHub's primary accepts that only if the ref is ours, where a read could come from a
        replica that has not seen the create yet.
        """
        uncertain = False
        for attempt in range(1, self.policy.attempts + 1):
            try:
                self._call("create_ref", lambda: self._repo.create_git_ref(name, sha), replay_safe=False, write=True)
                return RefWrite.DONE
            except UnprocessableError as exc:
                if "already exists" in exc.message and not uncertain:
                    return RefWrite.TAKEN
            except AmbiguousWriteError:
                pass
            uncertain = True
            settled = self.update_ref(name, sha)
            if settled in (RefWrite.DONE, RefWrite.TAKEN):
                return settled
            self._sleep(self.policy.backoff(attempt))
        return RefWrite.UNKNOWN

    def update_ref(self, name: str, sha: str) -> RefWrite:
        """Fast-forward only (force false): DONE, TAKEN (not a fast forward), ABSENT, or UNKNOWN.

        Replaying a fast-forward to the same sha is harmless (the ref is already there, or still
        behind it), so 5xx answers are replayed; GitHub's "Reference cannot be updated" (another
        writer holds the ref this instant) is tried again after a pause.
        """

        def patch() -> None:
            self._gh.requester.requestJsonAndCheck(
                "PATCH", f"{self.api_url}{self._repo_path}/git/refs/{_short(name)}", input={"sha": sha, "force": False}
            )

        for attempt in range(1, self.policy.attempts + 1):
            try:
                self._call("update_ref", patch, replay_safe=True, write=True)
                return RefWrite.DONE
            except UnprocessableError as exc:
                if "fast forward" in exc.message:
                    return RefWrite.TAKEN
                if "Reference does not exist" in exc.message:
                    return RefWrite.ABSENT
                log.info("update_ref %s: %s, trying again", name, exc.message)
            except TransientError as exc:  # `_call` has replayed it already
                log.warning("update_ref %s: %s", name, exc.message)
                return RefWrite.UNKNOWN
            self._sleep(self.policy.backoff(attempt))
        return RefWrite.UNKNOWN

    def delete_ref(self, name: str) -> None:
        def delete() -> None:
            self._gh.requester.requestJsonAndCheck("DELETE", f"{self.api_url}{self._repo_path}/git/refs/{_short(name)}")

        try:
            self._call("delete_ref", delete, replay_safe=True, write=True)
        except (NotFoundError, UnprocessableError):
            pass  # gone already

    def branch_sha(self, branch: str) -> str:
        return self._get_json("get_branch", f"{self._repo_path}/branches/{quote(branch, safe='')}")[1]["commit"]["sha"]

    # -- pull requests and dispatches ----------------------------------------------------------

    def find_open_pull(self, head_branch: str) -> PullRequest | None:
        owner = self.full_name.split("/")[0]
        params = {"state": "open", "head": f"{owner}:{head_branch}"}
        for data in self._paginate("find_pull", f"{self._repo_path}/pulls", params):
            return PullRequest.from_json(data)
        return None

    def create_pull(self, *, head: str, base: str, title: str, body: str, draft: bool = False) -> PullRequest | None:
        """Open a PR for `head`, or return the open one that exists (a replay, or an earlier run).

        GitHub allows one open PR per head, so after an ambiguous failure the read-back is exact:
        found means it was made; not found means it was not, and creating again is safe.
        """
        for _ in range(self.policy.attempts):
            try:
                made = self._call(
                    "create_pull",
                    lambda: self._repo.create_pull(base=base, head=head, title=title, body=body, draft=draft),
                    replay_safe=False,
                    write=True,
                )
                return None if made is None else PullRequest.from_json(made._rawData)
            except AmbiguousWriteError:
                existing = self.read_back(lambda: self.find_open_pull(head))
            except UnprocessableError:
                existing = self.find_open_pull(head)
                if existing is None:
                    raise
            if existing is not None:
                return existing
        raise TransientError(f"create_pull for {head}: GitHub kept failing; no pull request was opened")

    def close_pull(self, number: int) -> None:
        """Close a pull request; sets an absolute state, so replaying it is harmless."""

        def patch() -> None:
            self._gh.requester.requestJsonAndCheck(
                "PATCH", f"{self.api_url}{self._repo_path}/pulls/{number}", input={"state": "closed"}
            )

        self._call("close_pull", patch, replay_safe=True, write=True)

    def dispatch(self, event_type: str, payload: dict) -> None:
        """repository_dispatch: a duplicate wake-up is harmless, so replays are allowed."""
        self._call(
            "dispatch", lambda: self._repo.create_repository_dispatch(event_type, payload), replay_safe=True, write=True
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(ref: str) -> str:
    """GitHub's ref endpoints take the name without the leading `refs/`."""
    return quote(ref.removeprefix("refs/"), safe="/")


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc.message or "")


def _rate_limit_error(operation: str, wait: RateLimitWait, now: float) -> RateLimitError:
    """Stop instead of waiting longer than --max-wait, saying when to try again (exit 3)."""
    if wait.primary:
        return RateLimitError(
            f"{operation}: GitHub's API rate limit is exhausted; it resets at {describe_reset(wait.reset_at)}. "
            "Try again then, poll less often, or use a GitHub App token (5,000 requests/hour).",
            reset_at=wait.reset_at,
        )
    retry_at = now + wait.seconds
    return RateLimitError(
        f"{operation}: GitHub's secondary rate limit still holds after the waits --max-wait allows; "
        f"try again after {describe_reset(retry_at)}, make fewer writes a minute, or raise --max-wait.",
        reset_at=retry_at,
    )


def _translate(operation: str, status: int, message: str, data: Any, repo: str) -> GitHubError:
    if status == 401:
        return BadCredentialsError(
            f"{operation}: GitHub rejected the token (401 {message or 'Bad credentials'}). "
            "Check the github-token input or GITHUB_TOKEN."
        )
    if status == 403 and message == ACTIONS_PULLS_FORBIDDEN:
        return ActionsMayNotOpenPullsError(ACTIONS_PULLS_HINT.format(operation=operation, message=message))
    if status == 403:
        return AuthError(
            f"{operation}: GitHub refused (403 {message}). The token lacks a permission this "
            "needs: grant `issues: write`, `contents: write` and `pull-requests: write`."
        )
    if status in (404, 410):  # 410: an issue that was deleted (or transferred away)
        return NotFoundError(
            f"{operation}: not found ({status}) in {repo}: check the repository name (--repo, GITHUB_REPOSITORY) "
            "and that the token may see it"
        )
    if status == 422:
        errors = data.get("errors") if isinstance(data, dict) else None
        return UnprocessableError(f"{operation}: {message or 'Validation Failed'} (422)", errors=errors)
    return GitHubError(f"{operation}: GitHub answered {status} {message}")
