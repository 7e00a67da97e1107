"""Issue 10 end to end, real AKS and App Service topologies over HTTP through the local host: AKS's managed VNet
refused on the regional path with no write in its node resource group; the app in its own VNet peered with the
cluster's; the managed cluster reached through Private Link; drift on both; then both links torn down, the world
compared whole with what it was before them, and a peering that was there before a link kept by its teardown. The
tests of this module share one world and run in order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import EXAMPLE, Kubelink
from tests.e2e.teardowns import assert_same_world, provisioned, teardown, world

SUBSCRIPTION = EXAMPLE["subscriptionId"]
KUBELINK = "3f2a9c61-7d84-4e0b-9a15-2c6e8b4d7f03"  # object id of kubelink's identity (local/sandbox/seed.json)
MC = "MC_kube-rg_kube-aks-managed_westeurope"
MANAGED_AKS = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/"
    "kube-aks-managed"
)
INTO_MANAGED_VNET: dict[str, Any] = {
    "name": "managed-orders",
    "subscriptionId": SUBSCRIPTION,
    "integration": "regional",
    "network": {"resourceGroup": MC, "virtualNetwork": "aks-vnet-30511229"},
    "kubernetes": {
        "aksCluster": MANAGED_AKS,
        "service": "orders-internal",
        "selector": {"app": "orders"},
        "ports": [{"port": 80, "targetPort": 8080}],
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-linux",
        "subnet": {"name": "apps", "prefix": "10.225.0.0/26"},
    },
}


def failure(status: dict[str, Any]) -> dict[str, Any]:
    assert status["runtimeStatus"] == "Failed", status
    output: str = status["output"]
    found: dict[str, Any] = json.loads(output[output.index("{") :])
    return found


def test_a_regional_link_into_aks_managed_vnet_is_refused_with_no_write_in_its_node_resource_group(
    kubelink: Kubelink,
) -> None:
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    status, _ = kubelink.provision(INTO_MANAGED_VNET)
    refused = failure(status)
    assert (refused["step"], refused["code"]) == ("preflight", "ManagedResourceGroup")
    assert MC in refused["message"] and "integration: privateLink" in refused["message"]
    assert kubelink.arm_writes() == []
    assert not [r for r in kubelink.arm_requests() if MC.lower() in r["path"].lower() and r["method"] != "GET"]
    assert kubelink.kube_writes() == kube_writes


PEERED: dict[str, Any] = {
    "name": "peered-orders",
    "subscriptionId": SUBSCRIPTION,
    "integration": "regional",
    "network": {"resourceGroup": "kube-rg", "virtualNetwork": "kube-vnet"},
    "kubernetes": {
        "service": "peered-orders",
        "selector": {"app": "orders"},
        "ports": [{"port": 80, "targetPort": 8080}],
        "loadBalancerSubnet": "ilb-subnet",
        "loadBalancerIP": "10.240.16.40",
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-demo",
        "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
        "subnet": {"name": "apps-subnet", "prefix": "10.50.1.0/26"},
    },
    "probe": {"path": "/api/privatestuff"},
}


@pytest.fixture(scope="module")
def before_links(kubelink: Kubelink) -> dict[str, Any]:
    """The world before the peered and the private-link links (the refused link before them wrote nothing)."""
    return world(kubelink)


def test_the_app_in_its_own_vnet_reaches_the_clusters_ilb_through_peering(
    kubelink: Kubelink, before_links: dict[str, Any]
) -> None:
    kubelink.reset_requests()
    status, _ = kubelink.provision(PEERED)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["privateAddress"] == "10.240.16.40"
    writes = [(w["method"], w["path"].split("/providers/")[-1]) for w in kubelink.arm_writes()]
    peerings = sorted(p for m, p in writes if "/virtualNetworkPeerings/" in p)
    assert peerings == [
        "Microsoft.Network/virtualNetworks/apps-vnet/virtualNetworkPeerings/kubelink-kube-vnet",
        "Microsoft.Network/virtualNetworks/kube-vnet/virtualNetworkPeerings/kubelink-apps-vnet",
    ]
    assert ("PUT", "Microsoft.Network/virtualNetworks/apps-vnet/subnets/apps-subnet") in writes
    assert not [p for _, p in writes if "kube-vnet/subnets" in p]  # nothing integrates into the cluster's VNet
    probed = kubelink.probe("kubelink-demo", "/api/privatestuff")
    assert probed.status_code == 200, probed.headers.get("X-Sandbox-Reason")
    assert "peering" in probed.json()["path"]


def test_the_converged_peered_link_writes_nothing_and_verifies_clean(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    status, _ = kubelink.provision(PEERED)
    assert status["runtimeStatus"] == "Completed", status
    assert set(status["output"]["steps"].values()) == {"unchanged"}
    assert kubelink.arm_writes() == []
    planned = {c["resource"].rsplit("/", 1)[-1]: c["action"] for c in kubelink.plan(PEERED)}
    assert planned["kubelink-kube-vnet"] == planned["kubelink-apps-vnet"] == "none"


def test_overlapping_vnets_and_a_vnet_in_another_region_are_refused_before_any_write(kubelink: Kubelink) -> None:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import VirtualNetwork

    net = kubelink.sdk(NetworkManagementClient)
    overlapping = VirtualNetwork(
        {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.240.128.0/20"]}}}
    )
    net.virtual_networks.begin_create_or_update("spare-rg", "clash-vnet", overlapping).result()
    # spare-rg joins kubelink's scopes as a deployment would assign it there: without the role kubelink may not even
    # read the VNet (tests/e2e/test_rbac.py), and pre-flight would answer AuthorizationFailed before any topology rule
    kubelink.assign_role("kubelink operator", f"/subscriptions/{SUBSCRIPTION}/resourceGroups/spare-rg", KUBELINK)
    kubelink.reset_requests()
    for own, expected in (
        ({"resourceGroup": "spare-rg", "name": "clash-vnet"}, "cannot be peered"),
        ({"resourceGroup": "ukwest-rg", "name": "ukwest-vnet"}, "same region"),
    ):
        link = {**PEERED, "name": "refused-orders", "app": {**PEERED["app"], "virtualNetwork": own}}
        link["app"]["subnet"] = {
            "name": "apps-subnet",
            "prefix": "10.240.129.0/26" if "clash" in own["name"] else "10.60.1.0/26",
        }
        status, _ = kubelink.provision(link)
        refused = failure(status)
        assert (refused["step"], refused["code"]) == ("preflight", "PreflightFailed")
        assert expected in refused["message"] and "app.virtualNetwork.name" in refused["message"]
    assert kubelink.arm_writes() == []


PRIVATE_LINK: dict[str, Any] = {
    "name": "linux-orders",
    "subscriptionId": SUBSCRIPTION,
    "integration": "privateLink",
    "network": {"resourceGroup": MC, "virtualNetwork": "aks-vnet-30511229"},
    "kubernetes": {
        "aksCluster": MANAGED_AKS,
        "namespace": "managed",
        "service": "pl-orders",
        "selector": {"app": "orders"},
        "ports": [{"port": 80, "targetPort": 8080}],
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-linux",
        "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
        "subnet": {"name": "linux-apps", "prefix": "10.50.4.0/26"},
    },
    "privateLink": {"endpointSubnet": {"name": "endpoints", "prefix": "10.50.5.0/27"}},
    "dns": {"zone": "kubelink.internal", "record": "orders"},
    "probe": {"path": "/api/privatestuff"},
}


def test_the_managed_cluster_is_reached_through_private_link_with_no_write_by_kubelink_in_its_node_group(
    kubelink: Kubelink,
) -> None:
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubelink.world.kubeconfig)))
    labels = {"sandbox.kubelink.local/cluster": "kube-aks-managed"}  # the sandbox's mapping onto the one apiserver
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="managed", labels=labels)))
    kubelink.reset_requests()
    status, _ = kubelink.provision(PRIVATE_LINK)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["privateAddress"] == "10.50.5.4"
    assert not [w for w in kubelink.arm_writes() if MC.lower() in w["path"].lower()]
    written = {w["path"].split("/providers/")[-1] for w in kubelink.arm_writes()}
    assert "Microsoft.Network/privateEndpoints/kubelink-linux-orders" in written
    assert "Microsoft.Network/privateDnsZones/kubelink.internal/virtualNetworkLinks/kubelink-apps-vnet" in written
    settings = kubelink.web().web_apps.list_application_settings("apps-rg", "kubelink-linux").properties or {}
    assert settings["PrivateAddress"] == "orders.kubelink.internal"  # its A record names the endpoint's IP
    service = core.read_namespaced_service("pl-orders", "managed")
    annotations = (service.metadata.annotations if service.metadata else None) or {}
    assert annotations["service.beta.kubernetes.io/azure-pls-create"] == "true"
    assert annotations["service.beta.kubernetes.io/azure-pls-auto-approval"] == SUBSCRIPTION
    probed = kubelink.probe("kubelink-linux", "/api/privatestuff")
    assert probed.status_code == 200, probed.headers.get("X-Sandbox-Reason")
    assert "Private Link" in probed.json()["path"]


def test_the_converged_private_link_writes_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    status, _ = kubelink.provision(PRIVATE_LINK)
    assert status["runtimeStatus"] == "Completed", status
    assert set(status["output"]["steps"].values()) == {"unchanged"}
    assert kubelink.arm_writes() == []
    assert kubelink.kube_writes() == kube_writes
    planned = {c["resource"].rsplit("/", 1)[-1]: c["action"] for c in kubelink.plan(PRIVATE_LINK)}
    assert planned["kubelink-linux-orders"] == "none" and planned["endpoints"] == "none"


def test_drift_sees_a_deleted_peering_and_a_rejected_endpoint_connection(kubelink: Kubelink) -> None:
    """Induced as in life, through ARM: the cluster side's peering deleted; the PLS owner rejects the connection."""
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import PrivateEndpointConnection

    net = kubelink.sdk(NetworkManagementClient)
    net.virtual_network_peerings.begin_delete("kube-rg", "kube-vnet", "kubelink-apps-vnet").result()
    peered = kubelink.verify("peered-orders")
    fields = {(r["resource"].rsplit("/", 1)[-1], r["field"]) for r in peered["drift"]}
    assert ("kubelink-apps-vnet", "exists") in fields
    assert ("kubelink-kube-vnet", "properties.peeringState") in fields  # the app side is Disconnected now
    assert any(r["kind"] == "connectivity" for r in peered["drift"])
    (connection,) = net.private_link_services.get(MC, "kubelink-linux-orders").private_endpoint_connections
    rejected = PrivateEndpointConnection(
        {"properties": {"privateLinkServiceConnectionState": {"status": "Rejected", "description": "no"}}}
    )
    net.private_link_services.update_private_endpoint_connection(MC, "kubelink-linux-orders", connection.name, rejected)
    linked = kubelink.verify("linux-orders")
    status = [r for r in linked["drift"] if r["resource"].endswith("/privateEndpoints/kubelink-linux-orders")]
    assert status and status[0]["actual"] == "Rejected" and status[0]["expected"] == "Approved"
    assert any(r["kind"] == "connectivity" for r in linked["drift"])


