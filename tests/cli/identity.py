"""App Service's managed-identity endpoint (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``) on loopback for a person's
machine: ``az login --identity`` logs in through it as the sandbox's ``admin`` (Owner of the subscription).

Protocol (learn.microsoft.com, "Managed identities for App Service", REST endpoint reference; msal's
``_obtain_token_on_app_service``): ``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R`` with header
``X-IDENTITY-HEADER: {IDENTITY_HEADER}`` → ``{"access_token", "expires_on", "resource", "token_type", "client_id"}``.
The tokens are the sandbox's own, from its test-only ``GET /_sandbox/token?principal=admin&resource=R`` (the
sandbox's identity endpoint speaks for kubelink's identity only).
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.world_client import WorldClient

PRINCIPAL = "admin"


class IdentityEndpoint:
    """``with IdentityEndpoint(client) as mi: env = mi.environment()``; ``mi.requests`` counts tokens issued."""

    def __init__(self, client: WorldClient) -> None:
        self.client = client
        self.header = secrets.token_hex(16)
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if self.headers.get("X-IDENTITY-HEADER") != endpoint.header:
                    self._answer(400, {"statusCode": 400, "message": "The X-IDENTITY-HEADER header is wrong."})
                    return
                resource = (query.get("resource") or [""])[0]
                endpoint.requests += 1
                self._answer(200, endpoint.token(resource))

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="identity-endpoint", daemon=True)

    def token(self, resource: str) -> dict[str, Any]:
        answer = self.client.http.get(
            f"{self.client.arm}/_sandbox/token", params={"principal": PRINCIPAL, "resource": resource}, timeout=30
        )
        answer.raise_for_status()
        issued: dict[str, Any] = answer.json()
        return {
            "access_token": issued["access_token"],
            "expires_on": str(issued["expires_on"]),
            "resource": resource,
            "token_type": "Bearer",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/msi/token"

    def environment(self) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.header}

    def __enter__(self) -> IdentityEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
