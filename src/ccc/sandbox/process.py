"""`SandboxProcess`: run `ccc sandbox serve` as a child process and drive its controls (tests, demo, benchmarks).

Only the standard library is used here, so the controls work without PyGithub.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

READY_TIMEOUT_SECONDS = 60  # generous: CI machines under load start Python slowly


class SandboxError(RuntimeError):
    """The sandbox process did not start, or a control request failed."""


class SandboxProcess:
    def __init__(self, data_dir: Path, args: list[str]):
        self.data_dir = Path(data_dir)
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        repos: list[str] | None = None,
        tokens: dict[str, str] | None = None,
        profile: str = "plain",
        extra_args: tuple[str, ...] | list[str] = (),
    ) -> SandboxProcess:
        """Spawn the server in `data_dir` (created if missing) and wait until it is ready.

        `profile`: "plain" (forgiving) or "realistic" (GitHub's lag, budgets and settings; see the README).
        """
        args = ["--profile", profile] + [arg for repo in repos or () for arg in ("--repo", repo)]
        args += [arg for login, permission in (tokens or {}).items() for arg in ("--token", f"{login}:{permission}")]
        sandbox = cls(Path(data_dir), args + list(extra_args))
        sandbox._spawn(port=0)
        return sandbox

    def _spawn(self, port: int) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # `python -m ccc.sandbox serve` is `ccc sandbox serve` without importing the other commands.
        command = [
            sys.executable,
            "-m",
            "ccc.sandbox",
            "serve",
            "--port",
            str(port),
            "--data",
            str(self.data_dir),
            *self.args,
        ]
        with open(self.data_dir / "sandbox.log", "ab") as log:  # the child keeps its own handle
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        line = self._ready_line()
        self.info = json.loads(line)

    def _ready_line(self) -> str:
        """The one line the server prints once it listens (it prints nothing else on stdout)."""
        deadline, received = time.monotonic() + READY_TIMEOUT_SECONDS, b""
        fd = self.proc.stdout.fileno()
        while not received.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.proc.kill()
                log = (self.data_dir / "sandbox.log").read_text(errors="replace")[-2000:]
                raise SandboxError(f"sandbox did not start (exit {self.proc.wait()}):\n{log}")
            received += chunk
        return received.decode()

    # -- where things are ---------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.info["api_url"]

    @property
    def git_url(self) -> str:
        return self.info["git_url"]

    @property
    def control_url(self) -> str:
        return self.info["control_url"]

    @property
    def repo(self) -> str:
        """Full name of the first repository."""
        return self.info["repos"][0]

    def token(self, login: str = "maintainer") -> str:
        return self.info["tokens"][login]["token"]

    def clone_url(self, login: str = "maintainer", repo: str | None = None) -> str:
        netloc = urlsplit(self.git_url).netloc
        return f"http://x-access-token:{self.token(login)}@{netloc}/{repo or self.repo}.git"

    # -- controls -----------------------------------------------------------------------------

    def control(self, method: str, path: str, body: dict | None = None):
        """One /_sandbox/ request; the decoded JSON answer (None for 204)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.control_url}/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise SandboxError(f"{method} /_sandbox/{path}: {error.code} {error.read().decode()}") from None
        return json.loads(payload) if payload else None

    def faults(self, rules: list[dict], seed: int = 0) -> dict:
        return self.control("POST", "faults", {"seed": seed, "rules": rules})

    def clear_faults(self) -> dict:
        return self.faults([])

    def stats(self) -> dict:
        return self.control("GET", "stats")

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset")

    def lag(self, seconds: float, *, rate: float = 1.0, seed: int = 0) -> dict:
        """Let replicas trail the primary by up to `seconds` on a share `rate` of reads (0: always fresh)."""
        return self.control("POST", "lag", {"lag": seconds, "rate": rate, "seed": seed})

    def events(self, name: str | None = None) -> list[dict]:
        """Recorded webhook events, oldest first: {id, type, action, repo, payload, time}; `name` keeps one type."""
        return self.control("GET", "events" + (f"?name={quote(name)}" if name else ""))

    def write_event(self, path: Path, name: str, action: str | None = None) -> dict:
        """Write the newest `name` event's payload (of `action`, if given) to `path`, as `act -e` reads it."""
        found = [event for event in self.events(name) if action in (None, event["action"])]
        if not found:
            raise SandboxError(f"no {name} event{f' with action {action}' if action else ''} was recorded")
        Path(path).write_text(json.dumps(found[-1]["payload"], indent=2) + "\n")
        return found[-1]["payload"]

    def create_repo(self, full_name: str) -> dict:
        created = self.control("POST", "repos", {"full_name": full_name})
        if full_name not in self.info["repos"]:
            self.info["repos"].append(full_name)
        return created

    def reset(self) -> None:
        self.control("POST", "reset")

    # -- lifetime -----------------------------------------------------------------------------

    def restart(self) -> None:
        """Stop and start again on the same port and data: clients keep working with the same URLs."""
        port = urlsplit(self.git_url).port
        self.stop()
        self._spawn(port=port)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
