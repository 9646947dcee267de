"""git smart HTTP for the sandbox: permission checks, then `git http-backend` run as a CGI program.

The server has already authenticated the token; this module decides whether that token's
permission allows the git service asked for (fetch needs read, push needs write) and turns the
CGI answer into a `Response`.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from urllib.parse import urlencode

from ccc.sandbox import webhooks
from ccc.sandbox.gitrepo import GitRepo, git_env
from ccc.sandbox.routing import PERMISSIONS, Request, Response

# /OWNER/NAME.git/<rest>: everything after `.git` is passed to http-backend as the path.
_REPO_PATH = re.compile(r"^/[^/]+/[^/]+\.git(?P<rest>/.*)?$")

RECEIVE_PACK = "git-receive-pack"


def service_of(req: Request) -> str:
    """The git service a request belongs to; the ref advertisement names it in `?service=`."""
    if req.path.endswith("/info/refs"):
        return req.arg("service") or "dumb"
    return req.path.rsplit("/", 1)[-1]


def needed_permission(service: str) -> str:
    return "write" if service == RECEIVE_PACK else "read"


def serve(req: Request, repo, permission: str) -> Response:
    """Answer one git HTTP request for `repo` (a record with `.git`, `.full_name`) as `permission`."""
    service = service_of(req)
    if PERMISSIONS.index(permission) < PERMISSIONS.index("read"):
        return _text(404, "Repository not found.\n")
    if PERMISSIONS.index(permission) < PERMISSIONS.index(needed_permission(service)):
        return _text(403, f"Permission to {repo.full_name}.git denied to {req.user.login}.\n")
    match = _REPO_PATH.match(req.path)
    if match is None:
        return _text(404, "Not Found\n")
    pushing = service == RECEIVE_PACK and req.method == "POST"
    before = dict(repo.git.list_refs()) if pushing else {}
    response = _run_backend(req, repo.git, match.group("rest") or "/")
    if pushing:
        webhooks.pushed(req, repo, before, dict(repo.git.list_refs()))
    return response


def _run_backend(req: Request, git: GitRepo, rest: str) -> Response:
    body = req.body
    if req.headers.get("content-encoding", "").lower() in ("gzip", "x-gzip"):
        body = gzip.decompress(body)  # git gzips large request bodies; the backend gets them plain
    env = {
        **git_env(git.path),
        "GIT_PROJECT_ROOT": str(git.path.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{git.path.name}{rest}",
        "REQUEST_METHOD": req.method,
        "QUERY_STRING": urlencode(req.query, doseq=True),
        "CONTENT_TYPE": req.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": req.user.login,  # http-backend only allows a push to a named user
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if "git-protocol" in req.headers:
        env["GIT_PROTOCOL"] = req.headers["git-protocol"]  # protocol v2 negotiation
    result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
    if not result.stdout:
        return _text(500, result.stderr.decode(errors="replace") or "git http-backend failed\n")
    return parse_cgi(result.stdout)


def parse_cgi(output: bytes) -> Response:
    """A CGI answer (headers, blank line, body; `Status:` for a non-200 status) → Response."""
    head, sep, body = output.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = output.partition(b"\n\n")
    status, headers = 200, {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return Response(status=status, body=body, headers=headers)


def _text(status: int, message: str) -> Response:
    return Response(status=status, body=message.encode(), headers={"Content-Type": "text/plain"})
