"""Self-hosted runners of a repository, as `GET /repos/{owner}/{repo}/actions/runners` lists them.

GitHub: https://docs.github.com/rest/actions/self-hosted-runners#list-self-hosted-runners-for-a-repository —
`{"total_count", "runners": [{id, name, os, status: online|offline, busy, labels: [{id, name, type}]}]}`;
listing needs the repository's administration permission (admin here). Runners register through the
runner application, not the REST API, so tests register them with the `PUT /_sandbox/runners` control.
"""

from __future__ import annotations

from ccc.sandbox.routing import ApiError, Request, Response, route

DEFAULT_LABELS = ("self-hosted", "Linux", "X64")  # the read-only labels every self-hosted runner has


def _key(repo) -> str:
    return f"runners:{repo.id}"


@route("GET", "/repos/{owner}/{repo}/actions/runners", permission="admin")
def list_runners(req: Request, owner: str, repo: str) -> dict:
    runners = req.store.get_json(_key(req.repo), [])
    return {"total_count": len(runners), "runners": [runner_json(n, r) for n, r in enumerate(runners, 1)]}


def runner_json(number: int, runner: dict) -> dict:
    labels = [*((name, "read-only") for name in DEFAULT_LABELS), *((name, "custom") for name in runner["labels"])]
    return {
        "id": number,
        "name": runner["name"],
        "os": "Linux",
        "status": "online" if runner.get("online", True) else "offline",
        "busy": bool(runner.get("busy")),
        "labels": [{"id": i, "name": name, "type": kind} for i, (name, kind) in enumerate(labels, 1)],
    }


def put_runners(sandbox, req: Request) -> Response:
    """Control: {"repo": "OWNER/NAME", "runners": [{"name", "labels": [...], "online": true, "busy": false}]}."""
    data = req.json()
    owner, _, name = str(data.get("repo", "")).partition("/")
    repo = sandbox.store.repo(owner, name)
    if repo is None:
        raise ApiError(404, "Not Found")
    sandbox.store.put_json(_key(repo), list(data.get("runners", [])))
    return Response(204)