APPS_VNET = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Network/virtualNetworks/apps-vnet"
)
KUBE_VNET = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"
)


def test_the_peered_and_the_private_link_links_torn_down_leave_the_world_as_before_them(
    kubelink: Kubelink, before_links: dict[str, Any]
) -> None:
    """As the drift test left them: the cluster side's peering already deleted (nothing to do there), the app
    side's Disconnected; the endpoint's connection Rejected. The Private Link Service is AKS's: kubelink deletes
    the endpoint, and the PLS goes with the Service."""
    peered = teardown(kubelink, "peered-orders")
    peerings = [r for r in peered["removed"] if "/virtualNetworkPeerings/" in r]
    assert peerings == [f"{APPS_VNET}/virtualNetworkPeerings/kubelink-kube-vnet"]
    assert f"{APPS_VNET}/subnets/apps-subnet" in peered["removed"]  # in the app's own VNet
    linked = teardown(kubelink, "linux-orders")
    endpoint = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Network/privateEndpoints/"
    removed = linked["removed"]
    assert removed.index(f"{endpoint}kubelink-linux-orders") < removed.index(f"{APPS_VNET}/subnets/endpoints")
    assert not [w for w in kubelink.arm_writes() if MC.lower() in w["path"].lower()]
    # what the overlap test made in spare-rg (a VNet, kubelink's role there) is not the links'
    spare = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/spare-rg".lower()
    assert_same_world(before_links, world(kubelink), besides={spare})


