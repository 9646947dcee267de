"""git smart HTTP: permission checks and the `git http-backend` CGI bridge."""

from __future__ import annotations

import gzip
from types import SimpleNamespace

import pytest

from ccc.sandbox.githttp import parse_cgi, serve
from ccc.sandbox.gitrepo import GitRepo
from ccc.sandbox.routing import Request


@pytest.fixture
def record(tmp_path):
    """The repository record as the server passes it: `.git` and `.full_name` are what serve reads."""
    return SimpleNamespace(full_name="acme/widgets", git=GitRepo.init(tmp_path / "acme" / "widgets.git"))


def git_request(
    path: str,
    *,
    method: str = "GET",
    service: str | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Request:
    return Request(
        method=method,
        path=path,
        query={"service": [service]} if service else {},
        headers=headers or {},
        body=body,
        base_url="http://127.0.0.1:1",
        user=SimpleNamespace(login="cc01"),
    )


def pkt_line(text: str) -> bytes:
    return f"{len(text) + 4:04x}{text}".encode()


def upload_pack_want(sha: str) -> bytes:
    """The smallest protocol-v0 fetch request: want one commit, done."""
    return pkt_line(f"want {sha}\n") + b"0000" + pkt_line("done\n")


def test_ref_advertisement_for_fetch_lists_the_default_branch(record):
    response = serve(git_request("/acme/widgets.git/info/refs", service="git-upload-pack"), record, "read")
    main = record.git.resolve("refs/heads/main")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-git-upload-pack-advertisement"
    assert f"{main} refs/heads/main".encode() in response.body


@pytest.mark.parametrize("permission", ["read", "triage"])
def test_push_advertisement_is_forbidden_below_write(record, permission):
    response = serve(git_request("/acme/widgets.git/info/refs", service="git-receive-pack"), record, permission)
    assert response.status == 403 and b"denied to cc01" in response.body


def test_push_request_is_forbidden_below_write(record):
    request = git_request(
        "/acme/widgets.git/git-receive-pack",
        method="POST",
        body=b"0000",
        headers={"content-type": "application/x-git-receive-pack-request"},
    )
    assert serve(request, record, "triage").status == 403


def test_push_advertisement_is_served_to_writers(record):
    response = serve(git_request("/acme/widgets.git/info/refs", service="git-receive-pack"), record, "write")
    assert response.status == 200 and b"refs/heads/main" in response.body


def test_a_token_without_read_access_sees_no_repository(record):
    response = serve(git_request("/acme/widgets.git/info/refs", service="git-upload-pack"), record, "none")
    assert response.status == 404


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_fetch_answers_a_pack_for_plain_and_gzip_bodies(record, encoding):
    body = upload_pack_want(record.git.resolve("refs/heads/main"))
    headers = {"content-type": "application/x-git-upload-pack-request"}
    if encoding:
        body, headers["content-encoding"] = gzip.compress(body), encoding
    request = git_request("/acme/widgets.git/git-upload-pack", method="POST", body=body, headers=headers)
    response = serve(request, record, "read")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-git-upload-pack-result"
    assert b"PACK" in response.body


def test_parse_cgi_takes_the_status_line_and_headers():
    response = parse_cgi(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope")
    assert (response.status, response.headers, response.body) == (404, {"Content-Type": "text/plain"}, b"nope")
