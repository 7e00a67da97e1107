"""App Service's managed-identity endpoint (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``) on loopback, for clients
that log in with ``az login --identity`` before the sandbox issues tokens itself.

Protocol (learn.microsoft.com, "Managed identities for App Service", REST endpoint reference; msal's
``_obtain_token_on_app_service``): ``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R`` with header
``X-IDENTITY-HEADER: {IDENTITY_HEADER}`` → ``{"access_token", "expires_on", "resource", "token_type", "client_id"}``.
The token is an unsigned JWT with the claims the az CLI reads (``tid``, ``oid``, ``appid``); the sandbox accepts
any bearer token, so nothing here is a secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{part({'sig': 'none'})}"


class IdentityEndpoint:
    """``with IdentityEndpoint(tenant) as mi: env = mi.environment()``; ``mi.requests`` counts tokens issued."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.principal_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
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
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant_id,
            "oid": self.principal_id,
            "sub": self.principal_id,
            "appid": self.client_id,
            "idtyp": "app",
        }
        return {
            "access_token": unsigned_jwt(claims),
            "expires_on": str(now + 3600),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.client_id,
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
