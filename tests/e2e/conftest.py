"""End to end over HTTP: a fresh world per module (Azurite, etcd + kube-apiserver, the ARM sandbox and the local
Functions host running function_app.py), driven as a user would: POST a link, follow its status URL."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml
from azure.mgmt.web import WebSiteManagementClient

from local.supervisor import World
from tests.conftest import require_apiserver, require_component
from tests.sandbox.conftest import FakeCredential

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "link.json").read_text())
TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}
Client = TypeVar("Client")
#: writes are what change Azure; list/credential POSTs only read
READ_ACTIONS = ("/list", "/listclusterusercredential", "/getvpnclientconnectionhealth")


def example(**changes: Any) -> dict[str, Any]:
    """examples/link.json with top-level fields replaced."""
    return {**json.loads(json.dumps(EXAMPLE)), **changes}


class Kubelink:
    """A user's view of the running world: kubelink's HTTP API, the sandbox's control API, the cluster's counters."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.host = str(world.host_url)
        self.arm = str(world.arm_url)
        self.ca = str(world.ca_bundle)

    # kubelink's API
    def post_link(self, body: Any) -> requests.Response:
        return requests.post(f"{self.host}/api/links", json=body, timeout=30)

    def follow(self, status_url: str, timeout: float = 180) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Poll the status URL like a client until the run ends; return the final status and every distinct
        customStatus seen on the way."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = requests.get(status_url, timeout=30)
            status = response.json()
            custom = status.get("customStatus")
            if custom and (not seen or seen[-1] != custom):
                seen.append(custom)
            if status["runtimeStatus"] in TERMINAL:
                assert response.status_code == 200
                return status, seen
            assert response.status_code == 202 and response.headers.get("Location")
            time.sleep(0.25)
        raise AssertionError(f"run did not end within {timeout} s; last status {status}")

    def provision(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        started = self.post_link(body)
        assert started.status_code == 202, started.text
        return self.follow(started.json()["statusQueryGetUri"])

    def link(self, name: str) -> dict[str, Any]:
        response = requests.get(f"{self.host}/api/links/{name}", timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def plan(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = requests.post(f"{self.host}/api/plan", json=body, timeout=60)
        assert response.status_code == 200, response.text
        changes: list[dict[str, Any]] = response.json()["changes"]
        return changes

    def verify(self, name: str) -> dict[str, Any]:
        """POST /api/links/{name}/verify and follow it; the verification's output."""
        started = requests.post(f"{self.host}/api/links/{name}/verify", timeout=30)
        assert started.status_code == 202, started.text
        status, _ = self.follow(started.json()["statusQueryGetUri"])
        assert status["runtimeStatus"] == "Completed", status
        output: dict[str, Any] = status["output"]
        return output

    def instances(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.host}/runtime/webhooks/durabletask/instances", timeout=30).json()

    # the sandbox
    def web(self) -> WebSiteManagementClient:
        return self.client(WebSiteManagementClient)

    def client(self, sdk: Callable[..., Client]) -> Client:
        """A real SDK client a person would use (``WebSiteManagementClient``…), trusting the sandbox's CA."""
        return sdk(
            FakeCredential(),
            str(self.world.subscription_id),
            base_url=self.arm,
            connection_verify=self.ca,
            credential_scopes=["https://management.azure.com/.default"],
        )

    def arm_requests(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.arm}/_sandbox/requests", verify=self.ca, timeout=30).json()

    def arm_writes(self) -> list[tuple[str, str, int]]:
        return [
            (r["method"], r["path"], r["status"])
            for r in self.arm_requests()
            if r["method"] != "GET" and not r["path"].lower().endswith(READ_ACTIONS)
        ]

    def reset_requests(self) -> None:
        requests.delete(f"{self.arm}/_sandbox/requests", verify=self.ca, timeout=30).raise_for_status()

    def inject(self, fault: dict[str, Any]) -> None:
        requests.post(f"{self.arm}/_sandbox/faults", json=fault, verify=self.ca, timeout=30).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(f"{self.arm}/_sandbox/faults", verify=self.ca, timeout=30).raise_for_status()

    def probe(self, app: str, path: str) -> requests.Response:
        return requests.get(self.world.sites[app] + path, verify=self.ca, timeout=30)

    # the cluster
    def kube_writes(self) -> int:
        """Create/update/patch/delete requests the apiserver has served for Services (its own metrics)."""
        config = yaml.safe_load(Path(self.world.kubeconfig).read_text())
        cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
        ca = Path(self.world.state_dir) / "kube-ca.pem"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        metrics = requests.get(
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
    world = World.start(tmp_path_factory.mktemp("e2e"), host_port=None)
    try:
        yield Kubelink(world)
    finally:
        world.stop()
