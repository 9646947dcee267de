"""git smart HTTP: permission checks and the `git http-backend` CGI bridge."""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from ccc.sandbox.githttp import parse_cgi, serve
from ccc.sandbox.gitrepo import GitRepo, git_env
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


# --- through the real server with the real git binary -------------------------------------------


def run_git(tmp_path, *args: str, cwd=None) -> subprocess.CompletedProcess:
    identity = ["-c", "user.name=cc01", "-c", "user.email=cc01@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, env=git_env(tmp_path), capture_output=True, text=True, check=False
    )


@pytest.fixture
def work(sandbox, tmp_path):
    """A clone of acme/widgets made with the maintainer's token."""
    clone = run_git(tmp_path, "clone", sandbox.clone_url("maintainer"), str(tmp_path / "work"))
    assert clone.returncode == 0, clone.stderr
    return tmp_path / "work"


def commit_file(tmp_path, work, name: str, content: bytes) -> None:
    (work / name).write_bytes(content)
    run_git(tmp_path, "add", name, cwd=work)
    assert run_git(tmp_path, "commit", "-q", "-m", f"add {name}", cwd=work).returncode == 0


def head_sha(tmp_path, work) -> str:
    return run_git(tmp_path, "rev-parse", "HEAD", cwd=work).stdout.strip()


def test_a_branch_pushed_over_http_is_seen_by_the_api(sandbox, github, work, tmp_path):
    assert (work / "README.md").read_text() == "# widgets\n"
    commit_file(tmp_path, work, "hello.txt", b"hello\n")
    push = run_git(tmp_path, "push", "origin", "HEAD:refs/heads/cc01/task-1", cwd=work)
    assert push.returncode == 0, push.stderr
    assert github.get_repo(sandbox.repo).get_branch("cc01/task-1").commit.sha == head_sha(tmp_path, work)


def test_a_large_push_in_a_chunked_request_arrives_whole(sandbox, github, work, tmp_path):
    commit_file(tmp_path, work, "big.bin", os.urandom(3 * 1024 * 1024))  # beyond git's 1 MiB post buffer
    push = run_git(tmp_path, "push", "origin", "HEAD:refs/heads/big", cwd=work)
    assert push.returncode == 0, push.stderr
    assert github.get_repo(sandbox.repo).get_branch("big").commit.sha == head_sha(tmp_path, work)


@pytest.mark.parametrize("login", ["outside-reader", "outside-triager"])
def test_tokens_below_write_cannot_push_and_the_ref_stays(sandbox, github, work, tmp_path, login):
    main_before = github.get_repo(sandbox.repo).get_branch("main").commit.sha
    commit_file(tmp_path, work, "sneaky.txt", b"no\n")
    push = run_git(tmp_path, "push", sandbox.clone_url(login), "HEAD:refs/heads/main", cwd=work)
    assert push.returncode != 0 and "403" in push.stderr
    assert github.get_repo(sandbox.repo).get_branch("main").commit.sha == main_before


def test_a_read_token_can_fetch_refs_the_api_created(sandbox, github, tmp_path):
    repo = github.get_repo(sandbox.repo)
    repo.create_git_ref("refs/ccc/claims/5", repo.get_branch("main").commit.sha)
    listing = run_git(tmp_path, "ls-remote", sandbox.clone_url("outside-reader"))
    assert listing.returncode == 0 and "refs/ccc/claims/5" in listing.stdout


def test_a_bad_token_is_answered_401_with_a_basic_challenge(sandbox):
    url = f"{sandbox.git_url}/{sandbox.repo}.git/info/refs?service=git-upload-pack"
    credentials = base64.b64encode(b"x-access-token:ghp_wrong").decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 401 and caught.value.headers["WWW-Authenticate"].startswith("Basic")


def test_a_push_from_a_clone_the_api_moved_past_is_rejected(sandbox, github, work, tmp_path):
    repo = github.get_repo(sandbox.repo)
    main = repo.get_git_commit(repo.get_branch("main").commit.sha)
    api_commit = repo.create_git_commit("moved by the API", main.tree, [main])
    repo.get_git_ref("heads/main").edit(api_commit.sha, force=False)
    commit_file(tmp_path, work, "late.txt", b"late\n")
    push = run_git(tmp_path, "push", "origin", "HEAD:refs/heads/main", cwd=work)
    assert push.returncode != 0 and "rejected" in push.stderr
    assert repo.get_branch("main").commit.sha == api_commit.sha


def test_a_push_to_a_pull_request_ref_is_denied(sandbox, github, work, tmp_path):
    """refs/pull/* are GitHub's own, read-only refs: a push to one is refused ("deny updating a hidden
    ref"), see https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/reviewing-changes-in-pull-requests/checking-out-pull-requests-locally."""
    commit_file(tmp_path, work, "forged.txt", b"no\n")
    push = run_git(tmp_path, "push", "origin", "HEAD:refs/pull/1/head", cwd=work)
    assert push.returncode != 0
    assert list(github.get_repo(sandbox.repo).get_git_matching_refs("pull/")) == []
