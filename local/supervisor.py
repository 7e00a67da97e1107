"""The one supervisor of the local world: Azurite, etcd + kube-apiserver, the ARM sandbox and the Functions host.

`make run`, the demo and the tests all go through `World`, so they see the same world: loopback only, logs under
`<state>/logs/`, and `<state>/world.json` as the one place a script finds it. Like the Functions platform, the
supervisor starts the host again when it dies unexpectedly; the sandbox and the cluster keep their state meanwhile.
Whatever happens (Ctrl-C, SIGTERM, a failing test, a component that does not start) no process is left behind.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from local.azurite import STANDARD_PORTS, Azurite
from local.cluster import Cluster
from local.process import Component, Proc, StartError, live_pids, pick_port, pid_alive

log = logging.getLogger("kubelink.world")

REPO = Path(__file__).resolve().parent.parent
COMPONENTS = ("azurite", "cluster", "sandbox", "host")
# What each component needs running first (the sandbox serves a kubeconfig of the cluster; the host needs them all).
NEEDS = {"azurite": (), "cluster": (), "sandbox": ("cluster",), "host": ("azurite", "cluster", "sandbox")}
# `make run` ports: the Functions default for the host, Azurite's well-known ones; etcd gets a free port.
RUN_PORTS = {"host": 7071, "arm": 8443, "apiserver": 6443, **STANDARD_PORTS}
# The platform gives up on a host that keeps crashing; so do we, rather than spin.
MAX_RESTARTS_PER_MINUTE = 5
#: the Event Grid trigger the sandbox's system topic delivers to (api/events.py)
EVENT_FUNCTION = "resource_changed"
EVENT_TYPES = [f"Microsoft.Resources.Resource{kind}Success" for kind in ("Write", "Delete", "Action")]
STATE_ENTRIES = ("azurite", "cluster", "sandbox", "host", "logs", "world.json", "local.settings.json")


def available_components() -> tuple[str, ...]:
    """Components whose code is in the tree (the sandbox and the host are packages of their own under local/)."""
    return tuple(c for c in COMPONENTS if c not in ("sandbox", "host") or (REPO / "local" / c / "__main__.py").exists())


class Sandbox(Component):
    """The ARM sandbox (`python -m local.sandbox`); ready once it has written `sandbox.json`."""

    def __init__(self, work: Path, logs: Path, kubeconfig: Path, port: int | None, args: Sequence[str]) -> None:
        self.work = work
        self.logs = logs
        self.kubeconfig = kubeconfig
        self.requested = port
        self.args = list(args)
        self.info: dict[str, Any] = {}
        self.proc: Proc | None = None

    def _start(self) -> None:
        port = pick_port("sandbox", self.requested)
        self.work.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "local.sandbox", "--port", str(port), "--state-dir", str(self.work)]
        argv += ["--kubeconfig", str(self.kubeconfig), *self.args]
        self.proc = Proc("sandbox", argv, self.logs / "sandbox.log", cwd=REPO)
        self.proc.start()
        self.proc.wait_ready(self._ready, 60, "ready (sandbox.json written)")

    def _ready(self) -> bool:
        path = self.work / "sandbox.json"
        if not path.exists():
            return False
        try:
            self.info = json.loads(path.read_text())
        except ValueError:  # still being written
            return False
        return True

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


class Host(Component):
    """The local Functions host (`python -m local.host`) on a fixed port, so a restart keeps its URL; it gives the
    app the sandbox's identity endpoint as App Service gives an app its managed identity's."""

    def __init__(self, work: Path, logs: Path, settings: Path, port: int | None, sandbox: Sandbox) -> None:
        self.work = work
        self.logs = logs
        self.settings = settings
        self.sandbox = sandbox
        self.requested = port
        self.port = 0
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        """Start the host; a restart reuses the port of the first start."""
        self.port = self.port or pick_port("host", self.requested)
        self.work.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "local.host", "--app-dir", str(REPO), "--port", str(self.port)]
        argv += ["--state-dir", str(self.work), "--settings", str(self.settings)]
        argv += ["--identity-endpoint", self.sandbox.info["identityEndpoint"]]
        argv += ["--identity-header-file", self.sandbox.info["identityHeaderFile"]]
        self.proc = Proc("host", argv, self.logs / "host.log", cwd=REPO, env=self._environment())
        self.proc.start()
        self.proc.wait_ready(self._ready, 60, f"answering on {self.url}")

    def _environment(self) -> dict[str, str]:
        """This machine's environment without the variables the settings file defines: like App Service, where
        app settings are the environment, so a developer's REQUESTS_CA_BUNDLE cannot hide the sandbox's CA."""
        values = json.loads(self.settings.read_text()).get("Values", {})
        return {name: value for name, value in os.environ.items() if name not in values}

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/admin/host/status", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as exc:
            return exc.code == 404  # up, without the admin route

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


class World:
    """The local world. `World.start(...)` starts it (use it as a context manager, or call `stop()`).

    Ports: None or 0 means a free port; `host_port` defaults to 7071 like `func start`. Components start in the
    order of COMPONENTS, each with what it needs (NEEDS); `ensure()` adds components to a running world, which is
    how the tests start only what they use. Start and stop it from a thread that outlives it (the main thread):
    children get SIGTERM when the thread that started them ends, so that a killed supervisor leaves none behind.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        host_port: int | None = RUN_PORTS["host"],
        arm_port: int | None = None,
        apiserver_port: int | None = None,
        storage_ports: Mapping[str, int] | None = None,
        sandbox_args: Sequence[str] = (),
        settings: Mapping[str, str] | None = None,
        events: bool = True,
    ) -> None:
        self.state_dir = state_dir.resolve()
        #: subscribe the host's Event Grid trigger to the sandbox's ARM events when the host starts
        self.events = events
        self.extra_settings = dict(settings or {})
        logs = self.state_dir / "logs"
        self.settings_file = self.state_dir / "local.settings.json"
        self.azurite = Azurite(logs, ports=dict(storage_ports or {}), location=self.state_dir / "azurite")
        self.cluster = Cluster(self.state_dir / "cluster", logs, apiserver_port=apiserver_port)
        self.sandbox = Sandbox(self.state_dir / "sandbox", logs, self.cluster.kubeconfig, arm_port, sandbox_args)
        self.host = Host(self.state_dir / "host", logs, self.settings_file, host_port, self.sandbox)
        self.world_file = self.state_dir / "world.json"
        self.components: list[str] = []  # started (or starting), in order
        self.restarts: list[float] = []
        self.failure: str | None = None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    # -- starting and stopping -------------------------------------------------------------------------------------

    @classmethod
    def start(cls, state_dir: Path, components: Sequence[str] | None = None, **options: Any) -> World:
        """Start `components` (default: all whose code exists); on failure stop everything and raise StartError."""
        world = cls(state_dir, **options)
        try:
            world.ensure(*(available_components() if components is None else components))
        except BaseException:
            world.stop()
            raise
        return world

    def ensure(self, *components: str) -> None:
        """Start these components and what they need, unless already running; then rewrite world.json."""
        wanted: set[str] = set()
        for name in components:
            if name not in NEEDS:
                raise ValueError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")
            wanted |= {name, *NEEDS[name]}
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("this world was stopped; start a new one")
            if self._monitor is None:
                self._claim_state_dir()
                atexit.register(self.stop)
                # The monitor lives until stop(): a host it restarts dies with the thread that started it (PDEATHSIG).
                self._monitor = threading.Thread(target=self._watch, name="world-monitor", daemon=True)
                self._monitor.start()
            for name in COMPONENTS:
                if name in wanted and name not in self.components:
                    self._start_one(name)
            self.write_world_file()

    def _claim_state_dir(self) -> None:
        """Refuse to share a state dir with a live world; otherwise start from a clean one."""
        if self.world_file.exists():
            with contextlib.suppress(ValueError, KeyError, OSError):
                pid = json.loads(self.world_file.read_text())["pids"]["supervisor"]
                if pid != os.getpid() and pid_alive(pid):
                    raise StartError("supervisor", f"a world is already running from {self.state_dir} (pid {pid})")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for entry in STATE_ENTRIES:
            path = self.state_dir / entry
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def _start_one(self, name: str) -> None:
        began = time.monotonic()
        self.components.append(name)  # before start: stop() then covers a start interrupted half-way
        if name == "host":
            self._write_settings()
        component: Component = getattr(self, name)  # attributes are named as COMPONENTS
        component.start()
        if name == "host" and self.events:
            self.subscribe_host_to_events()
        log.info("%s ready in %.1f s", name, time.monotonic() - began)

    def stop(self) -> None:
        """Stop everything this world started, newest first. Safe to call twice, from atexit, or after a failure."""
        self._stopping.set()
        with self._lock:
            for name in reversed(self.components):
                component: Component = getattr(self, name)
                component.stop()
            self.world_file.unlink(missing_ok=True)
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(timeout=30)
        atexit.unregister(self.stop)

    def __enter__(self) -> World:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the host, restarted like the platform does ----------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                if not self._stopping.is_set() and self.failure is None:
                    self._check_components()

    def _check_components(self) -> None:
        """A dead host is restarted; any other dead component is a failure of the world (`failure` says which)."""
        for proc in self._procs()[:-1]:
            if proc is not None and not proc.running():
                self.failure = f"{proc.name} exited with code {proc.returncode}:\n{proc.log_tail()}"
                log.error("%s", self.failure)
                return
        if self.host.proc is None or self.host.proc.running():
            return
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        code = self.host.proc.returncode
        if len(self.restarts) > MAX_RESTARTS_PER_MINUTE:
            self.failure = f"host keeps dying (exit code {code}); gave up after {MAX_RESTARTS_PER_MINUTE} restarts"
            log.error("%s:\n%s", self.failure, self.host.proc.log_tail())
            return
        log.warning("host exited with code %s; restarting it", code)
        self.host.stop()  # reap it and anything it left in its process group
        try:
            self.host.start()
            if self.events:
                self.subscribe_host_to_events()
        except StartError as exc:
            self.failure = str(exc)
            log.error("%s", self.failure)
            return
        self.write_world_file()
        log.info("host restarted (pid %s)", self.host.proc.pid)

    def subscribe_host_to_events(self) -> None:
        """Wire the host's Event Grid webhook to the sandbox's system topic, as infra does in Azure: the
        subscription's validation handshake goes to the host, and ARM's events follow (local/sandbox/README.md)."""
        subscription = {
            "name": "kubelink",
            "endpoint": f"{self.host.url}/runtime/webhooks/eventgrid?functionName={EVENT_FUNCTION}",
            "includedEventTypes": EVENT_TYPES,
            "subjectBeginsWith": f"/subscriptions/{self.subscription_id}",
            "maxEventsPerBatch": 10,
        }
        request = urllib.request.Request(
            f"{self.arm_url}/_sandbox/eventSubscriptions",
            data=json.dumps(subscription).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        try:
            with urllib.request.urlopen(request, timeout=60, context=context) as answer:
                answer.read()
        except urllib.error.HTTPError as refused:
            raise StartError("host", f"the sandbox refused its event subscription: {refused.read().decode()}") from None

    def unsubscribe_host_from_events(self) -> None:
        request = urllib.request.Request(f"{self.arm_url}/_sandbox/eventSubscriptions/kubelink", method="DELETE")
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        with contextlib.suppress(urllib.error.HTTPError), urllib.request.urlopen(request, timeout=60, context=context):
            pass

    # -- what the world looks like from outside --------------------------------------------------------------------

    @property
    def host_url(self) -> str | None:
        return self.host.url if "host" in self.components else None

    @property
    def arm_url(self) -> str | None:
        return self.sandbox.info.get("arm")

    @property
    def subscription_id(self) -> str | None:
        return self.sandbox.info.get("subscriptionId")

    @property
    def sites(self) -> dict[str, str]:
        return dict(self.sandbox.info.get("sites", {}))

    @property
    def ca_bundle(self) -> Path:
        """The sandbox's CA, which signs ARM's and the web apps' certificates (the cluster's is in the kubeconfig)."""
        return Path(self.sandbox.info["caBundle"])

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.kubeconfig

    @property
    def storage(self) -> str:
        return self.azurite.connection_string

    def _procs(self) -> tuple[Proc | None, ...]:
        """Every process of the world, the host last."""
        return (self.azurite.proc, self.cluster.etcd, self.cluster.apiserver, self.sandbox.proc, self.host.proc)

    @property
    def pids(self) -> dict[str, int]:
        return {"supervisor": os.getpid(), **live_pids(*self._procs())}

    def describe(self) -> dict[str, Any]:
        """The content of world.json (README, "The local world"): where each part of the running world is."""
        started = set(self.components)
        return {
            "host": self.host_url,
            "arm": self.arm_url,
            "caBundle": str(self.ca_bundle) if "sandbox" in started else None,
            "kubeconfig": str(self.kubeconfig) if "cluster" in started else None,
            "storage": self.storage if "azurite" in started else None,
            "subscriptionId": self.subscription_id,
            "sites": self.sites,
            "pids": self.pids,
        }

    def write_world_file(self) -> None:
        staged = self.world_file.with_suffix(".tmp")
        staged.write_text(json.dumps(self.describe(), indent=2) + "\n")
        staged.replace(self.world_file)

    def host_settings(self) -> dict[str, str]:
        """The Functions host's app settings, as the platform would hold them for this world."""
        return {
            "AzureWebJobsStorage": self.storage,
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "KUBELINK_ARM_ENDPOINT": str(self.arm_url),
            "KUBELINK_ALLOWED_SCOPES": f"/subscriptions/{self.subscription_id}",
            "KUBELINK_KUBECONFIG": base64.b64encode(self.kubeconfig.read_bytes()).decode(),
            "KUBELINK_POLL_SECONDS": "1",
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            # infra/ sets it to the client id of kubelink's user-assigned identity, as here to the sandbox's
            "AZURE_CLIENT_ID": self.sandbox.info["appClientId"],
            **self.extra_settings,
        }

    def app_environment(self) -> dict[str, str]:
        """What product code sees when the host runs it: the app settings plus App Service's managed-identity
        variables (for calling product code in-process against this world, as kubelink's identity)."""
        return {
            **self.host_settings(),
            "IDENTITY_ENDPOINT": self.sandbox.info["identityEndpoint"],
            "IDENTITY_HEADER": Path(self.sandbox.info["identityHeaderFile"]).read_text().strip(),
        }

    def _write_settings(self) -> None:
        self.settings_file.touch(mode=0o600)  # holds the cluster token
        content = {"IsEncrypted": False, "Values": self.host_settings()}
        self.settings_file.write_text(json.dumps(content, indent=2) + "\n")


# -- CLI ---------------------------------------------------------------------------------------------------------------


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0 = any free port)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local.supervisor", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the world in the foreground; Ctrl-C stops it")
    run.add_argument("--state-dir", type=Path, default=REPO / ".local", help="default: .local in the repo")
    run.add_argument("--host-port", type=_port, default=RUN_PORTS["host"], help="Functions host (default 7071)")
    run.add_argument("--arm-port", type=_port, default=RUN_PORTS["arm"], help="ARM sandbox (default 8443)")
    run.add_argument("--apiserver-port", type=_port, default=RUN_PORTS["apiserver"], help="kube-apiserver (6443)")
    for kind, port in STANDARD_PORTS.items():
        run.add_argument(f"--{kind}-port", type=_port, default=port, help=f"Azurite {kind} (default {port})")
    run.add_argument("--without", action="append", default=[], choices=COMPONENTS, help="leave a component out")
    run.add_argument("--sandbox-arg", action="append", default=[], help="extra argument for local.sandbox")
    run.add_argument(
        "--throttle-scale", type=float, default=1.0, help="ARM's token buckets in the sandbox times this (0: off)"
    )
    stop = commands.add_parser("stop", help="stop the world that world.json describes")
    stop.add_argument("--state-dir", type=Path, default=REPO / ".local")
    return parser


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _run(args: argparse.Namespace) -> int:
    # Ctrl-C, SIGTERM and a closed terminal all stop the world (SIGINT even when started with it ignored, as `&` does).
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)
    components = [c for c in available_components() if c not in args.without]
    left_out = [c for c in COMPONENTS if c not in components]
    if left_out:
        log.warning("not starting: %s", ", ".join(left_out))
    try:
        world = World.start(
            args.state_dir,
            components=components,
            host_port=args.host_port,
            arm_port=args.arm_port,
            apiserver_port=args.apiserver_port,
            storage_ports={kind: getattr(args, f"{kind}_port") for kind in STANDARD_PORTS},
            sandbox_args=["--throttle-scale", str(args.throttle_scale), *args.sandbox_arg],
        )
    except StartError as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    with world:
        info = world.describe()
        print(f"kubelink local world is up ({world.world_file}):")
        for key in ("host", "arm", "kubeconfig", "caBundle", "subscriptionId"):
            if info[key]:
                print(f"  {key:15} {info[key]}")
        for app, url in info["sites"].items():
            print(f"  site {app:10} {url}")
        if info["storage"]:
            print(f"  {'storage':15} Azurite, blob/queue/table on " + ", ".join(map(str, world.azurite.ports.values())))
        print(f"  {'logs':15} {world.state_dir / 'logs'}\nCtrl-C stops everything.", flush=True)
        try:
            while world.failure is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping…", flush=True)
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        if world.failure is None:
            return 0
        log.error("stopping the world: %s", world.failure)
        return 1


def _stop(args: argparse.Namespace) -> int:
    world_file = args.state_dir / "world.json"
    if not world_file.exists():
        print(f"no world running ({world_file} does not exist)")
        return 0
    pid = json.loads(world_file.read_text())["pids"]["supervisor"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while pid_alive(pid):
        if time.monotonic() > deadline:
            print(f"supervisor {pid} still running after 60 s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"stopped the world of {args.state_dir} (supervisor pid {pid})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    args = _parser().parse_args(argv)
    return _run(args) if args.command == "run" else _stop(args)


if __name__ == "__main__":
    sys.exit(main())
