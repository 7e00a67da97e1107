"""A running local world as a script or a test drives it: kubelink's HTTP API (``kubelink_cli.client``, the
client the ``kubelink`` command uses), the sandbox's control API (request log, faults) and real SDK clients
acting as people.

The demo, the benchmarks and the end-to-end suites all use it, so they follow runs and count writes one way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests

from kubelink_cli.client import KubelinkClient

#: ARM POST actions that only read: every other non-GET request changes Azure
READ_ACTIONS = ("/list", "/listclusterusercredential", "/getvpnclientconnectionhealth")
ARM_SCOPE = "https://management.azure.com/.default"

Client = TypeVar("Client")


class WorldClient(KubelinkClient):
    """The world described by ``world.json`` (``World.describe()``): kubelink's API through the ``kubelink``
    command's own client, and the sandbox, trusting the sandbox's CA explicitly."""

    def __init__(self, world: Mapping[str, Any]) -> None:
        http = requests.Session()
        http.trust_env = False  # a machine-wide REQUESTS_CA_BUNDLE would override ``verify``
        http.verify = world["caBundle"]
        super().__init__(world.get("host") or "", session=http)  # no host for a sandbox without a Functions host
        self.arm: str = world["arm"]
        self.ca_bundle: str = world["caBundle"]
        self.subscription_id: str = world["subscriptionId"]
        self.sites: dict[str, str] = dict(world.get("sites") or {})

    # --- the sandbox ----------------------------------------------------------------------------

    def arm_requests(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.http.get(f"{self.arm}/_sandbox/requests", timeout=60).json()
        return log

    def arm_writes(self) -> list[dict[str, Any]]:
        """The logged ARM requests that change something: every one but GETs and read-only POST actions."""
        return [r for r in self.arm_requests() if r["method"] != "GET" and not r["path"].lower().endswith(READ_ACTIONS)]

    def reset_requests(self) -> None:
        """Forget the request log, so the next assertions see only what follows."""
        self.http.delete(f"{self.arm}/_sandbox/requests", timeout=30).raise_for_status()

    def inject(self, **fault: Any) -> None:
        """One sandbox fault (``method``, ``pathPattern``, ``status``, ``times``…): local/sandbox/README.md."""
        self.http.post(f"{self.arm}/_sandbox/faults", json=fault, timeout=30).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.arm}/_sandbox/faults", timeout=30).raise_for_status()

    def sandbox_state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.http.get(f"{self.arm}/_sandbox/world", timeout=60).json()
        return state

    def probe(self, app: str, path: str) -> requests.Response:
        """GET the app's own endpoint, as its users would."""
        return self.http.get(f"{self.sites[app]}{path}", timeout=30)

    # --- people, with the SDKs ------------------------------------------------------------------

    def sdk(self, client: Callable[..., Client]) -> Client:
        """A real ARM SDK client (``WebSiteManagementClient``…) on the sandbox, as a person would use it."""
        from adapters.clients import StaticTokenCredential

        return client(
            StaticTokenCredential(),
            self.subscription_id,
            base_url=self.arm,
            credential_scopes=[ARM_SCOPE],
            connection_verify=self.ca_bundle,
        )
