"""The sandbox's HTTPS front door: auth, api-version, faults, routing, ARM headers, and the control API."""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from . import containerservice, locks, network, privatedns, privatelink, resources, web
from .cloud import Cloud, Settings
from .control import Faults, RequestLog, parse_fault
from .errors import ArmError
from .httpd import JsonHandler, TLSServer, error_response
from .ilb import IlbController
from .routing import Request, Response, Router, json_response
from .seed import DEFAULT_SEED, load_seed
from .sites import SiteServers
from .state import World
from .tls import CertificateAuthority

log = logging.getLogger("local.sandbox")

ARM_ROUTES = Router()
for _module in (locks, resources, network, privatelink, privatedns, web, containerservice):
    ARM_ROUTES.routes.extend(_module.router.routes)


class Sandbox:
    """The Azure sandbox: ARM over HTTPS on loopback, with the cloud's behaviour around it.

    ``Sandbox(state_dir).start()`` serves until ``stop()``; ``state_dir`` receives ``ca.pem``,
    ``state.json`` and, once ready, ``sandbox.json`` (URLs, CA bundle, subscription).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int = 0,
        seed: Path = DEFAULT_SEED,
        kubeconfig: Path | None = None,
        settings: Settings | None = None,
        site_port_base: int = 0,
        ilb_namespace: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.port = port
        self.seed = seed
        self.kubeconfig = kubeconfig
        self.settings = settings or Settings()
        self.site_port_base = site_port_base
        #: Restrict the ILB controller to one namespace (tests sharing an apiserver); None watches all.
        self.ilb_namespace = ilb_namespace
        self.faults = Faults()
        self.requests = RequestLog()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stoppers: list[Callable[[], None]] = []
        self.cloud: Cloud | None = None
        self._server: TLSServer | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority(self.state_dir)
        served = ca.issue_server_certificate(self.state_dir)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(served.cert_file, served.key_file)
        world = self._load_world()
        world.hooks.update(network.hooks)
        world.hooks.update(privatedns.hooks)
        kubeconfig = self.kubeconfig.read_bytes() if self.kubeconfig else None
        self.cloud = Cloud(world, self.settings, self.faults, ca, kubeconfig)
        sandbox = self

        class Handler(JsonHandler):
            def answer(self, req: Request) -> Response:
                return sandbox.handle(req)

        self._server = TLSServer(("127.0.0.1", self.port), Handler, self.context)
        self.port = self._server.server_address[1]
        server = self._server
        self._spawn("sandbox-arm", lambda: server.serve_forever(poll_interval=0.05))
        self._stoppers.append(self._server.shutdown)
        sites = SiteServers(world, self.context, self.site_port_base)
        self._stoppers.extend(sites.start(self._spawn))
        self.cloud.site_urls.update(sites.urls)
        if self.kubeconfig is not None:
            controller = IlbController(world, self.kubeconfig, self.settings.ilb_delay_seconds, self.ilb_namespace)
            controller.start()
            self._stoppers.append(controller.stop)
        self._spawn("sandbox-ticker", self._tick)
        self._write_ready_file()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for stopper in reversed(self._stoppers):
            stopper()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server is not None:
            self._server.server_close()
        if self.cloud is not None:
            with self.cloud.world.lock:
                self.cloud.world.save()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _load_world(self) -> World:
        state_file = self.state_dir / "state.json"
        world = load_seed(self.seed, state_file)
        if state_file.exists():
            world.load(json.loads(state_file.read_text()))
        else:
            world.save()
        return world

    def _tick(self) -> None:
        """Settle due operations even when nobody polls, so state.json and the sites see them finish."""
        while not self._stopping.wait(0.2):
            with self.world.lock:
                if self.world.settle():
                    self.world.save()

    def _write_ready_file(self) -> None:
        ready = {
            "arm": self.arm_url,
            "caBundle": str(self.ca_bundle.resolve()),
            "subscriptionId": self.subscription_id,
            "sites": dict(self.site_urls),
            "pid": os.getpid(),
        }
        tmp = self.state_dir / "sandbox.json.tmp"
        tmp.write_text(json.dumps(ready, indent=2))
        os.replace(tmp, self.state_dir / "sandbox.json")

    # --- what clients need -----------------------------------------------------------------------------

    @property
    def world(self) -> World:
        assert self.cloud is not None, "the sandbox is not started"
        return self.cloud.world

    @property
    def arm_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        return self.state_dir / "ca.pem"

    @property
    def subscription_id(self) -> str:
        return self.world.subscription_id

    @property
    def site_urls(self) -> dict[str, str]:
        assert self.cloud is not None
        return self.cloud.site_urls

    # --- request handling ------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_sandbox/"):
            return self._control(req)
        request_id = str(uuid.uuid4())
        correlation = req.headers.get("x-ms-correlation-request-id") or request_id
        started = time.time()
        fault = False
        try:
            response, fault = self._arm(req)
        except ArmError as exc:
            response = error_response(exc)
        except Exception:
            log.exception("unhandled error for %s %s", req.method, req.path)
            response = error_response(ArmError(500, "InternalServerError", "Encountered internal server error."))
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("Pragma", "no-cache")
        response.headers.setdefault("Expires", "-1")
        response.headers["x-ms-request-id"] = request_id
        response.headers["x-ms-correlation-request-id"] = correlation
        response.headers["x-ms-routing-request-id"] = (
            f"WESTEUROPE:{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}:{request_id}"
        )
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        self.requests.add(
            {
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "status": response.status,
                "apiVersion": req.api_version,
                "requestBody": req.body,
                "requestId": request_id,
                "time": started,
                "durationMs": round((time.time() - started) * 1000, 1),
                "fault": fault,
            }
        )
        return response

    def _arm(self, req: Request) -> tuple[Response, bool]:
        """Answer one ARM request; the flag says whether an injected fault answered it."""
        if req.method == "GET" and req.path.rstrip("/").lower() == "/metadata/endpoints":
            return json_response(200, resources.cloud_metadata(req.base_url)), False  # anonymous, as in Azure
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={
                    "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="The authentication failed because of missing '
                    "'Authorization' header.\""
                },
            )
        injected = self.faults.response_for(req.method, req.path)
        if injected is not None:
            return injected, True
        if not req.api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        parts = req.path.split("/")
        if len(parts) > 2 and parts[1].lower() == "subscriptions" and parts[2].lower() != self.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{parts[2]}' could not be found.")
        handler, params = ARM_ROUTES.match(req.method, req.path)
        req.params = params
        assert self.cloud is not None
        with self.world.lock:
            self.world.settle()
            locks.enforce(self.world, req.method, req.path)
            try:
                return handler(self.cloud, req), False
            finally:
                if req.method != "GET":
                    self.world.save()

    def _control(self, req: Request) -> Response:
        path = req.path.rstrip("/")
        if path == "/_sandbox/requests" and req.method == "GET":
            return json_response(200, self.requests.entries())
        if path == "/_sandbox/requests" and req.method == "DELETE":
            self.requests.clear()
            return Response(204)
        if path == "/_sandbox/faults" and req.method == "GET":
            return json_response(200, self.faults.specs())
        if path == "/_sandbox/faults" and req.method == "POST":
            try:
                self.faults.add(parse_fault(req.body))
            except ValueError as exc:
                return json_response(400, {"error": {"code": "InvalidFault", "message": str(exc)}})
            return json_response(201, req.body)
        if path == "/_sandbox/faults" and req.method == "DELETE":
            self.faults.clear()
            return Response(204)
        if path == "/_sandbox/world" and req.method == "GET":
            with self.world.lock:
                self.world.settle()
                return json_response(200, self.world.snapshot())
        return json_response(404, {"error": {"code": "NotFound", "message": f"No control route {req.method} {path}."}})