def test_peerings_that_were_there_before_the_link_stay_after_its_teardown_as_they_were(kubelink: Kubelink) -> None:
    """Both sides made by hand before the link, one with virtual network access off: kubelink adopts both, turns that
    one's access on, and its teardown turns it back off and deletes neither."""
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import VirtualNetworkPeering

    net = kubelink.sdk(NetworkManagementClient)
    for group, vnet, name, remote, access in (
        ("apps-rg", "apps-vnet", "apps-to-kube", KUBE_VNET, False),
        ("kube-rg", "kube-vnet", "kube-to-apps", APPS_VNET, True),
    ):
        body = VirtualNetworkPeering(
            {"properties": {"allowVirtualNetworkAccess": access, "remoteVirtualNetwork": {"id": remote}}}
        )
        net.virtual_network_peerings.begin_create_or_update(group, vnet, name, body).result()
    before = world(kubelink)
    kubelink.reset_requests()
    provisioned(kubelink, PEERED)
    turned_on = f"{APPS_VNET}/virtualNetworkPeerings/apps-to-kube"
    peerings = [(w["method"], w["path"]) for w in kubelink.arm_writes() if "/virtualNetworkPeerings/" in w["path"]]
    assert peerings == [("PUT", turned_on)]
    adopted = kubelink.link("peered-orders")["ownership"]["adopted"]
    assert adopted[turned_on] == {"properties.allowVirtualNetworkAccess": False}
    output = teardown(kubelink, "peered-orders")
    rows = {r["resource"].rsplit("/", 1)[-1]: (r["action"], r["ownership"]) for r in output["plan"]}
    assert rows["apps-to-kube"] == ("restore", "adopted") and rows["kube-to-apps"] == ("keep", "adopted")
    assert not [w for w in kubelink.arm_writes() if w["method"] == "DELETE" and "/virtualNetworkPeerings/" in w["path"]]
    assert_same_world(before, world(kubelink))
