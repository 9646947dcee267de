"""Replication lag: writes go to the primary, reads may be answered by a replica that trails it.

GitHub's REST reads are eventually consistent: a read right after a write can be answered from a
replica that has not seen the write yet. The model keeps the primary's past states ("moments",
taken after every write) for as long as some read may still be served from them. A read of
repository content picks, per request and from a seeded random source, how far behind its
replica is (0 to `lag` seconds) and is answered from the state as it was then: the SQLite data,
the repository's refs and which API-created commits existed.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field

from ccc.sandbox.gitrepo import GitRepo
from ccc.sandbox.records import Repo

# Reads of repository content that replicas may answer (not the repository itself nor permissions).
REPLICATED = re.compile(r"^/repos/\{owner\}/\{repo\}/(git/|commits/|branches/|issues|pulls|labels)")


@dataclass(frozen=True)
class Moment:
    """The primary's state right after one write."""

    at: float
    store: object  # a frozen Store copy
    refs: dict[int, dict[str, str]]  # repo id → {ref name: sha}


@dataclass(frozen=True)
class Lag:
    """How far replicas trail: each replicated read is stale with probability `rate`, by up to `lag` seconds."""

    lag: float = 0.0
    rate: float = 1.0
    seed: int = 0

    def to_json(self) -> dict:
        return {"lag": self.lag, "rate": self.rate, "seed": self.seed}


@dataclass
class Consistency:
    """The lag in force, the moments reads may be served from, and when API-made commits appeared."""

    lag: Lag = field(default_factory=Lag)
    keep_seconds: float = 0.0  # other readers of the past (the stale_reads fault) need this much history
    moments: list[Moment] = field(default_factory=list)  # oldest first
    born: dict[str, float] = field(default_factory=dict)  # commit sha → when POST /git/commits made it
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, lag: Lag, keep_seconds: float, store) -> None:
        """New settings; history restarts from the current state."""
        with self.lock:
            self.lag, self.keep_seconds, self.rng = lag, keep_seconds, random.Random(lag.seed)
            self.moments, self.born = [], {}
        self.record(store, store.repos())

    @property
    def horizon(self) -> float:
        return max(self.lag.lag, self.keep_seconds)

    def record(self, store, repos: list[Repo]) -> None:
        """After a write: remember the state (and the written repositories' refs) while reads may want it."""
        if self.horizon <= 0:
            return
        snapshot = store.snapshot()
        refs = {repo.id: dict(repo.git.list_refs()) for repo in repos}
        now = time.time()
        with self.lock:
            previous = self.moments[-1].refs if self.moments else {}
            self.moments.append(Moment(now, snapshot, {**previous, **refs}))
            self.moments.sort(key=lambda moment: moment.at)  # concurrent writers may finish out of order
            self._prune(now)

    def commit_born(self, sha: str) -> None:
        if self.horizon > 0:
            with self.lock:
                self.born[sha] = time.time()

    def _prune(self, now: float) -> None:
        """Drop moments no read can reach: keep the newest one older than the horizon and all later."""
        cutoff = now - self.horizon
        old = [index for index, moment in enumerate(self.moments) if moment.at <= cutoff]
        if len(old) > 1:
            del self.moments[: old[-1]]
        self.born = {sha: at for sha, at in self.born.items() if at > cutoff}

    def replica_delay(self, template: str) -> float:
        """How stale this read's replica is (0: the primary answers)."""
        if self.lag.lag <= 0 or not REPLICATED.match(template):
            return 0.0
        with self.lock:
            if self.rng.random() >= self.lag.rate:
                return 0.0
            return self.rng.uniform(0, self.lag.lag)

    def as_of(self, seconds_ago: float) -> Moment | None:
        """The state `seconds_ago` (the oldest kept one when history is shorter); None without history."""
        cutoff = time.time() - seconds_ago
        with self.lock:
            older = [moment for moment in self.moments if moment.at <= cutoff]
            return older[-1] if older else (self.moments[0] if self.moments else None)

    def replica_repo(self, moment: Moment, repo: Repo) -> Repo | None:
        """The repository as the replica sees it; None when the replica has never heard of it."""
        refs = moment.refs.get(repo.id)
        if refs is None:
            return None
        with self.lock:
            unknown = frozenset(sha for sha, at in self.born.items() if at > moment.at)
        return ReplicaRepo(**vars(repo), refs=refs, unknown=unknown)


@dataclass(frozen=True)
class ReplicaRepo(Repo):
    refs: dict[str, str] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()

    @property
    def git(self) -> GitRepo:
        return ReplicaGit(self.git_path, self.refs, self.unknown)


class ReplicaGit(GitRepo):
    """A bare repository seen through a replica: its refs as they were, and no commits made since."""

    def __init__(self, path, refs: dict[str, str], unknown: frozenset[str]):
        super().__init__(path)
        self.refs, self.unknown = refs, unknown

    def ref_target(self, name: str) -> tuple[str, str] | None:
        sha = self.refs.get(name)
        kind = self.object_type(sha) if sha else None
        return (sha, kind) if kind else None

    def list_refs(self, prefix: str = "refs/") -> list[tuple[str, str]]:
        return sorted((name, sha) for name, sha in self.refs.items() if name.startswith(prefix))

    def object_types(self, shas: list[str]) -> dict[str, str]:
        return {sha: kind for sha, kind in super().object_types(shas).items() if sha not in self.unknown}

    def commit(self, sha: str) -> dict | None:
        return None if sha in self.unknown else super().commit(sha)
