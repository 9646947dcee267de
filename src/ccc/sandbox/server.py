"""The sandbox HTTP server: one port for the REST API (/api/v3), git smart HTTP and /_sandbox controls."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ccc.sandbox import (
    api_actions,
    api_comments,
    api_events,
    api_git,
    api_issue_events,
    api_issues,
    api_labels,
    api_merges,
    api_pulls,
    api_repo_settings,
    api_reviews,
    api_sub_issues,
    api_users,
    githttp,
    html,
    merging,
)
from ccc.sandbox.consistency import Consistency
from ccc.sandbox.controls import handle_control
from ccc.sandbox.faults import EARLY_ANSWERS, Faults, Rule
from ccc.sandbox.profiles import PROFILES, Profile
from ccc.sandbox.ratelimit import RateLimiter, secondary_limit_error
from ccc.sandbox.records import User
from ccc.sandbox.routing import PERMISSIONS, ApiError, Request, Response, Route, forbidden, match
from ccc.sandbox.stats import Stats
from ccc.sandbox.store import SEED_USERS, Store

logger = logging.getLogger(__name__)

# Route modules register their handlers when imported.
ROUTE_MODULES = (
    api_users,
    api_labels,
    api_issues,
    api_issue_events,
    api_sub_issues,
    api_comments,
    api_pulls,
    api_events,
    api_git,
    api_repo_settings,
    api_merges,
    api_reviews,
    api_actions,
)

API_PREFIX = "/api/v3"
CONTROL_PREFIX = "/_sandbox"
DEFAULT_REPO = "acme/widgets"
GIT_PATH = re.compile(r"^/(?P<owner>[^/]+)/(?P<name>[^/]+?)\.git(/.*)?$")
JSON_TYPE = "application/json; charset=utf-8"
DROP = Response(status=0)  # answer nothing: close the connection (the "reset" fault)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    repos: tuple[str, ...] = ()
    tokens: dict[str, str] = field(default_factory=dict)  # login → permission, on top of the seeded users
    profile: Profile = PROFILES["plain"]
    rate_limit: int = 5000  # per user token per hour
    secondary_limit: int | None = None  # content-creating requests per token per minute; None: the profile's
    host: str = "127.0.0.1"
    port: int = 0


class Sandbox:
    """The state behind the server (store, limits, counters, faults) and how one request is answered."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.data_dir)
        self.store.actions_create_pulls_default = settings.profile.actions_create_pulls
        self.stats = Stats(self.store.get_json("stats"))
        profile = settings.profile
        self.limits = RateLimiter(
            settings.rate_limit,
            profile.secondary_per_minute if settings.secondary_limit is None else settings.secondary_limit,
            self.store.get_json("rate_limit"),
            bot_limit=profile.bot_rate_limit,
            secondary_per_hour=profile.secondary_per_hour,
            vary=profile.vary_refusals,
        )
        self.faults = Faults()
        self.seed()
        self.consistency = Consistency()
        self.consistency.configure(settings.profile.lag, 0, self.store)

    # -- state ----------------------------------------------------------------------------------

    def seed(self) -> None:
        """Seeded users, --token users and repositories; existing ones (and their tokens) are kept."""
        for login, (kind, permission) in SEED_USERS.items():
            self.store.ensure_user(login, type=kind, permission=permission)
        for login, permission in self.settings.tokens.items():
            kind = "Bot" if login.endswith("[bot]") else "User"
            self.store.ensure_user(login, type=kind, permission=permission)
        for full_name in self.settings_repos():
            self.store.create_repo(full_name)

    def reset(self) -> None:
        """Back to a freshly seeded state; tokens stay valid."""
        self.store.reset()
        self.stats.reset()
        self.limits.reset()
        self.faults.replace([], 0)
        merging.forget()
        self.seed()
        self.consistency.configure(self.settings.profile.lag, 0, self.store)
        self.save()

    def save(self) -> None:
        """Persist the counters so a restart with the same data directory continues them."""
        self.store.put_json("stats", self.stats.to_json())
        self.store.put_json("rate_limit", self.limits.saved())

    def info(self, root_url: str) -> dict:
        """What `serve` prints: where the API, git and controls are, the repositories and the tokens."""
        return {
            "api_url": root_url + API_PREFIX,
            "git_url": root_url,
            "repos": [repo.full_name for repo in self.store.repos()],
            "tokens": {
                user.login: {"token": user.token, "permission": user.permission} for user in self.store.token_users()
            },
            "control_url": root_url + CONTROL_PREFIX,
        }

    def stats_json(self) -> dict:
        return self.stats.to_json()

    # -- the REST API ---------------------------------------------------------------------------

    def handle_api(self, req: Request) -> Response:
        req.store = self.store
        req.context["request_id"] = secrets.token_hex(8).upper()
        found = match(req.method, req.path)
        route, params = found if found else (None, {})
        req.route = route
        try:
            response = self._answer(req, route, params)
        except ApiError as error:
            response = error_response(error)
        except Exception:  # a sandbox bug: answer as GitHub's 500 does, and say where in the log
            logger.exception("%s %s failed", req.method, req.path)
            response = error_response(ApiError(500, "Server Error"))
        if response is not DROP:  # a dropped connection has no headers to carry
            if req.user is not None:
                response.headers.update(rate_headers(self.limits.state(req.context["budget"])))
            response.headers["x-github-request-id"] = req.context["request_id"]
        route_key = f"{req.method} {route.template if route else '(unknown)'}"
        self.stats.count(route_key, req.user.login if req.user else None, response.status, bool(route and route.write))
        return response

    def _answer(self, req: Request, route: Route | None, params: dict) -> Response:
        fired = self.faults.pick(req.method, route.template if route else None, req.path)
        early = self._early_fault(fired, req)
        if early is not None:
            return early
        if route is None:
            logger.warning("no route for %s %s (the sandbox does not implement it)", req.method, req.path)
            raise ApiError(404, "Not Found")
        req.user = self.authenticate(req, route)
        if req.user is None:
            return self._run(req, route, params, fired)
        login, budget = req.user.login, self._budget(req.user, params)
        req.context["budget"] = budget
        if route.template == "/rate_limit":
            req.context["rate_limit"] = self.limits.state(budget)
            return self._run(req, route, params, fired)
        if route.write:
            self.limits.check_secondary(login, req.context["request_id"])
        self.limits.spend(req.user.id, budget, req.context["request_id"])
        try:
            response = self._run(req, route, params, fired)
        except ApiError:
            self.stats.charged(login)
            raise
        if response.status == HTTPStatus.NOT_MODIFIED:
            self.limits.refund(budget)
        else:
            self.stats.charged(login)
        return response

    def _budget(self, user: User, params: dict) -> str:
        """The budget a request spends; the Actions token's belongs to its repository (the first when none is named)."""
        repo = f"{params['owner']}/{params['repo']}" if "repo" in params else self.settings_repos()[0]
        return self.limits.budget_key(user.login, user.type == "Bot", repo)

    def settings_repos(self) -> tuple[str, ...]:
        return self.settings.repos or (DEFAULT_REPO,)

    def _early_fault(self, fired: list[Rule], req: Request) -> Response | None:
        """Faults that answer before the handler runs (or delay it); handlers see the others' kinds."""
        req.context["faults"] = {rule.kind for rule in fired}
        for rule in fired:
            if rule.kind in EARLY_ANSWERS:
                return error_response(ApiError(*EARLY_ANSWERS[rule.kind]))
            if rule.kind == "latency":
                time.sleep(rule.ms / 1000)
            elif rule.kind in ("reset", "sever"):
                return DROP
            elif rule.kind == "status":
                return error_response(ApiError(rule.status, HTTPStatus(rule.status).phrase))
            elif rule.kind == "too_many_requests":
                headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after else {}
                return error_response(ApiError(429, "Too Many Requests", headers=headers))
            elif rule.kind == "secondary_limit":
                return error_response(secondary_limit_error(req.context["request_id"], rule.retry_after or None))
        return None

    def authenticate(self, req: Request, route: Route) -> User | None:
        token = bearer_token(req.headers.get("authorization", ""))
        if token is None:
            if route.auth:
                raise ApiError(401, "Requires authentication")
            return None
        user = self.store.user_by_token(token)
        if user is None:
            raise ApiError(401, "Bad credentials")
        req.token = token
        return user

    def _run(self, req: Request, route: Route, params: dict, fired: list[Rule]) -> Response:
        if "owner" in params and "repo" in params:
            req.repo = self.authorize(req.user, params["owner"], params["repo"], route.permission)
        stale = [rule for rule in fired if rule.kind == "stale_reads" and req.method == "GET"]
        response = self._stale_list(req, route, params, stale[0]) if stale else None
        if response is None:
            response = self._call(self._replica(req, route), route, params)
        if route.write and response.status < 400:
            self._written(req, route, response)
        for rule in fired:
            if rule.kind == "commit_then_fail":
                raise ApiError(rule.status, HTTPStatus(rule.status).phrase)
        if req.method == "GET" and response.status == HTTPStatus.OK:
            return conditional(req, response)
        return response

    def _call(self, req: Request, route: Route, params: dict) -> Response:
        result = route.handler(req, **params)
        return result if isinstance(result, Response) else Response(route.status, result)

    def _replica(self, req: Request, route: Route) -> Request:
        """Point a read at the replica that answers it: the primary, or one up to `lag` seconds behind."""
        delay = self.consistency.replica_delay(route.template) if req.method == "GET" and req.repo else 0.0
        moment = self.consistency.as_of(delay) if delay else None
        replica_repo = self.consistency.replica_repo(moment, req.repo) if moment else None
        if replica_repo is not None:
            req.store, req.repo = moment.store, replica_repo
        return req

    def _written(self, req: Request, route: Route, response: Response) -> None:
        """Tell the replicas' history about a successful write."""
        if route.template == "/repos/{owner}/{repo}/git/commits":
            self.consistency.commit_born(response.body["sha"])
        self.consistency.record(self.store, [req.repo] if req.repo else [])

    def _stale_list(self, req: Request, route: Route, params: dict, rule: Rule) -> Response | None:
        """The answer from the state `rule.seconds` old, if it is a list (single objects stay fresh)."""
        moment = self.consistency.as_of(rule.seconds)
        if moment is None:
            return None
        req.store = moment.store
        try:
            response = self._call(req, route, params)
        except ApiError:
            return None  # e.g. the snapshot predates the issue: answer from the live state instead
        finally:
            req.store = self.store
        return response if isinstance(response.body, list) else None

    def authorize(self, user: User | None, owner: str, name: str, needed: str):
        """The repository, if this user may see it (else 404) and has the needed permission (else 403)."""
        repo = self.store.repo(owner, name)
        level = self.store.permission(user, repo) if (user and repo) else "none"
        if repo is None or level == "none":
            raise ApiError(404, "Not Found")
        if PERMISSIONS.index(level) < PERMISSIONS.index(needed):
            raise forbidden(user)
        return repo

    # -- git smart HTTP -------------------------------------------------------------------------

    def handle_git(self, req: Request, owner: str, name: str) -> Response:
        user = self.store.user_by_token(basic_password(req.headers.get("authorization", "")) or "")
        if user is None:
            return Response(
                401,
                b"Authentication failed\n",
                {"WWW-Authenticate": 'Basic realm="GitHub"', "Content-Type": "text/plain"},
            )
        req.user, req.token, req.store = user, user.token, self.store
        repo = self.store.repo(owner, name)
        if repo is None:
            return Response(404, b"Repository not found.\n", {"Content-Type": "text/plain"})
        response = githttp.serve(req, repo, self.store.permission(user, repo))
        if req.method == "POST" and githttp.service_of(req) == githttp.RECEIVE_PACK:
            self.consistency.record(self.store, [repo])  # a push moves refs: replicas see it later
        return response


