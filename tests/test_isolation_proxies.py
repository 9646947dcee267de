"""The worker-side proxies on their unix sockets: the egress allow-list and the auth-adding model API proxy."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading

import pytest

from ccc.isolation.proxies import HostRule, api_proxy, egress_proxy


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


@pytest.fixture
def upstream():
    """A model API stand-in that records the credential headers it receives and streams two chunks back."""
    seen: list[dict[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"key": self.headers.get("x-api-key"), "auth": self.headers.get("authorization")})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body) + 6))
            self.end_headers()
            self.wfile.write(b"event:" + body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_the_host_rule_allows_listed_names_and_subdomains_and_never_github():
    rule = HostRule(("api.anthropic.com", "pypi.org", "github.com"), blocked=("ghe.example",))
    assert rule.permits("api.anthropic.com") and rule.permits("files.pypi.org") and rule.permits("PyPI.org.")
    assert not rule.permits("evil-pypi.org") and not rule.permits("example.com")
    assert not rule.permits("github.com") and not rule.permits("api.github.com")
    assert not rule.permits("objects.githubusercontent.com") and not rule.permits("ghe.example")


def test_the_api_proxy_replaces_the_agents_credential_with_the_real_one(tmp_path, upstream):
    base_url, seen = upstream
    service = api_proxy(tmp_path / "api.sock", base_url, lambda: {"x-api-key": "sk-real"})
    try:
        conn = UnixHTTPConnection(str(service.path))
        for _ in range(2):  # one connection, two requests: keep-alive works through the proxy
            conn.request("POST", "/v1/messages", body=b"hello", headers={"x-api-key": "placeholder"})
            answer = conn.getresponse()
            assert (answer.status, answer.read()) == (200, b"event:hello")
        assert seen == [{"key": "sk-real", "auth": None}] * 2
    finally:
        service.close()
    assert not service.path.exists()


def test_the_egress_proxy_refuses_hosts_off_the_list_with_the_reason(tmp_path):
    service = egress_proxy(tmp_path / "egress.sock", HostRule(("pypi.org",), blocked=()))
    try:
        conn = UnixHTTPConnection(str(service.path))
        conn.request("CONNECT", "example.com:443")
        answer = conn.getresponse()
        assert answer.status == 403 and b"example.com is not on the allow-list" in answer.read()
        conn = UnixHTTPConnection(str(service.path))
        conn.request("GET", "http://pypi.org/simple/")
        answer = conn.getresponse()
        assert answer.status == 403 and b"only HTTPS through CONNECT" in answer.read()
    finally:
        service.close()


def test_the_egress_proxy_tunnels_to_a_permitted_host(tmp_path, upstream):
    base_url, _ = upstream
    port = int(base_url.rsplit(":", 1)[1])
    service = egress_proxy(tmp_path / "egress.sock", HostRule(("127.0.0.1",), blocked=()))
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(service.path))
            conn.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
            reader = conn.makefile("rb")
            assert reader.readline().startswith(b"HTTP/1.1 200")
            while reader.readline() != b"\r\n":  # the proxy's headers, up to the tunnel
                pass
            conn.sendall(b"POST / HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
            assert reader.read().endswith(b"event:hi")
    finally:
        service.close()
