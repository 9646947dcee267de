"""The agent's confinement: a bubblewrap command line around the agent, and the task's proxies around that.

The agent gets its own user, PID, IPC, UTS and network namespaces and a fresh /proc; the system
directories and declared toolchains read-only; a private HOME and /tmp; its work tree writable, the
prompt read-only and the progress file writable; nothing else of the worker. `--die-with-parent` and
the PID namespace (whose init takes every process in it along when it dies) leave no agent behind a
worker that is killed, however it is killed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ccc.errors import InputError
from ccc.isolation.proxies import HostRule, SocketService, api_proxy, egress_proxy

log = logging.getLogger(__name__)

ISOLATIONS = ("bwrap", "none")
NETWORKS = ("allowlist", "none", "host")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
MODEL_API_HOST = "api.anthropic.com"
AGENT_HOME = "/home/agent"
RUN_DIR = "/run/ccc"  # inside the namespace: the forwarder and the proxies' sockets
EGRESS_PORT = 3128
API_PORT = 3129
AGENT_UID = 1000
FORWARDER = Path(__file__).with_name("forward.py")
# The interpreter (not the worker's venv) that runs the forwarder inside the namespace.
BASE_PYTHON = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))

# Rendered when bubblewrap is missing or cannot create namespaces; each names the fix.
MISSING_BWRAP = (
    "bubblewrap (bwrap) is not installed, and --isolation bwrap (the default) needs it to confine the agent. "
    "Install it with `sudo apt-get install -y bubblewrap`, or run the agent unconfined with --isolation none "
    "(only on a runner that runs nothing else)."
)
BWRAP_FAILED = (
    "bubblewrap cannot create the agent's namespaces here: {error}. Allow unprivileged user namespaces "
    "(Ubuntu 24.04: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; older Debian: "
    "`sudo sysctl -w kernel.unprivileged_userns_clone=1`; containers: run with --privileged or a seccomp "
    "profile that allows unshare), or run the agent unconfined with --isolation none."
)
UNCONFINED_WARNING = (
    "isolation is off (--isolation none): the agent runs as the worker's user and can read its tokens, "
    "git credentials and runner files"
)


@dataclass(frozen=True)
class IsolationSettings:
    """How the agent is confined; read once from flags, then frozen."""

    mode: str = "bwrap"  # one of ISOLATIONS
    network: str = "allowlist"  # one of NETWORKS
    allow_domains: tuple[str, ...] = (MODEL_API_HOST,)  # the model API, plus what --allow-domains adds
    read_only: tuple[Path, ...] = ()  # toolchains the agent needs beyond the system directories

    def __post_init__(self) -> None:
        if self.mode not in ISOLATIONS:
            raise InputError(f"--isolation must be one of {', '.join(ISOLATIONS)}, got {self.mode!r}")
        if self.network not in NETWORKS:
            raise InputError(f"--network must be one of {', '.join(NETWORKS)}, got {self.network!r}")

    @property
    def confined(self) -> bool:
        return self.mode == "bwrap"


def check_bwrap() -> None:
    """Fail with the fixing command unless bubblewrap can build the namespaces the agent runs in."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise InputError(MISSING_BWRAP)
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--proc", "/proc", "--dev", "/dev"]
    done = subprocess.run([*probe, "true"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise InputError(BWRAP_FAILED.format(error=(done.stderr.strip() or f"exit status {done.returncode}")))


@dataclass(frozen=True)
class ModelApi:
    """Where the model API really is and the headers that authenticate to it (they never enter the namespace)."""

    base_url: str
    headers: Callable[[], dict[str, str]]


class Confinement:
    """One task's confinement: `wrap` turns a command into its confined form; a context manager runs the proxies."""

    def __init__(
        self,
        settings: IsolationSettings,
        *,
        tree: Path,
        read_only: Sequence[Path] = (),
        writable_files: Sequence[Path] = (),
        blocked_hosts: Sequence[str] = (),
        model_api: ModelApi | None = None,
    ):
        self.settings = settings
        self.tree = tree
        self.read_only = tuple(read_only)
        self.writable_files = tuple(writable_files)
        self.rule = HostRule(settings.allow_domains, tuple(blocked_hosts))
        self.model_api = model_api
        self._services: list[SocketService] = []
        self._sockets: dict[int, Path] = {}
        self._dir: Path | None = None

    def __enter__(self) -> Confinement:
        if not self.settings.confined:
            log.warning(UNCONFINED_WARNING)
            return self
        if self.settings.network == "allowlist":
            self._dir = Path(tempfile.mkdtemp(prefix="ccc-isolation-"))  # 0700: only the worker's user
            self._serve(EGRESS_PORT, lambda path: egress_proxy(path, self.rule))
            if self.model_api is not None:
                api = self.model_api
                self._serve(API_PORT, lambda path: api_proxy(path, api.base_url, api.headers))
        return self

    def __exit__(self, *exc: object) -> None:
        for service in self._services:
            service.close()
        self._services.clear()
        self._sockets.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _serve(self, port: int, start: Callable[[Path], SocketService]) -> None:
        assert self._dir is not None
        service = start(self._dir / f"{port}.sock")
        self._services.append(service)
        self._sockets[port] = service.path

    @property
    def model_base_url(self) -> str | None:
        """What the agent calls the model API inside the namespace (None: it uses the real one)."""
        return f"http://127.0.0.1:{API_PORT}" if API_PORT in self._sockets else None

    def wrap(
        self, argv: Sequence[str], env: dict[str, str], *, writable_dirs: Sequence[Path] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """The command and environment to start instead of `argv` with `env`."""
        if not self.settings.confined:
            return list(argv), env
        env = env | {"HOME": AGENT_HOME, "TMPDIR": "/tmp"}
        command = list(argv)
        if self._sockets:
            pairs = [f"{port}=/run/ccc/{port}.sock" for port in self._sockets]
            command = [str(BASE_PYTHON), "-I", "-S", f"{RUN_DIR}/forward.py", *pairs, "--", *command]
            proxy = f"http://127.0.0.1:{EGRESS_PORT}"
            env |= {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost"}
            env |= {"no_proxy": "127.0.0.1,localhost"}
        return [*self._bwrap_options(writable_dirs), "--", *command], env

    def _bwrap_options(self, writable_dirs: Sequence[Path]) -> list[str]:
        options = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
        # A user namespace always, and an ordinary uid in it: a root worker's agent gets no capabilities.
        options += ["--unshare-user", "--uid", str(AGENT_UID), "--gid", str(AGENT_UID)]
        if self.settings.network == "host":
            options.append("--share-net")
        # The root is an empty tmpfs: only what is bound below exists, so no real HOME or runner directory shows.
        options += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", AGENT_HOME]
        for path in (*SYSTEM_DIRS, *self._toolchains()):
            options += ["--ro-bind-try", str(path), str(path)]
        for path in (self.tree, *writable_dirs, *self.writable_files):
            options += ["--bind", str(path), str(path)]
        for path in self.read_only:
            options += ["--ro-bind", str(path), str(path)]
        if self._sockets:
            options += ["--ro-bind", str(FORWARDER), f"{RUN_DIR}/forward.py"]
            for port, path in self._sockets.items():
                options += ["--bind", str(path), f"{RUN_DIR}/{port}.sock"]
        return options + ["--chdir", str(self.tree)]

    def _toolchains(self) -> list[Path]:
        """The forwarder's interpreter and the user's declared toolchains, outside the system directories."""
        paths = [Path(sys.base_prefix), *self.settings.read_only]
        return [path for path in paths if not str(path).startswith(tuple(d + "/" for d in SYSTEM_DIRS))]


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ""
