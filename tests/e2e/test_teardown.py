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
from tests.e2e.teardowns import assert_same_world, provisioned, teardown, world

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
