"""Teardown end to end (``DELETE /api/links/{name}``): the world — every sandbox resource, every app setting, the
cluster's Services — compared whole before the link and after its teardown. The tests of this module share one
world and run in order: two links on one gateway, the first torn down with ``deleteSharedResources`` (the gateway
stays for the second), the second (the gateway goes); a gateway link torn down keeping the shared gateway; a
regional link with DNS whose Service kubelink adopted, torn down through a 429 and a 500; and a teardown whose host
is SIGKILLed while it waits on a delete, finished by the restarted host. Each teardown is checked against its plan
(``POST /api/plan?teardown=``)."""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import EXAMPLE, Kubelink

SUBSCRIPTION = EXAMPLE["subscriptionId"]
NETWORK = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.Network"
SHARED = {
    f"{NETWORK}/virtualNetworkGateways/kube-vnet-gw".lower(),
    f"{NETWORK}/publicIPAddresses/kube-vnet-gw-pip".lower(),
    f"{NETWORK}/virtualNetworks/kube-vnet/subnets/GatewaySubnet".lower(),
}
#: a second link on the same gateway: another app of the subscription (so the same certificate data)
REPORTS = {
    **copy.deepcopy(EXAMPLE),
    "name": "reports-api",
    "kubernetes": {**EXAMPLE["kubernetes"], "service": "reports-internal", "loadBalancerIP": "10.240.16.40"},
    "app": {**EXAMPLE["app"], "name": "kubelink-reports"},
}
REGIONAL = {
    **copy.deepcopy(EXAMPLE),
    "name": "catalog-api",
    "integration": "regional",
    "kubernetes": {
        **EXAMPLE["kubernetes"],
        "service": "catalog-internal",
        "selector": {"app": "catalog"},
        "loadBalancerIP": "10.240.16.30",
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-linux",
        "subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"},
    },
    "dns": {"zone": "kubelink.internal", "record": "catalog"},
}
REGIONAL.pop("gateway", None)


def world(kubelink: Kubelink) -> dict[str, Any]:
    """Everything a link could touch, without what changes on every write (etags, operations, counters)."""
    state = kubelink.sandbox_state()
    resources = {key: _without_etags(body) for key, body in state["resources"].items()}
    allocations = state["extra"].get("ilb", {}).get("allocations", {})
    return {"resources": resources, "ilb": allocations, "services": services(kubelink)}


def _without_etags(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_etags(v) for k, v in node.items() if k != "etag"}
    if isinstance(node, list):
        return [_without_etags(v) for v in node]
    return node


def services(kubelink: Kubelink) -> dict[str, Any]:
    """The default namespace's Services: metadata and spec, without what the apiserver bumps on every write."""
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(str(Path(kubelink.world.kubeconfig))))
    found = {}
    for service in api.list_namespaced_service("default").to_dict()["items"]:
        metadata = service["metadata"]
        if metadata["name"] == "kubernetes":
            continue
        kept = {k: metadata[k] for k in ("name", "annotations", "labels", "uid")}
        found[metadata["name"]] = {"metadata": kept, "spec": service["spec"]}
    return found


def teardown(kubelink: Kubelink, name: str, shared: bool = False) -> dict[str, Any]:
    """DELETE the link and follow its teardown; first, its plan (``POST /api/plan?teardown=``), which writes nothing
    and names exactly what the teardown then removes, restores and keeps."""
    query = "?deleteSharedResources=true" if shared else ""
    kubelink.reset_requests()
    planned = kubelink.post(f"/api/plan?teardown={name}{'&deleteSharedResources=true' if shared else ''}")
    assert planned.status_code == 200, planned.text
    assert kubelink.arm_writes() == []
    rows = planned.json()["changes"]
    output = _teardown(kubelink, name, query)
    for action, key in (("delete", "removed"), ("restore", "restored")):
        assert {r["resource"].lower() for r in rows if r["action"] == action} == {r.lower() for r in output[key]}, rows
    assert {r["resource"].lower() for r in rows if r["action"] == "keep"} == {
        k["resource"].lower() for k in output["kept"]
    }
    return output


def _teardown(kubelink: Kubelink, name: str, query: str) -> dict[str, Any]:
    response = kubelink.http.delete(f"{kubelink.host}/api/links/{name}{query}", timeout=60)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"] == f"teardown-link-{name}"
    status = kubelink.follow(body["statusQueryGetUri"], timeout=240).status
    assert status["runtimeStatus"] == "Completed", status
    output: dict[str, Any] = status["output"]
    return output


def provisioned(kubelink: Kubelink, body: dict[str, Any]) -> None:
    status, _ = kubelink.provision(body)
    assert status["runtimeStatus"] == "Completed", status


def assert_same_world(
    before: dict[str, Any], after: dict[str, Any], *, besides: frozenset[str] | set[str] = frozenset()
) -> None:
    """``after`` is ``before`` plus, at most, the resources under the ids ``besides`` (kept shared resources)."""
    added = {k for k in after["resources"] if k not in before["resources"]}
    assert {k for k in added if not any(k == b or k.startswith(b + "/") for b in besides)} == set()
    assert {k for k in before["resources"] if k not in after["resources"]} == set()
    for key, was in before["resources"].items():
        assert after["resources"][key] == was, key
    assert after["services"] == before["services"]
    assert after["ilb"] == before["ilb"]


@pytest.fixture(scope="module")
def pristine(kubelink: Kubelink) -> dict[str, Any]:
    return world(kubelink)


