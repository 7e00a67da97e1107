"""A world of its own for the drift tests: they break the seeded app's private path on purpose, so they never
share a sandbox with other tests. The drift timer is set to a date far away, so only the tests verify."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.supervisor import World
from tests.activities.helpers import READ_ACTIONS
from tests.conftest import require_apiserver, require_component

#: never during a test run: the drift tests start every verification themselves
NO_SCHEDULED_SWEEP = "0 0 0 1 1 *"
TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")


class Kubelink:
    """The world through kubelink's HTTP API, the sandbox's control API, and SDK clients acting as people."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.host = str(world.host_url)
        self.arm = str(world.arm_url)
        self.http = requests.Session()
        self.http.trust_env = False  # a machine-wide REQUESTS_CA_BUNDLE would override verify
        self.http.verify = str(world.ca_bundle)

    # --- kubelink ------------------------------------------------------------------------------

    def start(self, path: str, body: Any = None) -> str:
        response = self.http.post(f"{self.host}{path}", json=body, timeout=30)
        assert response.status_code == 202, response.text
        uri: str = response.json()["statusQueryGetUri"]
        return uri

    def follow(self, uri: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status: dict[str, Any] = self.http.get(uri, timeout=30).json()
            if status["runtimeStatus"] in TERMINAL:
                return status
            assert time.monotonic() < deadline, status
            time.sleep(0.2)

    def provision(self, body: dict[str, Any]) -> dict[str, Any]:
        status = self.follow(self.start("/api/links", body))
        assert status["runtimeStatus"] == "Completed", status.get("output")
        output: dict[str, Any] = status["output"]
        return output

    def verify(self, name: str) -> dict[str, Any]:
        status = self.follow(self.start(f"/api/links/{name}/verify"))
        assert status["runtimeStatus"] == "Completed", status.get("output")
        output: dict[str, Any] = status["output"]
        return output

    def get(self, path: str) -> Any:
        response = self.http.get(f"{self.host}{path}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_provisioned(self, name: str) -> dict[str, Any]:
        """Follow the link's provisioning run (``link-{name}``), e.g. one a remediation started."""
        return self.follow(f"{self.host}/runtime/webhooks/durabletask/instances/link-{name}")

    def probe(self, app: str, path: str) -> int:
        return self.http.get(f"{self.world.sites[app]}{path}", timeout=30).status_code

    # --- the sandbox -----------------------------------------------------------------------------

    def forget_requests(self) -> None:
        self.http.delete(f"{self.arm}/_sandbox/requests", timeout=10).raise_for_status()

    def arm_writes(self) -> list[dict[str, Any]]:
        """Logged ARM requests that change something (POSTs other than ARM's list actions count as writes)."""
        log = self.http.get(f"{self.arm}/_sandbox/requests", timeout=10).json()
        return [
            e
            for e in log
            if e["method"] in ("PUT", "PATCH", "DELETE")
            or (e["method"] == "POST" and not e["path"].lower().split("?")[0].endswith(READ_ACTIONS))
        ]

    # --- people, with the SDKs -----------------------------------------------------------------------

    def _arm_options(self) -> dict[str, Any]:
        from kubelink.clients import StaticTokenCredential

        return {
            "credential": StaticTokenCredential(),
            "subscription_id": str(self.world.subscription_id),
            "base_url": self.arm,
            "credential_scopes": ["https://management.azure.com/.default"],
            "connection_verify": str(self.world.ca_bundle),
        }

    def web(self) -> Any:
        from azure.mgmt.web import WebSiteManagementClient

        return WebSiteManagementClient(**self._arm_options())

    def network(self) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return NetworkManagementClient(**self._arm_options())

    def kube(self) -> Any:
        from kubernetes import client, config

        return client.CoreV1Api(config.new_client_from_config(str(self.world.kubeconfig)))


@pytest.fixture(scope="package")
def drift_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_apiserver()
    require_component("sandbox")
    require_component("host")
    settings = {"KUBELINK_VERIFY_SCHEDULE": NO_SCHEDULED_SWEEP}
    world = World(tmp_path_factory.mktemp("drift-world"), host_port=None, settings=settings)
    try:
        world.ensure("host")
        yield world
    finally:
        world.stop()


@pytest.fixture(scope="package")
def kubelink(drift_world: World) -> Kubelink:
    return Kubelink(drift_world)


@pytest.fixture
def world_env(drift_world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The host's app settings in this process, to call product code (``kubelink.planning``) in-process."""
    settings = drift_world.host_settings()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings
