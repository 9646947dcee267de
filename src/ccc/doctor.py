"""`ccc doctor`: is this repository ready for ccc? One line per check — pass, warn or fail — with the fix.

Every check asks GitHub's documented endpoints through the client layer and turns what it hears
into an `Outcome`; "cannot tell" (an endpoint the token may not call) is a warning, never a pass.
The only write is a scratch claim ref (created, moved and deleted) proving claims work.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from ccc.client import RepoClient
from ccc.client.models import RefWrite, RepositoryAccess
from ccc.errors import AuthError, BadCredentialsError, GitHubError, NotFoundError
from ccc.manifest import ANY_WORKER, DEFAULT_GLOBS, Manifest, ManifestError
from ccc.manifest.committed import load_committed
from ccc.protocol.claims import DEFAULT_NAMESPACE, EMPTY_TREE
from ccc.protocol.states import Labels

# GitHub's primary rate-limit pools, by their hourly limit (docs: "Rate limits for the REST API").
POOLS = {
    1000: "the Actions GITHUB_TOKEN's pool: 1,000 requests an hour per repository",
    5000: "a user's or GitHub App's pool: 5,000 requests an hour",
    15000: "a GitHub Enterprise Cloud pool: 15,000 requests an hour",
}
LOW_RATE_SHARE = 0.1  # warn when less than this share of the hour's requests is left
WORKFLOW_SETTING = (
    "Settings → Actions → General → Workflow permissions → Allow GitHub Actions to create and approve pull requests"
)


class Outcome(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.outcome.value:4}  {self.name:13} {self.detail}" + (
            f"\n      fix: {self.fix}" if self.fix else ""
        )

    def to_json(self) -> dict:
        return {**asdict(self), "outcome": self.outcome.value}


@dataclass(frozen=True)
class DoctorSettings:
    root: Path = Path(".")
    manifest_globs: tuple[str, ...] = DEFAULT_GLOBS
    working_tree: bool = False
    labels: Labels = Labels()
    pool_label: str = ANY_WORKER
    claims_namespace: str = DEFAULT_NAMESPACE
    workers: tuple[str, ...] = ()  # worker labels to look for runners of, besides the manifest's
    pr_token: bool = False  # workers open PRs with their own token (worker-action's pr-token)


@dataclass(frozen=True)
class Diagnosis:
    checks: tuple[Check, ...]
    requests: dict

    @property
    def ok(self) -> bool:
        return all(check.outcome is not Outcome.FAIL for check in self.checks)

    @property
    def unreachable(self) -> bool:
        """The token or the repository failed: nothing else could be asked (exit 3)."""
        return any(c.name in ("token", "repository") and c.outcome is Outcome.FAIL for c in self.checks)

    def to_json(self) -> dict:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks], "requests": self.requests}


def diagnose(client: RepoClient, settings: DoctorSettings) -> Diagnosis:
    checks = [check_token(client)]
    access = None
    if checks[0].outcome is not Outcome.FAIL:
        access, repository = check_repository(client)
        checks.append(repository)
    if access is not None:
        manifest, manifest_check = check_manifest(settings)
        workers = worker_labels(manifest, settings)
        checks += [
            check_permissions(access),
            check_pull_requests(client, settings),
            check_claim_refs(client, settings.claims_namespace),
            check_labels(client, settings, workers),
            check_rate_limit(client),
            manifest_check,
            check_runners(client, workers),
        ]
    return Diagnosis(tuple(checks), client.counter.snapshot())


def check_token(client: RepoClient) -> Check:
    try:
        login = client.authenticated_login()
    except BadCredentialsError:
        return Check("token", Outcome.FAIL, "GitHub rejects the token (401)", "check the variable named by --token-env")
    except AuthError:  # 403: installation tokens (Actions, Apps) may not ask who they are
        return Check("token", Outcome.PASS, "authenticates as an app installation (the Actions token or an App)")
    return Check("token", Outcome.PASS, f"authenticates as {login}")


def check_repository(client: RepoClient) -> tuple[RepositoryAccess | None, Check]:
    try:
        access = client.repository_access()
    except (NotFoundError, AuthError):
        return None, Check(
            "repository",
            Outcome.FAIL,
            f"{client.full_name} is not there, or this token may not see it",
            "check --repo/GITHUB_REPOSITORY, and give the token access to the repository",
        )
    return access, Check("repository", Outcome.PASS, f"{access.full_name} (default branch {access.default_branch})")


def check_permissions(access: RepositoryAccess) -> Check:
    """The token's role (user tokens) and scopes (classic tokens); app tokens' permissions cannot be read."""
    needed = "contents, issues and pull-requests: write"
    if access.scopes is not None and not {"repo", "public_repo"} & set(access.scopes):
        return Check(
            "permissions",
            Outcome.FAIL,
            f"a classic token without the repo scope (scopes: {', '.join(access.scopes) or 'none'})",
            "create the token with the `repo` scope",
        )
    if access.role is None:
        return Check(
            "permissions",
            Outcome.WARN,
            "an app token's permissions cannot be read (claim refs below prove contents: write)",
            f"give the workflow `permissions:` {needed}",
        )
    if not access.role.get("push"):
        role = next((name for name in ("triage", "pull") if access.role.get(name)), "none")
        return Check("permissions", Outcome.FAIL, f"the token may not write here (role: {role})", f"grant {needed}")
    return Check("permissions", Outcome.PASS, "may write (" + needed + " for fine-grained tokens)")


def check_pull_requests(client: RepoClient, settings: DoctorSettings) -> Check:
    """PRs opened with the Actions token need the repository setting GitHub leaves off by default."""
    if settings.pr_token:
        return Check("pull-requests", Outcome.PASS, "workers open pull requests with their own pr-token")
    try:
        allowed = client.workflow_permissions().get("can_approve_pull_request_reviews")
    except (NotFoundError, AuthError):
        return Check(
            "pull-requests",
            Outcome.WARN,
            "cannot tell whether GitHub Actions may open pull requests (this token may not read the setting)",
            f"check {WORKFLOW_SETTING}, or give the workers a pr-token",
        )
    if allowed:
        return Check("pull-requests", Outcome.PASS, "GitHub Actions may create pull requests")
    return Check(
        "pull-requests",
        Outcome.FAIL,
        "GitHub Actions may not create pull requests, so workers on the Actions token cannot deliver",
        f"turn on {WORKFLOW_SETTING}, or give the workers a pr-token",
    )


def check_claim_refs(client: RepoClient, namespace: str) -> Check:
    """Create, fast-forward, refuse a non-fast-forward and delete a scratch ref under the claim namespace."""
    name = f"{namespace.rstrip('/')}/doctor-{secrets.token_hex(4)}"
    now = datetime.now(timezone.utc)

    def commit(message: str, parents: list[str]) -> str:
        return client.create_commit(message=message, tree=EMPTY_TREE, parents=parents, when=now)

    try:
        first = commit(f"ccc doctor {name}", [])
    except GitHubError as error:
        return Check(
            "claim-refs",
            Outcome.FAIL,
            f"a commit with the empty tree is refused ({error.message})",
            "push a first commit (an empty repository takes no git objects) and grant contents: write",
        )
    try:
        return _exercise_ref(client, name, first, commit)
    finally:
        client.delete_ref(name)


def _exercise_ref(client: RepoClient, name: str, first: str, commit: Callable[[str, list[str]], str]) -> Check:
    if client.create_ref(name, first) is not RefWrite.DONE:
        return Check("claim-refs", Outcome.FAIL, f"cannot create {name}", "grant contents: write; allow refs/ccc/*")
    if client.update_ref(name, commit("ccc doctor: forward", [first])) is not RefWrite.DONE:
        return Check("claim-refs", Outcome.FAIL, f"cannot fast-forward {name}", "grant contents: write")
    if client.update_ref(name, commit("ccc doctor: unrelated", [])) is RefWrite.DONE:
        return Check(
            "claim-refs",
            Outcome.FAIL,
            "a non-fast-forward update was accepted: two workers could both win a claim",
            "report this: ccc relies on GitHub refusing force: false updates that are not fast-forwards",
        )
    return Check("claim-refs", Outcome.PASS, "create, fast-forward, refused non-fast-forward and delete all work")


def check_labels(client: RepoClient, settings: DoctorSettings, workers: tuple[str, ...]) -> Check:
    labels = settings.labels
    wanted = (*labels.state_labels, labels.ready_for_review, labels.priority_high, labels.priority_normal)
    wanted += (labels.priority_low, *workers)
    present = {label.name.lower() for label in client.list_labels()}
    missing = [name for name in dict.fromkeys(wanted) if name.lower() not in present]
    if missing:
        return Check(
            "labels", Outcome.WARN, f"missing: {', '.join(missing)}", "`ccc manager sync` creates them on its first run"
        )
    return Check("labels", Outcome.PASS, f"all {len(set(wanted))} protocol and worker labels exist")


def check_rate_limit(client: RepoClient) -> Check:
    core = client.rate_limit()
    limit, remaining = int(core["limit"]), int(core["remaining"])
    resets = datetime.fromtimestamp(int(core["reset"]), timezone.utc).strftime("%H:%M UTC")
    pool = POOLS.get(limit, f"a pool of {limit:,} requests an hour")
    detail = f"{remaining:,} of {limit:,} left until {resets}; {pool}"
    if remaining < limit * LOW_RATE_SHARE:
        return Check("rate-limit", Outcome.WARN, detail, "poll less often (--interval) or wait for the reset")
    return Check("rate-limit", Outcome.PASS, detail)


def check_manifest(settings: DoctorSettings) -> tuple[Manifest | None, Check]:
    try:
        manifest, source = load_committed(settings.root, settings.manifest_globs, working_tree=settings.working_tree)
    except ManifestError as error:
        first = error.problems[0]
        if len(error.problems) == 1 and first.line is None and "no manifest files" in first.message:
            return None, Check("manifest", Outcome.WARN, first.message, "commit a manifest: .github/ccc/tasks.yml")
        where = f"{first.file}:{first.line}:{first.col}" if first.line is not None else first.file
        return None, Check(
            "manifest",
            Outcome.FAIL,
            f"{len(error.problems)} problem(s), first at {where}: {first.message}",
            "`ccc validate` lists them all",
        )
    return manifest, Check(
        "manifest", Outcome.PASS, f"{len(manifest.tasks)} tasks valid (read from {source.describe()})"
    )


def worker_labels(manifest: Manifest | None, settings: DoctorSettings) -> tuple[str, ...]:
    from_manifest = [task.worker for task in (manifest.tasks if manifest else ()) if task.worker]
    labels = (settings.pool_label if worker == ANY_WORKER else worker for worker in [*settings.workers, *from_manifest])
    return tuple(dict.fromkeys(labels))


def check_runners(client: RepoClient, workers: tuple[str, ...]) -> Check:
    if not workers:
        return Check(
            "runners", Outcome.WARN, "no worker labels to look for", "pass --worker LABEL or commit a manifest"
        )
    try:
        runners = client.list_runners()
    except (NotFoundError, AuthError):
        return Check(
            "runners",
            Outcome.WARN,
            "cannot tell: this token may not list the repository's runners",
            "check Settings → Actions → Runners (listing them needs administration: read)",
        )
    online = {label for runner in runners if runner.online for label in runner.labels}
    missing = [label for label in workers if label not in online]
    if missing:
        return Check(
            "runners",
            Outcome.WARN,
            f"no online self-hosted runner carries {', '.join(missing)} ({len(runners)} registered here)",
            "register a runner with those labels (organisation runners are not listed here)",
        )
    return Check("runners", Outcome.PASS, f"online runners carry every worker label ({', '.join(workers)})")
