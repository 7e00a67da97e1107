"""A world of its own for the drift tests: they break the seeded app's private path on purpose, so they never
share a sandbox with other tests. The drift timer is set to a date far away, so only the tests verify."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.supervisor import World
from local.world_client import WorldClient
from tests.conftest import record_authorizations, require_apiserver, require_component

#: never during a test run: the drift tests start every verification themselves
NO_SCHEDULED_SWEEP = "0 0 0 1 1 *"


class Kubelink(WorldClient):
    """The drift world through kubelink's HTTP API, the sandbox's control API, and SDK clients acting as people."""

    def __init__(self, world: World) -> None:
        super().__init__(world.describe())
        self.world = world

    def provision(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.completed("/api/links", body)

    def verify(self, name: str) -> dict[str, Any]:
        return self.completed(f"/api/links/{name}/verify")

    def wait_provisioned(self, name: str) -> dict[str, Any]:
        """Follow the link's provisioning run (``link-{name}``), e.g. one a remediation started."""
        return self.follow(self.instance_status_uri(f"link-{name}")).status

    def web(self) -> Any:
        from azure.mgmt.web import WebSiteManagementClient

        return self.sdk(WebSiteManagementClient)

    def network(self) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return self.sdk(NetworkManagementClient)

    def kube(self) -> Any:
        from kubernetes import client, config

        return client.CoreV1Api(config.new_client_from_config(str(self.world.kubeconfig)))


@pytest.fixture(scope="package")
def drift_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_apiserver()
    require_component("sandbox")
    require_component("host")
    settings = {"KUBELINK_VERIFY_SCHEDULE": NO_SCHEDULED_SWEEP, "KUBELINK_EVENT_SETTLE_SECONDS": "1"}
    # ARM's events reach the host only in the tests that study them (test_events.py subscribes it)
    world = World(tmp_path_factory.mktemp("drift-world"), host_port=None, settings=settings, events=False)
    try:
        world.ensure("host")
        yield world
        record_authorizations(world)
    finally:
        world.stop()


@pytest.fixture(scope="package")
def kubelink(drift_world: World) -> Kubelink:
    return Kubelink(drift_world)


@pytest.fixture
def world_env(drift_world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The host's app settings and managed identity in this process, to call product code (``activities.planning``)
    in-process as kubelink's identity."""
    from adapters import clients

    settings = drift_world.app_environment()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    clients.arm_credential.cache_clear()
    return settings