# -- helpers for answers ----------------------------------------------------------------------------


def error_response(error: ApiError) -> Response:
    return Response(error.status, error.body(), dict(error.headers))


def rate_headers(state: dict) -> dict[str, str]:
    return {f"x-ratelimit-{name}": str(state[name]) for name in ("limit", "remaining", "used", "reset", "resource")}


def conditional(req: Request, response: Response) -> Response:
    """Add a weak ETag; a matching If-None-Match turns the answer into an empty 304."""
    if not isinstance(response.body, bytes):  # serialise once: for the tag and for sending
        response.body = json.dumps(response.body).encode()
        response.headers.setdefault("Content-Type", JSON_TYPE)
    etag = f'W/"{hashlib.sha256(response.body).hexdigest()[:40]}"'
    response.headers["ETag"] = etag
    wanted = {tag.strip() for tag in req.headers.get("if-none-match", "").split(",")}
    if etag in wanted or etag.removeprefix("W/") in wanted or "*" in wanted:
        return Response(304, None, {"ETag": etag})
    return response


def bearer_token(header: str) -> str | None:
    """The token of `token X`, `Bearer X` or HTTP Basic (password) authorization."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        return basic_password(header)
    return None


def basic_password(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except ValueError:
        return None
    return decoded.partition(":")[2] or None


# -- HTTP plumbing ----------------------------------------------------------------------------------


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # many clients connect at once in tests and benchmarks

    def __init__(self, sandbox: Sandbox, host: str, port: int):
        self.sandbox = sandbox
        super().__init__((host, port), Handler)
        self.root_url = f"http://{host}:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive client waits ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer
    server_version = "ccc-sandbox"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)

    def dispatch(self) -> None:
        try:
            response = self.route_request()
        except Exception:  # a sandbox bug: answer as GitHub's 500 does, and leave the trace in the log
            logger.exception("%s %s failed", self.command, self.path)
            response = error_response(ApiError(500, "Server Error"))
        if response is DROP:
            self.drop_connection()
        else:
            self.send(response)

    def route_request(self) -> Response:
        """API, control or git request → its answer."""
        body = self.read_body()
        split = urlsplit(self.path)
        path = unquote(split.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        query = Request.parse_query(split.query)
        root, sandbox = self.server.root_url, self.server.sandbox
        git = GIT_PATH.match(path)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            req = Request(self.command, path[len(API_PREFIX) :] or "/", query, headers, body, root + API_PREFIX)
            return sandbox.handle_api(req)
        if path.startswith(CONTROL_PREFIX + "/"):
            req = Request(self.command, path[len(CONTROL_PREFIX) :], query, headers, body, root + API_PREFIX)
            return handle_control(sandbox, req)
        if git:
            req = Request(self.command, path, query, headers, body, root)
            return sandbox.handle_git(req, git.group("owner"), git.group("name"))
        if self.command == "GET" and (page := html.page(sandbox.store, path)) is not None:
            return page  # the browser view of the html_url addresses
        return error_response(ApiError(404, "Not Found"))

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, response: Response) -> None:
        headers = dict(response.headers)
        if isinstance(response.body, bytes):
            data = response.body
        elif response.body is None or response.status in (204, 304):
            data = b""
        else:
            data = json.dumps(response.body).encode()
            headers.setdefault("Content-Type", JSON_TYPE)
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop_connection(self) -> None:
        """Close with a TCP reset, as a dying load balancer does."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def serve(settings: Settings) -> int:
    """Run the sandbox until SIGTERM/SIGINT: print the ready line, write DATA/sandbox.json, serve."""
    sandbox = Sandbox(settings)
    server = SandboxHTTPServer(sandbox, settings.host, settings.port)
    info = sandbox.info(server.root_url)
    (settings.data_dir / "sandbox.json").write_text(json.dumps(info, indent=2) + "\n")

    def stop(signum, frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps(info), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        sandbox.save()
        sandbox.store.close()
        sys.stdout.flush()
    return 0
