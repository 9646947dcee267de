"""The agent's confinement with the real bubblewrap: what the agent sees, what it may write, and the preflight."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ccc.errors import InputError
from ccc.isolation.confine import BASE_PYTHON, Confinement, IsolationSettings, check_bwrap
from isolation_support import bubblewrap_works  # noqa: F401 (autouse: fail, never skip, without bubblewrap)

PATH = {"PATH": "/usr/bin:/bin"}


@pytest.fixture
def task(tmp_path):
    """A work tree, a prompt and a progress file, as the worker lays them out."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "prompt.md").write_text("the task\n")
    (tmp_path / "files" / "progress.txt").write_text("")
    (tmp_path / "files" / "agent.log").write_text("the worker's own log\n")
    return tmp_path


def confined(task: Path, script: str, **settings) -> subprocess.CompletedProcess:
    confinement = Confinement(
        IsolationSettings(**settings),
        tree=task / "tree",
        read_only=(task / "files" / "prompt.md",),
        writable_files=(task / "files" / "progress.txt",),
    )
    with confinement:
        argv, env = confinement.wrap(["/bin/sh", "-c", script], PATH)
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def test_the_agent_writes_its_tree_and_progress_and_only_reads_its_prompt(task):
    files = task / "files"
    script = (
        f"echo made > made.txt && echo line >> {files}/progress.txt && cat {files}/prompt.md && "
        f"(echo x >> {files}/prompt.md || echo prompt-read-only) && (cat {files}/agent.log || echo no-log) && "
        "(touch /usr/x || echo usr-read-only) && (touch /etc/x || echo etc-read-only)"
    )
    done = confined(task, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["the task", "prompt-read-only", "no-log", "usr-read-only", "etc-read-only"]
    assert (task / "tree" / "made.txt").read_text() == "made\n"
    assert (files / "progress.txt").read_text() == "line\n"
    assert (files / "prompt.md").read_text() == "the task\n"


def test_the_agent_sees_a_private_home_and_tmp_and_no_worker_process(task):
    real_home = Path.home()
    secret_tmp = Path(tempfile.mkdtemp(prefix="worker-secret-"))
    try:
        script = (
            f"echo $HOME; ls -A $HOME | wc -l; test -e {secret_tmp} || echo no-worker-tmp; "
            f"ls /proc | grep -c '^[0-9]'; ls -A {real_home} 2>/dev/null | tr '\\n' ' '; echo"
        )
        done = confined(task, script)
    finally:
        shutil.rmtree(secret_tmp)
    home, home_entries, worker_tmp, processes, real_home_entries = done.stdout.splitlines()
    assert (home, home_entries, worker_tmp) == ("/home/agent", "0", "no-worker-tmp")
    assert int(processes) <= 5  # bwrap's init, the shell and its pipeline: nothing of the host
    # Of the worker's real home only the way down to a bound toolchain (the interpreter) can show.
    toolchain = Path(sys.base_prefix)
    allowed = {toolchain.relative_to(real_home).parts[0]} if toolchain.is_relative_to(real_home) else set()
    assert set(real_home_entries.split()) <= allowed


def test_without_network_there_is_no_route_out(task):
    done = confined(
        task, f"{BASE_PYTHON} -c \"import socket; socket.create_connection(('1.1.1.1', 53), 3)\"", network="none"
    )
    assert done.returncode != 0 and "Network is unreachable" in done.stderr


def test_a_root_worker_runs_the_agent_as_an_ordinary_user_without_capabilities(task):
    done = confined(task, "id -u; grep CapEff /proc/self/status")
    uid, caps = done.stdout.splitlines()
    assert uid == "1000" and caps.split()[1] == "0000000000000000"


def test_isolation_none_runs_the_command_as_it_is(task):
    confinement = Confinement(IsolationSettings(mode="none"), tree=task / "tree")
    with confinement:
        assert confinement.wrap(["true"], PATH) == (["true"], PATH)


def test_missing_bubblewrap_fails_with_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InputError, match=r"apt-get install -y bubblewrap.*--isolation none"):
        check_bwrap()


def test_bubblewrap_that_cannot_make_namespaces_fails_naming_the_sysctl(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match=r"uid map: Permission denied.*unprivileged_userns"):
        check_bwrap()


def test_unknown_isolation_or_network_values_are_refused():
    with pytest.raises(InputError, match="--isolation must be one of bwrap, none"):
        IsolationSettings(mode="docker")
    with pytest.raises(InputError, match="--network must be one of allowlist, none, host"):
        IsolationSettings(network="open")


def test_a_non_root_user_can_run_the_confined_agent():
    """The worker may run as an ordinary user on a real runner: bubblewrap works with user namespaces alone."""
    tree = Path(tempfile.mkdtemp(prefix="ccc-nonroot-"))
    try:
        tree.chmod(0o777)
        code = (
            "import subprocess; from pathlib import Path; from ccc.isolation.confine import Confinement, "
            f"IsolationSettings; c = Confinement(IsolationSettings(network='none'), tree=Path({str(tree)!r})); "
            "argv, env = c.wrap(['/bin/sh', '-c', 'id -u > uid.txt'], {'PATH': '/usr/bin:/bin'}); "
            "raise SystemExit(subprocess.run(argv, env=env).returncode)"
        )
        src = str(Path(__file__).resolve().parents[1] / "src")
        nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        env = {"PYTHONPATH": src, **PATH}
        done = subprocess.run([*nobody, str(BASE_PYTHON), "-c", code], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (tree / "uid.txt").read_text().strip() == "1000"
        assert (tree / "uid.txt").stat().st_uid == 65534 != os.getuid()  # written as the ordinary user outside
    finally:
        shutil.rmtree(tree)
