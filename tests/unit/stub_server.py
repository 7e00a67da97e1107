"""A loopback HTTP(S) server answering canned responses and recording requests, so SDK clients and their
errors are exercised over real HTTP (not mocks) without Azure."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from azure.core import PipelineClient
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: forever


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StubServer:
    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Answer]] = []
        self.requests: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append(Seen(self.command, self.path, dict(self.headers), body))
                answer = stub.answer(self.command, self.path.split("?")[0])
                payload = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def on(self, method: str, path: str, answer: Answer) -> None:
        """Answer requests whose path fully matches the regex ``path``; later rules win."""
        self.routes.insert(0, (method, re.compile(path), answer))

    def answer(self, method: str, path: str) -> Answer:
        for i, (want, pattern, answer) in enumerate(self.routes):
            if want == method and pattern.fullmatch(path):
                if answer.times is not None:
                    answer.times -= 1
                    if answer.times <= 0:
                        del self.routes[i]
                return answer
        return Answer(404, {"error": {"code": "NoStub", "message": f"{method} {path}"}})

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a 127.0.0.1 server certificate it signed: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelink test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_pem, cert_pem, key_pem


def paths(server: StubServer) -> Iterator[str]:
    return (f"{r.method} {r.path.split('?')[0]}" for r in server.requests)


ARM_ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}


def arm_failure(server: StubServer, status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponseError:
    """What a generated azure-mgmt operation raises for this answer (its error_map, then ARMErrorFormat)."""
    server.on("PUT", "/thing", Answer(status, body, headers or {}))
    client: PipelineClient[Any, Any] = PipelineClient(server.url, policies=[])
    response = client.send_request(HttpRequest("PUT", f"{server.url}/thing"))
    try:
        map_error(status_code=response.status_code, response=response, error_map=ARM_ERROR_MAP)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    except HttpResponseError as exc:
        return exc
