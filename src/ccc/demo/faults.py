"""Fault profiles for `ccc demo --faults`: sandbox rule sets that make the API fail as GitHub sometimes does.

The rules are the sandbox's (`ccc.sandbox.faults`); they apply to REST requests only, git over
HTTP stays reliable. Rates are per request, so a run of a few hundred requests sees each kind.
"""

from __future__ import annotations

from ccc.errors import InputError

WRITES = ["POST", "PATCH", "PUT", "DELETE"]

FLAKY = [
    {"kind": "status", "status": 502, "rate": 0.08},
    {"kind": "latency", "ms": 150, "rate": 0.2},
]
CHAOS = [
    *FLAKY,
    # The server applies the write, then answers 502: clients must read back, not blindly replay.
    {"kind": "commit_then_fail", "status": 502, "rate": 0.05, "methods": WRITES},
    {"kind": "reset", "rate": 0.03},
]
PROFILES: dict[str, list[dict]] = {"none": [], "flaky": FLAKY, "chaos": CHAOS}


def fault_rules(profile: str) -> list[dict]:
    """The rules of a named profile (a copy: callers may adjust it)."""
    if profile not in PROFILES:
        raise InputError(f"--faults {profile!r}: choose one of {', '.join(PROFILES)}")
    return [dict(rule) for rule in PROFILES[profile]]
