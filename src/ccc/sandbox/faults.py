"""Injected faults: rules that make a share of matching requests fail the way GitHub sometimes does.

Kinds: `status` (answer `status`, default 502, without running the handler), `reset` (close the
connection without an answer), `latency` (wait `ms` first), `secondary_limit` (403 with
Retry-After, none when `retry_after` is 0), `too_many_requests` (429, likewise), `commit_then_fail`
(run the handler and keep its write, then answer `status`), `stale_reads` (list endpoints answer from
the state `seconds` old, kept by the consistency model), `sever` (let the first `after_writes` writes
through, then drop every later matching request: a deterministic crash point, the client seeing GitHub
vanish right after its Nth write).

Git data kinds, each GitHub's own answer: `empty_tree_unknown` (POST /git/commits with the empty
tree answers 422 "Tree SHA does not exist", as GitHub may for a repository without that object),
`ref_contention` (PATCH /git/refs answers 422 "Reference cannot be updated", as when another
writer holds the ref), `ref_update_failed` (POST /git/refs answers the transient 422 "Reference
update failed" without creating the ref)."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus

from ccc.sandbox.routing import ApiError

KINDS = (
    "status",
    "reset",
    "latency",
    "secondary_limit",
    "too_many_requests",
    "commit_then_fail",
    "stale_reads",
    "sever",
    "empty_tree_unknown",
    "ref_contention",
    "ref_update_failed",
)
# Kinds that belong to one endpoint apply there unless `methods`/`route` say otherwise; other
# kinds apply to any method and route.
DEFAULT_METHODS = {
    "stale_reads": ["GET"],
    "empty_tree_unknown": ["POST"],
    "ref_contention": ["PATCH"],
    "ref_update_failed": ["POST"],
}
DEFAULT_ROUTES = {
    "empty_tree_unknown": "/repos/{owner}/{repo}/git/commits",
    "ref_contention": "/repos/{owner}/{repo}/git/refs/{ref}",
    "ref_update_failed": "/repos/{owner}/{repo}/git/refs",
}
# Faults answered before the handler runs, with GitHub's words.
EARLY_ANSWERS = {
    "ref_contention": (422, "Reference cannot be updated"),
    "ref_update_failed": (422, "Reference update failed"),
}


@dataclass
class Rule:
    kind: str
    rate: float = 1.0
    methods: list[str] | None = None
    route: str | None = None  # a route template (exact) or a regular expression on the path
    count: int | None = None  # apply to at most this many requests
    status: int = 502
    ms: int = 0
    retry_after: int = 1
    seconds: float = 3.0
    after_writes: int = 0  # `sever`: how many writes pass before the connection is severed
    applied: int = 0
    writes_passed: int = 0

    @classmethod
    def parse(cls, raw: dict) -> Rule:
        """A rule from its JSON; 422 naming the field when a value has the wrong type."""
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise ApiError(422, f"Each rule needs a kind, one of: {', '.join(KINDS)}")
        counters = ("applied", "writes_passed")
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw and name not in counters}
        try:
            rule = cls(**known)
            rule.rate, rule.seconds = float(rule.rate), float(rule.seconds)
            rule.status, rule.ms, rule.retry_after = int(rule.status), int(rule.ms), int(rule.retry_after)
            rule.count = None if rule.count is None else int(rule.count)
            rule.after_writes = int(rule.after_writes)
            HTTPStatus(rule.status)
            if rule.route is not None:
                re.compile(rule.route)
            if rule.methods is not None and not all(isinstance(method, str) for method in rule.methods):
                raise TypeError("methods must be a list of strings")
        except (TypeError, ValueError, re.error) as error:
            raise ApiError(422, f"Invalid {raw['kind']!r} rule: {error}") from None
        if rule.methods is None:
            rule.methods = DEFAULT_METHODS.get(rule.kind)
        if rule.route is None:
            rule.route = DEFAULT_ROUTES.get(rule.kind)
        return rule

    def matches(self, method: str, template: str | None, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.route and self.route != template and not re.search(self.route, path):
            return False
        return self.count is None or self.applied < self.count

    def lets_write_pass(self, method: str) -> bool:
        """`sever`: the first `after_writes` writes go through (and are counted); nothing after them does."""
        if self.writes_passed >= self.after_writes:
            return False
        if method not in ("GET", "HEAD"):
            self.writes_passed += 1
        return True

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Faults:
    """The active rule set and its seeded random source."""

    rules: list[Rule] = field(default_factory=list)
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, rules: list[dict], seed: int) -> None:
        parsed = [Rule.parse(raw) for raw in rules]
        with self.lock:
            self.rules, self.seed, self.rng = parsed, seed, random.Random(seed)

    def to_json(self) -> dict:
        with self.lock:
            return {"seed": self.seed, "rules": [rule.to_json() for rule in self.rules]}

    def pick(self, method: str, template: str | None, path: str) -> list[Rule]:
        """The rules that fire for this request (each counted as applied)."""
        fired = []
        with self.lock:
            for rule in self.rules:
                if rule.kind == "sever" and rule.lets_write_pass(method):
                    continue
                if rule.matches(method, template, path) and self.rng.random() < rule.rate:
                    rule.applied += 1
                    fired.append(rule)
        return fired

    def history_seconds(self) -> float:
        """How far back stale reads look: the state history the consistency model must keep for them."""
        with self.lock:
            return max((rule.seconds for rule in self.rules if rule.kind == "stale_reads"), default=0.0)
