"""The sandbox's HTTPS front door: auth, api-version, faults, routing, ARM headers, and the control API."""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from . import authorization, containerservice, locks, network, privatedns, privatelink, resources, web
from .arm_errors import ArmError
from .cloud import Cloud, Settings
from .control import Faults, RequestLog, parse_fault
from .events import EventGrid, InvalidSubscription
from .httpd import JsonHandler, TLSServer, error_response
from .identity import MSI_PATH, TOKEN_SECONDS, TokenService
from .ilb import IlbController
from .rbac import Authorizer
from .routing import Request, Response, Router, json_response
from .seed import DEFAULT_SEED, load_seed, principals
from .sites import SiteServers
from .state import SandboxState
from .throttling import Throttling
from .tls import CertificateAuthority

log = logging.getLogger("local.sandbox")

#: POST actions that only read: nothing to persist (state.json is rewritten after every other non-GET)
READ_ONLY_ACTIONS = ("/config/appsettings/list", "/listclusterusercredential")

ARM_ROUTES = Router()
for _module in (locks, resources, network, privatelink, privatedns, web, containerservice, authorization):
    ARM_ROUTES.routes.extend(_module.router.routes)


class SandboxServer:
    """The Azure sandbox: ARM over HTTPS on loopback, with the cloud's behaviour around it.

    ``SandboxServer(state_dir).start()`` serves until ``stop()``; ``state_dir`` receives ``ca.pem``,
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
        self.throttling = Throttling(self.settings.throttle_scale)
        self.events = EventGrid(retry_scale=self.settings.event_retry_scale)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._stoppers: list[Callable[[], None]] = []
        self.cloud: Cloud | None = None
        self.tokens: TokenService | None = None
        self._server: TLSServer | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority(self.state_dir)
        served = ca.issue_server_certificate(self.state_dir)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(served.cert_file, served.key_file)
        world = self._load_world()
        world.hooks.update(network.hooks)
        world.hooks.update(privatedns.hooks)
        kubeconfig = self.kubeconfig.read_bytes() if self.kubeconfig else None
        self.cloud = Cloud(world, self.settings, self.faults, ca, kubeconfig, Authorizer(world))
        tenant, seeded, app_identity = principals(self.seed)
        self.tokens = TokenService(self.state_dir, tenant, seeded, app_identity)
        self.events.subscription_id = world.subscription_id
        self._stoppers.append(self.events.stop)
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

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _load_world(self) -> SandboxState:
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
            "tenantId": self.token_service.tenant_id,
            "identityEndpoint": self.identity_endpoint,
            "identityHeaderFile": str(self.token_service.identity_header_file.resolve()),
            "appClientId": self.app_client_id,
            "sites": dict(self.site_urls),
            "pid": os.getpid(),
        }
        tmp = self.state_dir / "sandbox.json.tmp"
        tmp.write_text(json.dumps(ready, indent=2))
        os.replace(tmp, self.state_dir / "sandbox.json")

    # --- what clients need -----------------------------------------------------------------------------

    @property
    def world(self) -> SandboxState:
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

    @property
    def token_service(self) -> TokenService:
        assert self.tokens is not None, "the sandbox is not started"
        return self.tokens

    @property
    def identity_endpoint(self) -> str:
        """App Service's ``IDENTITY_ENDPOINT`` for the app whose identity the seed names (``appIdentity``)."""
        return f"{self.arm_url}{MSI_PATH}"

    @property
    def identity_header(self) -> str:
        """App Service's ``IDENTITY_HEADER``: the secret the identity endpoint requires."""
        return self.token_service.identity_header

    @property
    def app_client_id(self) -> str:
        """The client id of the app's user-assigned identity (``AZURE_CLIENT_ID`` in Azure)."""
        return self.token_service.app_identity.client_id or ""

    def app_identity_environment(self) -> dict[str, str]:
        """What App Service puts in an app's environment for its managed identity, plus the client id the
        deployment sets (infra/ sets ``AZURE_CLIENT_ID`` to the user-assigned identity's)."""
        return {
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header,
            "AZURE_CLIENT_ID": self.app_client_id,
        }

    # --- request handling ------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_sandbox/"):
            return self._control(req)
        if req.path.rstrip("/") == MSI_PATH and req.method == "GET":
            status, body = self.token_service.managed_identity_token(req.query, req.headers)
            return json_response(status, body)  # never logged: the answer is a token
        request_id = str(uuid.uuid4())
        correlation = req.headers.get("x-ms-correlation-request-id") or request_id
        started = time.time()
        response, fault = self.throttling.guard(req, self.subscription_id, lambda: self._answer(req))
        self.events.publish(req, response, correlation, injected=fault)
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
                "principal": req.principal.name if req.principal else None,
            }
        )
        return response

    def _answer(self, req: Request) -> tuple[Response, bool]:
        try:
            return self._arm(req)
        except ArmError as exc:
            return error_response(exc), False
        except Exception:
            log.exception("unhandled error for %s %s", req.method, req.path)
            return error_response(ArmError(500, "InternalServerError", "Encountered internal server error.")), False

    def _arm(self, req: Request) -> tuple[Response, bool]:
        """Answer one ARM request; the flag says whether an injected fault answered it.

        As ARM does: authenticate (401), then authorise the action over its scope (403), and only then let the
        resource provider (or an injected fault) answer. The cloud's metadata endpoint is anonymous, as in Azure."""
        if req.method == "GET" and req.path.rstrip("/").lower() == "/metadata/endpoints":
            return json_response(200, resources.cloud_metadata(req.base_url)), False
        req.principal = self.token_service.authenticate(req.headers.get("authorization", ""))
        parts = req.path.split("/")
        if len(parts) > 2 and parts[1].lower() == "subscriptions" and parts[2].lower() != self.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{parts[2]}' could not be found.")
        assert self.cloud is not None
        with self.world.lock:
            self.cloud.authorizer.check(req.principal, req.method, req.path)
        injected = self.faults.response_for(req.method, req.path)
        if injected is not None:
            return injected, True
        if not req.api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        handler, params = ARM_ROUTES.match(req.method, req.path)
        req.params = params
        with self.world.lock:
            self.world.settle()
            locks.enforce(self.world, req.method, req.path)
            try:
                return handler(self.cloud, req), False
            finally:
                if req.method != "GET" and not req.path.lower().endswith(READ_ONLY_ACTIONS):
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
        if path == "/_sandbox/token" and req.method == "GET":
            return self._test_token(req)
        if path == "/_sandbox/authorizations" and req.method == "GET":
            assert self.cloud is not None
            return json_response(200, self.cloud.authorizer.record())
        if path == "/_sandbox/authorizations" and req.method == "DELETE":
            assert self.cloud is not None
            self.cloud.authorizer.clear()
            return Response(204)
        if path.startswith(("/_sandbox/eventSubscriptions", "/_sandbox/throttling", "/_sandbox/sites/")):
            return self._control_fleet(req, path)
        if path == "/_sandbox/world" and req.method == "GET":
            with self.world.lock:
                self.world.settle()
                return json_response(200, self.world.snapshot())
        return json_response(404, {"error": {"code": "NotFound", "message": f"No control route {req.method} {path}."}})

    def _control_fleet(self, req: Request, path: str) -> Response:
        """Event Grid subscriptions of the system topic, the throttling scale, copies of a site for
        benchmarks (README "Control API")."""
        copies = re.fullmatch(r"/_sandbox/sites/([^/]+)/([^/]+)/copies", path)
        if copies and req.method == "POST":
            count = req.body.get("count") if isinstance(req.body, dict) else None
            if not isinstance(count, int) or not 1 <= count <= 10000:
                return json_response(400, {"error": {"code": "InvalidCount", "message": "'count' is 1 to 10000"}})
            with self.world.lock:
                try:
                    names = web.copy_site(self.world, copies[1], copies[2], count)
                except ArmError as exc:
                    return error_response(exc)
                self.world.save()
            return json_response(201, {"names": names})
        if path == "/_sandbox/throttling" and req.method == "GET":
            return json_response(200, self.throttling.state())
        if path == "/_sandbox/throttling" and req.method == "PUT":
            scale = req.body.get("scale") if isinstance(req.body, dict) else None
            if not isinstance(scale, int | float) or isinstance(scale, bool) or scale < 0:
                return json_response(400, {"error": {"code": "InvalidScale", "message": "'scale' is a number >= 0"}})
            self.throttling.configure(float(scale))
            return json_response(200, self.throttling.state())
        if path == "/_sandbox/eventSubscriptions" and req.method == "GET":
            return json_response(200, {"value": self.events.subscriptions()})
        if path == "/_sandbox/eventSubscriptions" and req.method == "POST":
            try:
                return json_response(201, self.events.subscribe(req.body).to_json())
            except InvalidSubscription as exc:
                return json_response(400, {"error": {"code": "InvalidSubscription", "message": str(exc)}})
        name = path.removeprefix("/_sandbox/eventSubscriptions/")
        if name != path and "/" not in name and req.method == "DELETE":
            return Response(204 if self.events.unsubscribe(name) else 404)
        return json_response(404, {"error": {"code": "NotFound", "message": f"No control route {req.method} {path}."}})

    def _test_token(self, req: Request) -> Response:
        """Test-only: a token for a seeded principal (``principal``), for ``resource`` (default ARM's), valid
        for ``expiresIn`` seconds (negative: already expired)."""
        principal = self.token_service.principals.get(req.query.get("principal", ""))
        if principal is None:
            known = ", ".join(sorted(self.token_service.principals))
            return json_response(
                404, {"error": {"code": "PrincipalNotFound", "message": f"Seeded principals: {known}."}}
            )
        try:
            lifetime = float(req.query.get("expiresIn", TOKEN_SECONDS))
        except ValueError:
            return json_response(400, {"error": {"code": "InvalidExpiresIn", "message": "expiresIn: seconds"}})
        token, expires = self.token_service.issue(
            principal, req.query.get("resource", "https://management.azure.com/"), lifetime
        )
        return json_response(200, {"access_token": token, "expires_on": expires, "token_type": "Bearer"})
