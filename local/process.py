"""Child processes of the local world: started in their own process group, logged to a file, stopped for good.

Every component (etcd, kube-apiserver, Azurite, the sandbox, the Functions host) runs through `Proc`, so there is
one place that guarantees no orphan: SIGTERM to the whole group, SIGKILL after a grace period, and the kernel's
parent-death signal in case the supervisor itself is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl


class StartError(RuntimeError):
    """A component failed to start; names it and says why (usually the end of its log)."""

    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"{component} failed to start: {reason}")
        self.component = component
        self.reason = reason


#: where free ports are drawn from: below the kernel's ephemeral range, whose ports every outgoing connection
#: takes (a port the kernel picked for us could be some client's local port before the component binds it)
LISTEN_PORTS = range(15000, 32768)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return LISTEN_PORTS.stop


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now, drawn at random below the ephemeral range, so
    that the test workers' worlds, starting at once, and their clients' connections do not take it meanwhile."""
    candidates = range(LISTEN_PORTS.start, min(LISTEN_PORTS.stop, _ephemeral_start()))
    for port in random.sample(candidates, 50) if len(candidates) >= 50 else ():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # an unusual port range: the kernel's pick
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pick_port(component: str, port: int | None) -> int:
    """The requested port, checked free, or a free one if None/0: a taken port fails now, naming the component."""
    if not port:
        return free_port()
    if port_in_use(port):
        raise StartError(component, f"port {port} on 127.0.0.1 is already in use")
    return port


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def live_pids(*procs: Proc | None) -> dict[str, int]:
    """{name: pid} of the processes that are running (world.json's `pids`)."""
    return {p.name: p.pid for p in procs if p is not None and p.running()}


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the supervisor is SIGKILLed, the kernel sends SIGTERM here.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Proc:
    """One long-running child process with its own log file and process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            try:
                self.popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,  # only a prctl call: safe between fork and exec
                )
            except OSError as exc:
                raise StartError(self.name, f"cannot run {self.argv[0]}: {exc}") from exc

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode if self.popen is not None else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"

    def wait_ready(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` until it holds. If the process exits or time runs out, stop it and raise a StartError that
        names the component and ends with its log."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                problem = f"exited with code {self.returncode} before {what}"
                break
            with contextlib.suppress(OSError):
                if ready():
                    return
            if time.monotonic() > deadline:
                problem = f"not {what} after {timeout:.0f} s"
                break
            time.sleep(0.1)
        self.stop()
        raise StartError(self.name, f"{problem}; log {self.log}:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; reap the child."""
        if self.popen is None or self._stopped:
            return
        pgid = self.popen.pid  # start_new_session: the child leads its own group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        # Kill whatever is left in the group (the leader if it ignored SIGTERM, or grandchildren it left behind).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.popen.wait()
        self._stopped = True  # the group is gone: never signal its id again (it could be reused)


class Component:
    """A part of the world: `start()` runs `_start()` and, if that fails or is interrupted, stops what it began."""

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
