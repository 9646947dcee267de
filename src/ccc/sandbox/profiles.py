"""Profiles: how closely the sandbox imitates GitHub's less convenient behaviour.

`plain` is the forgiving stand-in (fresh reads, one budget for everyone, no secondary limit,
Actions may open pull requests). `realistic` turns on what GitHub does to clients in production:
replicas that lag, the Actions token's per-repository budget, secondary limits on content
creation, and new repositories whose Actions may not create pull requests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ccc.sandbox.consistency import Lag


@dataclass(frozen=True)
class Profile:
    name: str
    lag: Lag
    bot_rate_limit: int | None  # Bot tokens' hourly budget per repository; None: the users' budget
    secondary_per_minute: int  # content-creating requests per token; 0: no limit
    secondary_per_hour: int
    vary_refusals: bool  # secondary limits answer 403 or 429, with or without Retry-After
    actions_create_pulls: bool  # new repositories' "Allow GitHub Actions to create and approve pull requests"


PLAIN = Profile("plain", Lag(), None, 0, 0, vary_refusals=False, actions_create_pulls=True)
# Lag is kept sub-second so suites stay fast; dedicated lag tests set GitHub-sized lags of seconds.
REALISTIC = Profile("realistic", Lag(lag=0.5, rate=0.5), 1000, 80, 500, vary_refusals=True, actions_create_pulls=False)
PROFILES = {
    "plain": PLAIN,
    "realistic": REALISTIC,
    # Everything realistic but the lag: for suites whose read-backs do not yet tolerate replicas.
    "realistic-no-lag": replace(REALISTIC, name="realistic-no-lag", lag=Lag()),
}
