"""The HTTPS plumbing shared by the ARM front door and the web apps."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .arm_errors import ArmError
from .routing import Request, Response, json_response

log = logging.getLogger("local.sandbox")


class TLSServer(ThreadingHTTPServer):
    """A threading HTTPS server that does the TLS handshake in the request thread, not the accept loop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext
    ) -> None:
        self.context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed:\n%s", client_address, traceback.format_exc())


class JsonHandler(BaseHTTPRequestHandler):
    """Reads a request into a ``Request`` and writes a ``Response``; subclasses choose what answers."""

    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def answer(self, req: Request) -> Response:
        raise NotImplementedError

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        req = Request(self.command, unquote(url.path), query, headers, None, f"https://{headers.get('host', '')}")
        try:
            req.body = json.loads(raw) if raw.strip() else None
            response = self.answer(req)
        except json.JSONDecodeError:
            response = error_response(
                ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
            )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.content)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def error_response(error: ArmError) -> Response:
    """The JSON answer for an ARM error."""
    return json_response(error.status, error.body(), error.headers)
