"""End to end over HTTP: a fresh world per module (Azurite, etcd + kube-apiserver, the ARM sandbox and the local
Functions host running function_app.py), driven as a user would: POST a link, follow its status URL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from azure.mgmt.web import WebSiteManagementClient

from kubelink_cli.client import Run
from local.supervisor import World
from local.world_client import WorldClient
from tests.conftest import record_authorizations, require_apiserver, require_component
from tests.example import example_link

EXAMPLE = example_link()
example = example_link


class Kubelink(WorldClient):
    """A user's view of a fresh world: kubelink's HTTP API, the sandbox's control API, the cluster's counters."""

    def __init__(self, world: World) -> None:
        super().__init__(world.describe())
        self.world = world

    def post_link(self, body: Any) -> requests.Response:
        return self.post("/api/links", body)

    def provision(self, body: dict[str, Any]) -> Run:
        return self.follow(self.start("/api/links", body))

    def link(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get(f"/api/links/{name}")
        return body

    def plan(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.post("/api/plan", body)
        assert response.status_code == 200, response.text
        changes: list[dict[str, Any]] = response.json()["changes"]
        return changes

    def verify(self, name: str) -> dict[str, Any]:
        """POST /api/links/{name}/verify and follow it; the verification's output."""
        return self.completed(f"/api/links/{name}/verify")

    def instances(self) -> list[dict[str, Any]]:
        instances: list[dict[str, Any]] = self.get("/runtime/webhooks/durabletask/instances")
        return instances

    def web(self) -> WebSiteManagementClient:
        return self.sdk(WebSiteManagementClient)

    # the cluster
    def kube_writes(self) -> int:
        """Create/update/patch/delete requests the apiserver has served for Services (its own metrics)."""
        config = yaml.safe_load(Path(self.world.kubeconfig).read_text())
        cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
        ca = Path(self.world.state_dir) / "kube-ca.pem"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        metrics = requests.get(  # the apiserver's own CA, not the sandbox's: a plain request
            f"{cluster['server']}/metrics",
            headers={"Authorization": f"Bearer {user['token']}"},
            verify=str(ca),
            timeout=30,
        ).text
        total = 0
        for line in metrics.splitlines():
            # subresource="" leaves out the cloud controller's writes to services/status
            if (
                line.startswith("apiserver_request_total{")
                and 'resource="services"' in line
                and 'subresource=""' in line
            ) and any(f'verb="{verb}"' in line for verb in ("POST", "PUT", "PATCH", "DELETE")):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total


@pytest.fixture(scope="module")
def kubelink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubelink]:
    require_apiserver()
    require_component("sandbox")
    require_component("host")
    # no ARM events: an event-started verification would race the suites' explicit verify requests
    world = World.start(tmp_path_factory.mktemp("e2e"), host_port=None, events=False)
    try:
        yield Kubelink(world)
        record_authorizations(world)
    finally:
        world.stop()
