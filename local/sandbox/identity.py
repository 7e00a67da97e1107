"""The local token service: seeded principals, App Service's managed-identity endpoint, and signed JWTs that every
ARM request must carry.

Tokens are RS256 JWTs shaped like Entra ID's v1 access tokens for ARM (``aud``, ``iss``
``https://sts.windows.net/{tenant}/``, ``iat``/``nbf``/``exp``, ``oid``, ``tid``, ``sub``, ``appid``, ``idtyp``,
and ``xms_mirid`` for a managed identity), signed with a key kept in the state directory so a restarted sandbox
still accepts what it issued. The 401 codes and messages are ARM's, each from a recorded answer (cited below and in
local/sandbox/README.md).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .arm_errors import ArmError

#: The audiences ARM accepts, in the order its InvalidAuthenticationTokenAudience message lists them
#: (recorded in Azure-Samples/active-directory-dotnetcore-daemon-v2#145).
ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
#: Entra ID gives managed identities tokens valid for about a day; the sandbox keeps them short-lived.
TOKEN_SECONDS = 3600
KEY_FILE = "token-signing-key.pem"
HEADER_FILE = "identity-header"
MSI_PATH = "/msi/token"


@dataclass(frozen=True)
class Principal:
    """A security principal of the seeded tenant (``seed.json`` → ``principals``)."""

    name: str  # the seed's handle: "kubelink", "admin", "nobody"
    object_id: str
    principal_type: str  # "ServicePrincipal" | "User", as roleAssignments' principalType says
    client_id: str | None = None  # a managed identity's (app's) client id
    upn: str | None = None  # a user's sign-in name
    resource_id: str | None = None  # a user-assigned managed identity's ARM id (``xms_mirid``)

    @property
    def client(self) -> str:
        """What ARM's AuthorizationFailed message calls "the client": the app id, or the user's name."""
        return self.client_id or self.upn or self.object_id

    @classmethod
    def from_seed(cls, spec: dict[str, Any]) -> Principal:
        return cls(
            name=spec["name"],
            object_id=spec["objectId"],
            principal_type=spec["principalType"],
            client_id=spec.get("clientId"),
            upn=spec.get("userPrincipalName"),
            resource_id=spec.get("resourceId"),
        )


class TokenService:
    """Issues and checks the tokens of one tenant; serves App Service's identity endpoint for one app."""

    def __init__(self, state_dir: Path, tenant_id: str, principals: list[Principal], app_identity: str) -> None:
        self.tenant_id = tenant_id
        self.principals = {p.name: p for p in principals}
        self._by_object_id = {p.object_id.lower(): p for p in principals}
        #: The principal whose token the identity endpoint hands out (the app's user-assigned identity).
        self.app_identity = self.principals[app_identity]
        self._key = _load_or_create_key(state_dir / KEY_FILE)
        self._public_key = self._key.public_key()
        self._kid = _key_id(self._public_key)
        self.identity_header = _load_or_create_secret(state_dir / HEADER_FILE)
        self.identity_header_file = state_dir / HEADER_FILE

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def issue(self, principal: Principal, resource: str, lifetime: float = TOKEN_SECONDS) -> tuple[str, int]:
        """A signed access token for ``resource`` and its expiry (epoch seconds)."""
        now = int(time.time())
        expires = now + int(lifetime)
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": expires,
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": self.tenant_id,
            "idtyp": "app" if principal.principal_type == "ServicePrincipal" else "user",
            "ver": "1.0",
        }
        if principal.client_id:
            claims["appid"] = principal.client_id
        if principal.upn:
            claims["upn"] = principal.upn
        if principal.resource_id:
            claims["xms_mirid"] = principal.resource_id
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid, "typ": "JWT"})
        return token, expires

    def authenticate(self, authorization: str) -> Principal:
        """The principal behind an ``Authorization`` header, or ARM's 401."""
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            raise _unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                "The authentication failed because of missing 'Authorization' header.",
            )
        token = authorization[7:].strip()
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "require": ["exp", "aud", "tid"]},
                issuer=self.issuer,
            )
        except jwt.InvalidIssuerError:
            raise _unauthorized(
                "InvalidAuthenticationTokenTenant",
                "The access token is from the wrong issuer. It must match the tenant associated with this "
                "subscription. Please use the authority (URL) 'https://login.windows.net/"
                f"{self.tenant_id}' to get the token.",
                "The access token is from the wrong issuer.",
            ) from None
        except jwt.PyJWTError:  # a bad signature, a malformed token (Azure/azure-powershell#27882)
            raise _unauthorized(
                "InvalidAuthenticationToken", "The access token is invalid.", "The access token is invalid."
            ) from None
        now = time.time()
        if float(claims["exp"]) <= now:
            # Format of ARM's message as recorded in microsoft/foundry-dev-tools#461.
            raise _unauthorized(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{_arm_time(claims['exp'])}' is earlier than current UTC time "
                f"'{_arm_time(now)}'.",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
        if claims["aud"] not in ARM_AUDIENCES:
            allowed = ",".join(f"'{a}'" for a in ARM_AUDIENCES)
            raise _unauthorized(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{claims['aud']}'. It should "
                f"exactly match with one of the allowed audiences {allowed}.",
                "The access token has been obtained for wrong audience or resource.",
            )
        principal = self._by_object_id.get(str(claims.get("oid", "")).lower())
        if principal is None:  # message as recorded in Azure/azure-sdk-for-java#1714
            raise _unauthorized(
                "InvalidAuthenticationToken",
                "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' "
                "should be present. If you are accessing as application please make sure service principal is "
                "properly created in the tenant.",
                "The access token is invalid.",
            )
        return principal

    def managed_identity_token(self, query: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """App Service's identity endpoint (``GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…``).

        The request and answer are the ones MSAL's ``_obtain_token_on_app_service`` sends and parses: the
        ``X-IDENTITY-HEADER`` secret, ``resource``, and ``client_id``/``object_id``/``mi_res_id`` to pick a
        user-assigned identity; the answer ``{access_token, expires_on, resource, token_type, client_id}``, or
        ``{statusCode, message}`` on an error.
        """
        if not secrets.compare_digest(headers.get("x-identity-header", ""), self.identity_header):
            return 401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or wrong."}
        resource = query.get("resource", "")
        if not resource:
            return 400, {"statusCode": 400, "message": "The resource parameter is required."}
        identity = self.app_identity
        wanted = {
            "client_id": identity.client_id,
            "object_id": identity.object_id,
            "principal_id": identity.object_id,
            "mi_res_id": identity.resource_id,
        }
        for parameter, value in wanted.items():
            given = query.get(parameter)
            if given is not None and given.lower() != (value or "").lower():
                return 400, {
                    "statusCode": 400,
                    "message": f"No user-assigned identity with {parameter} '{given}' is assigned to this app.",
                }
        if not any(query.get(parameter) for parameter in wanted):
            return 400, {"statusCode": 400, "message": "This app has no system-assigned identity."}
        token, expires = self.issue(identity, resource)
        return 200, {
            "access_token": token,
            "expires_on": str(expires),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity.client_id,
        }


def _unauthorized(code: str, message: str, description: str) -> ArmError:
    return ArmError(
        401,
        code,
        message,
        headers={
            "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            f'error="invalid_token", error_description="{description}"'
        },
    )


def _arm_time(epoch: float) -> str:
    """``6/15/2026 8:22:51 AM``: how ARM writes UTC times in its token messages."""
    moment = datetime.datetime.fromtimestamp(float(epoch), datetime.UTC)
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return key


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


def _key_id(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:15]).decode().rstrip("=")
