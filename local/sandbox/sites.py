"""The seeded web apps, each serving HTTPS on its own loopback port with the seed's ``/api/privatestuff``.

``*.azurewebsites.net`` cannot resolve here, so each app's ``defaultHostName`` is ``127.0.0.1:PORT``. The
endpoint answers from a backend "pod" (round-robin) only when ``private_path.evaluate`` finds the whole
private path consistent; otherwise it fails at once the way the .NET app fails on a broken network.
"""

from __future__ import annotations

import functools
import itertools
import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable

from .httpd import JsonHandler, TLSServer
from .private_path import evaluate, gather
from .routing import Request, Response, json_response
from .state import Json, SandboxState

PROBE_PATH = "/api/privatestuff"
#: Socket errors as .NET reports them (WSAETIMEDOUT, WSAHOST_NOT_FOUND).
_TIMED_OUT = (
    "System.Net.Http.HttpRequestException: A connection attempt failed because the connected party did not properly "
    "respond after a period of time, or established connection failed because connected host has failed to respond. "
    "({target})\n ---> System.Net.Sockets.SocketException (10060): A connection attempt failed because the connected "
    "party did not properly respond after a period of time, or established connection failed because connected host "
    "has failed to respond."
)
_NO_HOST = (
    "System.Net.Http.HttpRequestException: No such host is known. ({target})\n"
    " ---> System.Net.Sockets.SocketException (11001): No such host is known."
)
_NO_SETTING = "System.InvalidOperationException: The app setting '{setting}' is not set."


class SiteServers:
    """One HTTPS server per seeded web app, all answering from the shared world."""

    def __init__(self, world: SandboxState, context: ssl.SSLContext, port_base: int) -> None:
        self.world = world
        self.context = context
        self.port_base = port_base
        self.urls: dict[str, str] = {}
        self._rotation: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)
        self._rotation_lock = threading.Lock()

    def start(self, spawn: Callable[[str, Callable[[], None]], None]) -> list[Callable[[], None]]:
        """Bind every site (keeping a port it had before when possible); returns the stoppers."""
        stoppers: list[Callable[[], None]] = []
        with self.world.lock:
            sites = sorted(self.world.of_type("Microsoft.Web/sites"), key=lambda s: s["name"])
        for index, site in enumerate(sites):
            name = site["name"]
            server = TLSServer(("127.0.0.1", self._port_for(site, index)), self._handler(name), self.context)
            port = server.server_address[1]
            with self.world.lock:
                _set_host(site, f"127.0.0.1:{port}")
            self.urls[name] = f"https://127.0.0.1:{port}"
            spawn(f"site-{name}", functools.partial(server.serve_forever, poll_interval=0.05))
            stoppers.append(server.shutdown)
            stoppers.append(server.server_close)
        with self.world.lock:
            self.world.save()
        return stoppers

    def _handler(self, name: str) -> type[JsonHandler]:
        servers = self

        class SiteHandler(JsonHandler):
            def answer(self, req: Request) -> Response:
                return servers.answer(name, req)

        return SiteHandler

    def _port_for(self, site: Json, index: int) -> int:
        if self.port_base:
            return self.port_base + index
        host = site["properties"]["defaultHostName"]
        if host.startswith("127.0.0.1:") and _free(int(host.split(":")[1])):
            return int(host.split(":")[1])  # a restarted sandbox keeps its apps' addresses
        return 0

    def answer(self, name: str, req: Request) -> Response:
        if req.path.rstrip("/") == "":
            return Response(200, f"<html><body>{name} is up and running.</body></html>".encode(), _html())
        if req.path != PROBE_PATH or req.method != "GET":
            return Response(404, b"<html><body>404 - File or directory not found.</body></html>", _html())
        with self.world.lock:
            self.world.settle()
            site = next(s for s in self.world.of_type("Microsoft.Web/sites") if s["name"] == name)
            setting = site.get("_seed", {}).get("privateAddressSetting", "PrivateAddress")
            facts = gather(self.world, site, setting)
        verdict = evaluate(facts)
        if verdict.ok and verdict.service is not None:
            with self._rotation_lock:
                turn = next(self._rotation[f"{verdict.service.namespace}/{verdict.service.name}"])
            return json_response(
                200,
                {
                    "message": "Hello from the private service",
                    "service": f"{verdict.service.namespace}/{verdict.service.name}",
                    "address": verdict.ip,
                    "pod": f"{verdict.service.name}-{turn % 3}",
                    "path": verdict.reason,
                },
            )
        if not facts.setting:
            text = _NO_SETTING.format(setting=setting)
        elif "does not resolve" in verdict.reason:
            text = _NO_HOST.format(target=facts.setting)
        else:
            text = _TIMED_OUT.format(target=facts.setting)
        headers = {"Content-Type": "text/plain; charset=utf-8", "X-Sandbox-Reason": verdict.reason}
        return Response(500, (text + "\n").encode(), headers)


def _set_host(site: Json, host: str) -> None:
    props = site["properties"]
    props["defaultHostName"] = host
    props["hostNames"] = [host]
    props["enabledHostNames"] = [host]


def _html() -> dict[str, str]:
    return {"Content-Type": "text/html"}


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
