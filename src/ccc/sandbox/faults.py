"""Injected faults: rules that make a share of matching requests fail the way GitHub sometimes does.

Kinds: `status` (answer `status`, default 502, without running the handler), `reset` (close the
connection without an answer), `latency` (wait `ms` first), `secondary_limit` (403 with
Retry-After, none when `retry_after` is 0), `too_many_requests` (429, likewise), `commit_then_fail` (run the handler and
keep its write, then answer `status`), `stale_reads` (list endpoints answer from a snapshot of the
state `seconds` old), `sever` (let the first `after_writes` writes through, then drop every later matching
request: a deterministic crash point, the client seeing GitHub vanish right after its Nth write).
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

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
)
# Only stale reads default to reads; every other kind applies to any method unless `methods` says.
DEFAULT_METHODS = {"stale_reads": ["GET"]}


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
    """The active rule set, its seeded random source, and the snapshots stale reads answer from."""

    rules: list[Rule] = field(default_factory=list)
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)
    snapshots: list[tuple[float, Any]] = field(default_factory=list)  # (taken at, Store), oldest first

    def replace(self, rules: list[dict], seed: int, store) -> None:
        parsed = [Rule.parse(raw) for raw in rules]
        with self.lock:
            self.rules, self.seed, self.rng = parsed, seed, random.Random(seed)
            self.snapshots = [(time.time(), store.snapshot())] if self.wants_snapshots() else []

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

    def wants_snapshots(self) -> bool:
        return any(rule.kind == "stale_reads" for rule in self.rules)

    def record_write(self, store) -> None:
        """After a write, keep a snapshot so later stale reads can answer from the past."""
        if not self.wants_snapshots():
            return
        snapshot = store.snapshot()
        with self.lock:
            self.snapshots.append((time.time(), snapshot))

    def stale_store(self, seconds: float):
        """The newest snapshot at least `seconds` old (or the oldest kept); drops ones no longer needed."""
        cutoff = time.time() - seconds
        with self.lock:
            old_enough = [index for index, (taken, _) in enumerate(self.snapshots) if taken <= cutoff]
            chosen = old_enough[-1] if old_enough else 0
            del self.snapshots[:chosen]
            return self.snapshots[0][1] if self.snapshots else None
