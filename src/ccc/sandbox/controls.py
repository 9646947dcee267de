"""Test controls under /_sandbox/ (not GitHub's API, no token): stats, faults, lag, events, repos, reset."""

from __future__ import annotations

from collections.abc import Callable

from ccc.sandbox.api_actions import put_runners
from ccc.sandbox.consistency import Lag
from ccc.sandbox.routing import ApiError, Request, Response
from ccc.sandbox.webhooks import events_json


def handle_control(sandbox, req: Request) -> Response:
    """Answer one control request; errors use GitHub's error shape too."""
    handler = CONTROLS.get((req.method, req.path.rstrip("/")))
    try:
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(sandbox, req)
    except ApiError as error:
        return Response(error.status, error.body())


def get_info(sandbox, req: Request) -> Response:
    return Response(200, sandbox.info(req.base_url.removesuffix("/api/v3")))


def get_stats(sandbox, req: Request) -> Response:
    return Response(200, sandbox.stats_json())


def reset_stats(sandbox, req: Request) -> Response:
    sandbox.stats.reset()
    return Response(204)


def get_faults(sandbox, req: Request) -> Response:
    return Response(200, sandbox.faults.to_json())


def set_faults(sandbox, req: Request) -> Response:
    data = req.json()
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise ApiError(422, "`rules` must be a list")
    sandbox.faults.replace(rules, int(data.get("seed", 0)))
    consistency = sandbox.consistency
    consistency.configure(consistency.lag, sandbox.faults.history_seconds(), sandbox.store)
    return Response(200, sandbox.faults.to_json())


def get_lag(sandbox, req: Request) -> Response:
    return Response(200, sandbox.consistency.lag.to_json())


def set_lag(sandbox, req: Request) -> Response:
    """Replace the replication lag: {"lag": seconds, "rate": share of reads, "seed": n}."""
    data = req.json()
    try:
        lag = Lag(float(data.get("lag", 0)), float(data.get("rate", 1.0)), int(data.get("seed", 0)))
    except (TypeError, ValueError) as error:
        raise ApiError(422, f"Invalid lag: {error}") from None
    if lag.lag < 0 or not 0 <= lag.rate <= 1:
        raise ApiError(422, "`lag` must be >= 0 and `rate` between 0 and 1")
    sandbox.consistency.configure(lag, sandbox.faults.history_seconds(), sandbox.store)
    return Response(200, lag.to_json())


def get_events(sandbox, req: Request) -> Response:
    return Response(200, events_json(sandbox.store, req.base_url, req.arg("name")))


def create_repo(sandbox, req: Request) -> Response:
    full_name = req.json().get("full_name")
    if not isinstance(full_name, str) or full_name.count("/") != 1 or "" in full_name.split("/"):
        raise ApiError(422, "`full_name` must look like OWNER/NAME")
    repo = sandbox.store.create_repo(full_name)
    return Response(201, {"full_name": repo.full_name, "id": repo.id, "default_branch": repo.default_branch})


def reset(sandbox, req: Request) -> Response:
    sandbox.reset()
    return Response(204)


CONTROLS: dict[tuple[str, str], Callable[..., Response]] = {
    ("GET", "/info"): get_info,
    ("GET", "/stats"): get_stats,
    ("POST", "/stats/reset"): reset_stats,
    ("GET", "/faults"): get_faults,
    ("POST", "/faults"): set_faults,
    ("GET", "/lag"): get_lag,
    ("POST", "/lag"): set_lag,
    ("GET", "/events"): get_events,
    ("POST", "/repos"): create_repo,
    ("POST", "/reset"): reset,
    ("PUT", "/runners"): put_runners,
}
