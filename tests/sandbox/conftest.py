"""Fixtures: a fresh sandbox per test (in-process, real HTTPS), SDK clients that trust its CA and act as the
sandbox's ``admin`` (Owner of the subscription) with tokens from its token service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.web import WebSiteManagementClient

from local.sandbox import SandboxServer, Settings
from local.world_client import SandboxCredential

SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SCOPES = ["https://management.azure.com/.default"]
#: Tests keep the SDK's polling fast; the sandbox's own durations are set per test through Settings.
POLL = 0.05


def credential(sandbox: SandboxServer, principal: str = "admin") -> SandboxCredential:
    """A TokenCredential for a seeded principal of this sandbox (``admin``, ``nobody``, ``kubelink``)."""
    return SandboxCredential(sandbox.arm_url, str(sandbox.ca_bundle), principal)


def token(sandbox: SandboxServer, principal: str = "admin") -> str:
    return credential(sandbox, principal).token()


def client_kwargs(sandbox: SandboxServer, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": sandbox.arm_url,
        "credential_scopes": SCOPES,
        "connection_verify": str(sandbox.ca_bundle),
        "polling_interval": POLL,
        **extra,
    }


@pytest.fixture
def settings() -> Settings:
    return Settings(lro_seconds=0.2, gateway_seconds=1.0, ilb_delay_seconds=0.2)


@pytest.fixture
def sandbox(tmp_path: Path, settings: Settings) -> Iterator[SandboxServer]:
    with SandboxServer(tmp_path / "sandbox", settings=settings) as running:
        yield running


@pytest.fixture
def net(sandbox: SandboxServer) -> NetworkManagementClient:
    return NetworkManagementClient(credential(sandbox), SUB, **client_kwargs(sandbox))


@pytest.fixture
def web(sandbox: SandboxServer) -> WebSiteManagementClient:
    return WebSiteManagementClient(credential(sandbox), SUB, **client_kwargs(sandbox))


@pytest.fixture
def dns(sandbox: SandboxServer) -> PrivateDnsManagementClient:
    return PrivateDnsManagementClient(credential(sandbox), SUB, **client_kwargs(sandbox))


@pytest.fixture
def aks(sandbox: SandboxServer) -> ContainerServiceClient:
    return ContainerServiceClient(credential(sandbox), SUB, **client_kwargs(sandbox))


class Control:
    """The control API over HTTPS, for arranging faults and reading the request log."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.base = sandbox.arm_url
        self.http = requests.Session()
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides ``verify``
        self.http.verify = str(sandbox.ca_bundle)

    def requests(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base}/_sandbox/requests")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def clear_requests(self) -> None:
        self.http.delete(f"{self.base}/_sandbox/requests").raise_for_status()

    def fault(self, **spec: Any) -> None:
        self.http.post(f"{self.base}/_sandbox/faults", json=spec).raise_for_status()

    def world(self) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/_sandbox/world")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def control(sandbox: SandboxServer) -> Control:
    return Control(sandbox)


def arm(
    sandbox: SandboxServer,
    method: str,
    path: str,
    *,
    token: str | None = "admin",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """A raw ARM call (for what the SDKs hide: headers, status codes, bodies) as a seeded principal (``token``
    names it; None sends no ``Authorization`` header)."""
    sent = {"Authorization": f"Bearer {credential(sandbox, token).token()}"} if token else {}
    sent.update(headers or {})
    return requests.request(method, sandbox.arm_url + path, headers=sent, verify=str(sandbox.ca_bundle), **kwargs)


def rid(rg: str, provider: str, *type_name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{provider}/" + "/".join(type_name)


def code_of(caught: pytest.ExceptionInfo[Any] | HttpResponseError) -> str:
    """ARM's error code from an SDK exception (``e.error.code``), failing clearly when it has none."""
    error = caught.value if isinstance(caught, pytest.ExceptionInfo) else caught
    assert isinstance(error, HttpResponseError) and error.error is not None, f"no ARM error in {error!r}"
    return str(error.error.code)
