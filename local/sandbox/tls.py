"""The sandbox's own certificate authority, its serving certificate, and App Service's per-VNet certificates.

Clients trust the CA the standard way (``REQUESTS_CA_BUNDLE`` / ``connection_verify``); nothing turns
verification off. The CA is kept in the state directory so a restarted sandbox stays trusted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PEM = serialization.Encoding.PEM


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


@dataclass(frozen=True)
class ServerCertificate:
    cert_file: Path
    key_file: Path


class CertificateAuthority:
    """A private CA, loaded from ``directory`` when present, else created there."""

    def __init__(self, directory: Path) -> None:
        self.cert_file = directory / "ca.pem"
        key_file = directory / "ca-key.pem"
        if self.cert_file.exists() and key_file.exists():
            self._cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            self._key = key
            return
        self._key = ec.generate_private_key(ec.SECP256R1())
        # A name of its own: OpenSSL picks issuers by name, so two CAs called alike in one bundle break verification.
        subject = _name(f"kubelink sandbox CA {os.urandom(4).hex()}")
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        _write_private(
            key_file, self._key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        self.cert_file.write_bytes(self._cert.public_bytes(_PEM))

    def issue_server_certificate(self, directory: Path) -> ServerCertificate:
        """A loopback serving certificate (SAN IP:127.0.0.1, DNS:localhost), fresh on every start."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("localhost"))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        served = ServerCertificate(directory / "server.pem", directory / "server-key.pem")
        served.cert_file.write_bytes(cert.public_bytes(_PEM) + self._cert.public_bytes(_PEM))
        _write_private(
            served.key_file, key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        return served


@dataclass(frozen=True)
class AppCertificate:
    """What App Service returns for a gateway-required VNet connection: the public half only."""

    blob: str  # base64 DER, as ``certBlob`` and as a gateway root certificate's ``publicCertData``
    thumbprint: str  # SHA-1 of the DER, upper-case hex, as ``certThumbprint``


def app_certificate(app: str, vnet: str) -> AppCertificate:
    """A new self-signed RSA certificate for one app's connection to one VNet (private key discarded)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(f"{app}-{vnet}.appservice.sandbox")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=8 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return AppCertificate(base64.b64encode(der).decode(), hashlib.sha1(der).hexdigest().upper())


def is_certificate_data(public_cert_data: str) -> bool:
    """True when ``publicCertData`` is base64 of a DER X.509 certificate (what the gateway accepts)."""
    try:
        x509.load_der_x509_certificate(base64.b64decode("".join(public_cert_data.split()), validate=True))
    except ValueError:
        return False
    return True