def test_two_links_on_one_gateway_the_first_torn_down_leaves_the_second_working(
    kubelink: Kubelink, pristine: dict[str, Any]
) -> None:
    provisioned(kubelink, EXAMPLE)
    provisioned(kubelink, REPORTS)
    record = kubelink.link("orders-api")
    assert f"{NETWORK}/virtualNetworks/kube-vnet/subnets/GatewaySubnet" in record["ownership"]["created"]

    output = teardown(kubelink, "orders-api", shared=True)
    kept = {k["resource"].lower(): k["reason"] for k in output["kept"]}
    assert "reports-api" in kept[f"{NETWORK}/virtualNetworkGateways/kube-vnet-gw".lower()]
    assert any("kubelink-reports" in k["reason"] for k in output["kept"])  # the shared certificate stays
    assert kubelink.probe("kubelink-reports", "/api/privatestuff").status_code == 200
    assert kubelink.http.get(f"{kubelink.host}/api/links/orders-api", timeout=30).status_code == 404
    now = world(kubelink)
    demo = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-demo".lower()
    assert now["resources"][demo]["_appSettings"] == pristine["resources"][demo]["_appSettings"]
    assert "orders-internal" not in now["services"]
    # GatewaySubnet, which orders-api created, is handed to the link still using it
    assert (
        f"{NETWORK}/virtualNetworks/kube-vnet/subnets/GatewaySubnet"
        in kubelink.link("reports-api")["ownership"]["created"]
    )


def test_the_last_link_torn_down_with_delete_shared_resources_leaves_the_world_as_it_was(
    kubelink: Kubelink, pristine: dict[str, Any]
) -> None:
    output = teardown(kubelink, "reports-api", shared=True)
    assert {r.lower() for r in output["removed"]} >= SHARED, output
    assert_same_world(pristine, world(kubelink))


def test_a_gateway_link_torn_down_keeps_the_shared_gateway_and_nothing_else(
    kubelink: Kubelink, pristine: dict[str, Any]
) -> None:
    provisioned(kubelink, EXAMPLE)
    kubelink.reset_requests()
    output = teardown(kubelink, "orders-api")
    assert {k["resource"].lower() for k in output["kept"]} >= SHARED
    assert not [w for w in kubelink.arm_writes() if w["method"] == "DELETE" and "virtualNetworkGateways" in w["path"]]
    assert_same_world(pristine, world(kubelink), besides=SHARED)
    # a second DELETE does no harm: the link is gone; its drift history is still readable
    assert kubelink.http.delete(f"{kubelink.host}/api/links/orders-api", timeout=30).status_code == 404
    assert kubelink.http.get(f"{kubelink.host}/api/links/orders-api/drift", timeout=30).status_code == 200


def test_a_regional_link_with_dns_and_an_adopted_service_is_undone_exactly(kubelink: Kubelink) -> None:
    from kubernetes import client, config

    api: Any = client.CoreV1Api(config.new_client_from_config(str(Path(kubelink.world.kubeconfig))))
    api.create_namespaced_service(
        "default",
        {
            "metadata": {"name": "catalog-internal", "annotations": {"team": "catalog"}},
            "spec": {"type": "ClusterIP", "selector": {"app": "catalog"}, "ports": [{"port": 80, "targetPort": 80}]},
        },
    )
    before = world(kubelink)
    provisioned(kubelink, REGIONAL)
    assert kubelink.link("catalog-api")["ownership"]["adopted"]["service"]["type"] == "ClusterIP"
    # a teardown interrupted by throttling and a server error retries and finishes
    kubelink.inject(method="PUT", pathPattern="sites/kubelink-linux/config/appsettings$", status=429)
    kubelink.inject(method="DELETE", pathPattern="subnets/app-subnet$", status=500)
    output = teardown(kubelink, "catalog-api")
    assert len([r for r in kubelink.arm_requests() if r["fault"]]) == 2
    assert output["restored"] == ["default/catalog-internal"]
    assert_same_world(before, world(kubelink))


def test_a_teardown_whose_host_is_killed_midway_finishes_after_the_restart(kubelink: Kubelink) -> None:
    simple = {**copy.deepcopy(REGIONAL), "name": "simple-api"}
    simple.pop("dns")
    before = world(kubelink)
    provisioned(kubelink, simple)
    kubelink.inject(pathPattern="subnets/app-subnet$", lroSeconds=6)  # the subnet's delete takes a while
    response = kubelink.http.delete(f"{kubelink.host}/api/links/simple-api", timeout=60)
    assert response.status_code == 202, response.text
    status_uri = response.json()["statusQueryGetUri"]
    deadline = time.monotonic() + 60
    while "finish a delete" not in str(kubelink.http.get(status_uri, timeout=30).json().get("customStatus")):
        assert time.monotonic() < deadline, "the teardown never waited on the subnet's delete"
        time.sleep(0.2)
    host = json.loads(kubelink.world.world_file.read_text())["pids"]["host"]
    os.kill(host, signal.SIGKILL)
    while json.loads(kubelink.world.world_file.read_text())["pids"].get("host", host) == host:
        assert time.monotonic() < deadline + 60, "the host was not restarted"
        time.sleep(0.2)
    status = kubelink.follow(status_uri, timeout=240).status
    assert status["runtimeStatus"] == "Completed", status
    assert_same_world(before, world(kubelink))
