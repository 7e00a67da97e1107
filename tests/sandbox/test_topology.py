"""The topology the sandbox seeds and serves: the app's own VNet, AKS's managed VNet, Flex Consumption, a second
region, and virtual network peerings through azure-mgmt-network with ARM's states and errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web import models as wm

from local.sandbox import SandboxServer
from local.sandbox.ids import key
from local.sandbox.private_path import Network, PathFacts, Peering, Service, evaluate

from . import builders
from .conftest import POLL, SUB, arm, code_of, rid

MC = "MC_kube-rg_kube-aks-managed_westeurope"
KUBE_VNET = rid("kube-rg", "Microsoft.Network", "virtualNetworks", "kube-vnet")
APPS_VNET = rid("apps-rg", "Microsoft.Network", "virtualNetworks", "apps-vnet")


def peer(net: NetworkManagementClient, rg: str, vnet: str, name: str, remote_id: str) -> nm.VirtualNetworkPeering:
    body = nm.VirtualNetworkPeering(
        {"properties": {"allowVirtualNetworkAccess": True, "remoteVirtualNetwork": {"id": remote_id}}}
    )
    return net.virtual_network_peerings.begin_create_or_update(rg, vnet, name, body, polling_interval=POLL).result()


# --- the seeded names -------------------------------------------------------------------------------------


def test_apps_vnet_and_the_managed_clusters_vnet_are_seeded(
    net: NetworkManagementClient, sandbox: SandboxServer
) -> None:
    apps = net.virtual_networks.get("apps-rg", "apps-vnet")
    assert (apps.location, apps.address_space.address_prefixes) == ("westeurope", ["10.50.0.0/16"])
    managed = net.virtual_networks.get(MC, "aks-vnet-30511229")
    assert managed.address_space.address_prefixes == ["10.224.0.0/12"]
    assert {s.name: s.address_prefix for s in managed.subnets} == {"aks-subnet": "10.224.0.0/16"}
    cluster_id = rid("kube-rg", "Microsoft.ContainerService", "managedClusters", "kube-aks-managed")
    cluster = arm(sandbox, "GET", cluster_id, params={"api-version": "2025-10-01"})
    pool = cluster.json()["properties"]["agentPoolProfiles"][0]
    assert cluster.json()["properties"]["nodeResourceGroup"] == MC
    assert key(pool["vnetSubnetID"]) == key(managed.subnets[0].id)


def test_the_node_resource_group_is_managed_by_the_cluster(sandbox: SandboxServer) -> None:
    group = arm(sandbox, "GET", f"/subscriptions/{SUB}/resourceGroups/{MC}", params={"api-version": "2024-11-01"})
    cluster_id = rid("kube-rg", "Microsoft.ContainerService", "managedClusters", "kube-aks-managed")
    assert group.json()["managedBy"] == cluster_id
    plain = arm(sandbox, "GET", f"/subscriptions/{SUB}/resourceGroups/apps-rg", params={"api-version": "2024-11-01"})
    assert "managedBy" not in plain.json()


def test_flex_consumption_app_and_linux_app_are_seeded(web: WebSiteManagementClient) -> None:
    flex = web.web_apps.get("apps-rg", "kubelink-flex")
    plan = web.app_service_plans.get("apps-rg", flex.server_farm_id.rsplit("/", 1)[-1])
    assert plan.sku is not None
    assert (flex.kind, plan.sku.name, plan.sku.tier) == ("functionapp,linux", "FC1", "FlexConsumption")
    linux = web.web_apps.get("apps-rg", "kubelink-linux")
    assert linux.server_farm_id != flex.server_farm_id and linux.kind == "app,linux"


def test_the_second_region_has_a_vnet_of_its_own(net: NetworkManagementClient) -> None:
    vnet = net.virtual_networks.get("ukwest-rg", "ukwest-vnet")
    assert (vnet.location, vnet.address_space.address_prefixes) == ("ukwest", ["10.60.0.0/16"])


# --- peerings ---------------------------------------------------------------------------------------------


def test_a_peering_is_initiated_until_the_remote_side_peers_back_then_both_are_connected(
    net: NetworkManagementClient,
) -> None:
    there = peer(net, "apps-rg", "apps-vnet", "apps-to-kube", KUBE_VNET)
    assert (there.peering_state, there.peering_sync_level) == ("Initiated", "RemoteNotInSync")
    assert there.remote_address_space.address_prefixes == ["10.240.0.0/16"]
    back = peer(net, "kube-rg", "kube-vnet", "kube-to-apps", APPS_VNET)
    assert (back.peering_state, back.peering_sync_level) == ("Connected", "FullyInSync")
    assert net.virtual_network_peerings.get("apps-rg", "apps-vnet", "apps-to-kube").peering_state == "Connected"
    listed = net.virtual_network_peerings.list("kube-rg", "kube-vnet")
    assert [(p.name, p.remote_virtual_network.id) for p in listed] == [("kube-to-apps", APPS_VNET)]
    assert [p.name for p in net.virtual_networks.get("apps-rg", "apps-vnet").virtual_network_peerings] == [
        "apps-to-kube"
    ]


def test_deleting_one_side_leaves_the_other_disconnected_even_when_peered_again(
    net: NetworkManagementClient,
) -> None:
    peer(net, "apps-rg", "apps-vnet", "apps-to-kube", KUBE_VNET)
    peer(net, "kube-rg", "kube-vnet", "kube-to-apps", APPS_VNET)
    net.virtual_network_peerings.begin_delete("kube-rg", "kube-vnet", "kube-to-apps", polling_interval=POLL).result()
    assert net.virtual_network_peerings.get("apps-rg", "apps-vnet", "apps-to-kube").peering_state == "Disconnected"
    again = peer(net, "kube-rg", "kube-vnet", "kube-to-apps", APPS_VNET)
    assert again.peering_state == "Initiated"
    assert net.virtual_network_peerings.get("apps-rg", "apps-vnet", "apps-to-kube").peering_state == "Disconnected"


def test_overlapping_address_spaces_cannot_be_peered(net: NetworkManagementClient) -> None:
    net.virtual_networks.begin_create_or_update(
        "spare-rg",
        "clash-vnet",
        nm.VirtualNetwork(
            {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.50.8.0/24"]}}}
        ),
        polling_interval=POLL,
    ).result()
    with pytest.raises(HttpResponseError) as caught:
        peer(
            net,
            "apps-rg",
            "apps-vnet",
            "apps-to-clash",
            rid("spare-rg", "Microsoft.Network", "virtualNetworks", "clash-vnet"),
        )
    assert caught.value.status_code == 400 and code_of(caught) == "VnetAddressSpacesOverlap"
    assert "Overlapping address prefixes: 10.50.0.0/16, 10.50.8.0/24" in str(caught.value)
    assert list(net.virtual_network_peerings.list("apps-rg", "apps-vnet")) == []


def test_a_vnet_put_keeps_its_peerings(net: NetworkManagementClient) -> None:
    peer(net, "apps-rg", "apps-vnet", "apps-to-kube", KUBE_VNET)
    vnet = net.virtual_networks.get("apps-rg", "apps-vnet")
    vnet.tags = {"team": "apps"}
    net.virtual_networks.begin_create_or_update("apps-rg", "apps-vnet", vnet, polling_interval=POLL).result()
    assert [p.name for p in net.virtual_network_peerings.list("apps-rg", "apps-vnet")] == ["apps-to-kube"]


# --- Flex Consumption delegation -------------------------------------------------------------------------


def integrate(subnet_id: str) -> wm.SitePatchResource:
    return wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet_id}})


def test_flex_consumption_needs_its_subnet_delegated_to_microsoft_app_environments(
    net: NetworkManagementClient, web: WebSiteManagementClient
) -> None:
    web_subnet = net.subnets.begin_create_or_update(
        "apps-rg",
        "apps-vnet",
        "web",
        builders.subnet("10.50.1.0/26", "Microsoft.Web/serverFarms"),
        polling_interval=POLL,
    ).result()
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.update("apps-rg", "kubelink-flex", integrate(str(web_subnet.id)))
    assert caught.value.response is not None
    assert "Microsoft.App/environments" in caught.value.response.text()
    flex_subnet = net.subnets.begin_create_or_update(
        "apps-rg",
        "apps-vnet",
        "flex",
        builders.subnet("10.50.2.0/26", "Microsoft.App/environments"),
        polling_interval=POLL,
    ).result()
    updated = web.web_apps.update("apps-rg", "kubelink-flex", integrate(str(flex_subnet.id)))
    assert key(updated.virtual_network_subnet_id or "") == key(str(flex_subnet.id))


# --- the private-path rule across a peering ---------------------------------------------------------------

SERVICE = Service("default", "orders-internal", "10.240.16.25")
KUBE = Network(KUBE_VNET, ("10.240.0.0/16",), peerings=(Peering(APPS_VNET, "Connected", True),))
APPS = Network(APPS_VNET, ("10.50.0.0/16",), peerings=(Peering(KUBE_VNET, "Connected", True),))
ACROSS = PathFacts(
    setting="10.240.16.25",
    networks={key(APPS_VNET): APPS, key(KUBE_VNET): KUBE},
    services=(SERVICE,),
    regional_vnet=APPS_VNET,
    regional_delegated=True,
)


def test_the_app_reaches_the_ilb_across_a_connected_peering() -> None:
    verdict = evaluate(ACROSS)
    assert (verdict.ok, verdict.service) == (True, SERVICE)
    assert "peering" in verdict.reason


@pytest.mark.parametrize(
    ("peering", "reason"),
    [
        (Peering(KUBE_VNET, "Initiated", True), "is Initiated"),
        (Peering(KUBE_VNET, "Disconnected", True), "is Disconnected"),
        (Peering(KUBE_VNET, "Connected", False), "without virtual network access"),
    ],
)
def test_a_peering_that_is_not_connected_both_ways_breaks_the_path(peering: Peering, reason: str) -> None:
    facts = replace(ACROSS, networks={key(APPS_VNET): replace(APPS, peerings=(peering,)), key(KUBE_VNET): KUBE})
    verdict = evaluate(facts)
    assert not verdict.ok and reason in verdict.reason


def test_without_a_peering_the_ilb_is_outside_the_apps_vnet() -> None:
    facts = replace(ACROSS, networks={key(APPS_VNET): replace(APPS, peerings=()), key(KUBE_VNET): KUBE})
    verdict = evaluate(facts)
    assert not verdict.ok and "outside the address space" in verdict.reason


# --- regions and zones -------------------------------------------------------------------------------------


def test_locations_list_zones_only_for_the_region_that_has_them(sandbox: SandboxServer) -> None:
    listed = arm(sandbox, "GET", f"/subscriptions/{SUB}/locations", params={"api-version": "2022-12-01"}).json()
    zones = {
        loc["name"]: [m["logicalZone"] for m in loc.get("availabilityZoneMappings", [])] for loc in listed["value"]
    }
    assert zones == {"westeurope": ["1", "2", "3"], "ukwest": []}


def test_zonal_public_ips_are_refused_where_the_region_has_no_zones(net: NetworkManagementClient) -> None:
    def pip(location: str, zones: list[str]) -> nm.PublicIPAddress:
        body = {"location": location, "sku": {"name": "Standard"}, "zones": zones, "properties": {}}
        return nm.PublicIPAddress(body)

    with pytest.raises(HttpResponseError) as caught:
        net.public_ip_addresses.begin_create_or_update("ukwest-rg", "gw-pip", pip("ukwest", ["1", "2", "3"]))
    assert code_of(caught) == "LocationNotSupportAvailabilityZones" and "'ukwest'" in str(caught.value)
    with pytest.raises(HttpResponseError) as caught:
        net.public_ip_addresses.begin_create_or_update("kube-rg", "gw-pip", pip("westeurope", ["4"]))
    assert code_of(caught) == "InvalidAvailabilityZone"
    made = net.public_ip_addresses.begin_create_or_update(
        "kube-rg", "gw-pip", pip("westeurope", ["1", "2", "3"]), polling_interval=POLL
    ).result()
    assert made.zones == ["1", "2", "3"]
