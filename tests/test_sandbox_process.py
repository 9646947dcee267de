"""SandboxProcess: starting, URLs and tokens, controls, restart on the same port, stopping."""

from __future__ import annotations

import subprocess

from ccc.sandbox.process import SandboxProcess
from conftest import github_client


def test_start_with_repos_and_tokens_reports_them(tmp_path):
    with SandboxProcess.start(tmp_path / "sb", repos=["org/one", "org/two"], tokens={"cc01": "write"}) as sandbox:
        assert sandbox.info["repos"] == ["org/one", "org/two"]
        assert sandbox.repo == "org/one"
        assert sandbox.info["tokens"]["cc01"]["permission"] == "write"
        assert set(sandbox.info["tokens"]) >= {"maintainer", "github-actions[bot]", "outside-triager", "outside-reader"}


def test_clone_url_carries_the_token(sandbox):
    port = sandbox.git_url.rsplit(":", 1)[1]
    assert sandbox.clone_url("outside-reader") == (
        f"http://x-access-token:{sandbox.token('outside-reader')}@127.0.0.1:{port}/acme/widgets.git"
    )
    assert sandbox.clone_url(repo="acme/other").endswith("/acme/other.git")


def test_git_clone_works_with_the_clone_url(sandbox, tmp_path):
    subprocess.run(["git", "clone", "-q", sandbox.clone_url(), str(tmp_path / "work")], check=True, capture_output=True)
    assert (tmp_path / "work" / "README.md").exists()


def test_restart_keeps_the_port_so_clients_keep_working(sandbox):
    client = github_client(sandbox)
    api_url = sandbox.api_url
    sandbox.restart()
    assert sandbox.api_url == api_url
    assert client.get_repo("acme/widgets").full_name == "acme/widgets"


def test_stop_ends_the_process_and_is_idempotent(tmp_path):
    sandbox = SandboxProcess.start(tmp_path / "sb")
    proc = sandbox.proc
    sandbox.stop()
    sandbox.stop()
    assert proc.returncode == 0
    assert "sandbox.log" in {path.name for path in (tmp_path / "sb").iterdir()}
