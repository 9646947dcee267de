"""The worker's side of the agent's network: an allow-list CONNECT proxy and an auth-adding model API proxy.

Both listen on unix sockets that only the agent's namespace has bound in; the agent's network namespace
has no other way out. Neither ever sees a GitHub token: the egress proxy carries opaque TLS, and the API
proxy adds the model credential to requests after they leave the namespace.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from ccc.isolation.forward import pipe

log = logging.getLogger(__name__)

# Never reachable, whatever --allow-domains says: the agent must not talk to GitHub on its own.
GITHUB_DOMAINS = ("github.com", "githubusercontent.com", "githubapp.com", "ghcr.io")
# Headers that belong to one hop, or carry a credential the agent must not choose.
_DROPPED = {"host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "transfer-encoding"}
_CREDENTIALS = {"x-api-key", "authorization"}


class HostRule:
    """Which hosts the agent may reach: the allowed names and their subdomains, never the blocked ones."""

    def __init__(self, allowed: tuple[str, ...], blocked: tuple[str, ...]):
        self.allowed = tuple(name.lower().strip(".") for name in allowed if name)
        self.blocked = tuple(name.lower().strip(".") for name in (*GITHUB_DOMAINS, *blocked) if name)

    def permits(self, host: str) -> bool:
        host = host.lower().strip("[]").rstrip(".")
        return not _matches(host, self.blocked) and _matches(host, self.allowed)


def _matches(host: str, names: tuple[str, ...]) -> bool:
    return any(host == name or host.endswith("." + name) for name in names)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self) -> str:  # a unix socket has no peer address
        return "agent"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s", format % args)


class SocketService:
    """A threaded HTTP service on a unix socket, started and stopped with the task."""

    def __init__(self, path: Path, handler: type[BaseHTTPRequestHandler]):
        self.path = path
        self.server = _UnixServer(str(path), handler)
        os.chmod(path, 0o600)
        threading.Thread(target=self.server.serve_forever, name=f"ccc-{path.stem}", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.path.unlink(missing_ok=True)


def egress_proxy(path: Path, rule: HostRule) -> SocketService:
    """CONNECT host:port for permitted hosts; everything else is refused with 403 and a reason."""

    class Egress(_Quiet):
        def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
            host, _, port = self.path.rpartition(":")
            if not rule.permits(host):
                log.warning("agent egress refused: %s is not on the allow-list", host)
                return self._refuse(f"{host} is not on the allow-list (--allow-domains)")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
            except (OSError, ValueError) as exc:
                return self._refuse(f"could not reach {host}:{port}: {exc}", status=502)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            _splice(self.connection, upstream)
            self.close_connection = True

        def _refuse(self, reason: str, status: int = 403) -> None:
            body = f"ccc isolation: {reason}\n".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = lambda self: self._refuse(  # noqa: E731
            "only HTTPS through CONNECT leaves the isolation"
        )

    return SocketService(path, Egress)


def api_proxy(path: Path, base_url: str, credential: Callable[[], dict[str, str]]) -> SocketService:
    """Forward each request to `base_url`, replacing whatever credential the agent sent with the real one."""
    target = urllib.parse.urlsplit(base_url)

    class Api(_Quiet):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROPPED | _CREDENTIALS}
            headers |= credential()
            connection_type = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
            upstream = connection_type(target.netloc, timeout=600)
            try:
                upstream.request(self.command, target.path.rstrip("/") + self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                self._relay(answer)
            except OSError as exc:
                self.send_error(502, f"model API unreachable: {exc}")
            finally:
                upstream.close()

        def _relay(self, answer: http.client.HTTPResponse) -> None:
            """The answer as it streams in (server-sent events), re-framed as chunks on this hop."""
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _DROPPED | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := answer.read1(65536):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    return SocketService(path, Api)


def _splice(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""

    back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
    back.start()
    pipe(client, upstream)
    back.join()
    upstream.close()
