"""The regional path's activities against the sandbox: delegated subnet, regional connection, released certificate.

Each writes only what differs: a second run writes nothing.
"""

from __future__ import annotations

import time
from typing import Any

from azure.mgmt.network.models import Subnet, VirtualNetworkGateway

from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.regional import connect_app_regional, ensure_app_subnet, release_app_certificate
from activities.vnet_integration import ensure_app_vnet_connection
from adapters.clients import network_client, web_client
from tests.activities.helpers import Arm, root_certificate, service_by_hand, settle
from tests.activities.specs import PRIVATE_LINK, SUBSCRIPTION, payload

SUBNET = {"name": "app-subnet", "prefix": "10.240.32.0/27"}
SUBNET_PATH = "/virtualNetworks/kube-vnet/subnets/app-subnet"
NETWORK = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.Network"
WEB = "Microsoft.Web/serverFarms"


def regional(**changes: Any) -> dict[str, Any]:
    return payload(integration="regional", app={"subnet": SUBNET, **changes.pop("app", {})}, **changes)


def delegated(link: dict[str, Any]) -> dict[str, Any]:
    """``link``'s subnet created and settled."""
    assert ensure_app_subnet(link)["ok"]
    settle(link, "appSubnet")
    return link


def subnet_id() -> str:
    return f"{NETWORK}{SUBNET_PATH}"


def test_a_missing_subnet_is_created_delegated_once(arm: Arm):
    link = regional()
    created = ensure_app_subnet(link)
    assert created["ok"], created
    assert (created["result"], created["provisioningState"]) == ("created", "Updating")
    (put,) = arm.arm_writes()
    assert put["path"].endswith(SUBNET_PATH)
    assert put["requestBody"]["properties"] == {
        "addressPrefix": "10.240.32.0/27",
        "delegations": [{"name": "delegation", "properties": {"serviceName": WEB}}],
    }
    assert settle(link, "appSubnet")["provisioningState"] == "Succeeded"
    arm.reset_requests()
    again = ensure_app_subnet(link)
    assert (again["result"], again["changes"], again["provisioningState"]) == ("unchanged", [], "Succeeded")
    assert arm.arm_writes() == []


def test_an_existing_subnet_is_adopted_keeping_its_nsg_and_other_delegations(arm: Arm):
    nsg = {"id": f"{NETWORK}/networkSecurityGroups/ops"}
    theirs = Subnet(
        {
            "properties": {
                "addressPrefix": "10.240.32.0/27",
                "networkSecurityGroup": nsg,
                "delegations": [
                    {"name": "aci", "properties": {"serviceName": "Microsoft.ContainerInstance/containerGroups"}}
                ],
            }
        }
    )
    network_client(SUBSCRIPTION).subnets.begin_create_or_update(
        "kube-rg", "kube-vnet", "app-subnet", theirs, polling_interval=0.1
    ).result()
    arm.reset_requests()
    link = regional()
    adopted = ensure_app_subnet(link)
    assert (adopted["result"], [c["field"] for c in adopted["changes"]]) == (
        "updated",
        [f"properties.delegations[{WEB}]"],
    )
    (put,) = arm.arm_writes()
    props = put["requestBody"]["properties"]
    assert props["networkSecurityGroup"] == nsg
    assert [d["properties"]["serviceName"] for d in props["delegations"]] == [
        "Microsoft.ContainerInstance/containerGroups",
        WEB,
    ]
    settle(link, "appSubnet")
    arm.reset_requests()
    assert ensure_app_subnet(link)["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_a_linux_app_is_connected_regionally_once(arm: Arm):
    link = delegated(regional(app={"name": "kubelink-linux"}))
    arm.reset_requests()
    connected = connect_app_regional(link)
    assert connected["ok"], connected
    assert connected["result"] == "created"
    (put,) = arm.arm_writes()
    assert (put["method"], put["path"].endswith("/sites/kubelink-linux/networkConfig/virtualNetwork")) == ("PUT", True)
    assert put["requestBody"] == {"properties": {"subnetResourceId": subnet_id()}}
    site = web_client(SUBSCRIPTION).web_apps.get("apps-rg", "kubelink-linux")
    assert site.as_dict()["properties"]["virtualNetworkSubnetId"].lower() == subnet_id().lower()
    arm.reset_requests()
    again = connect_app_regional(link)
    assert (again["result"], again["changes"]) == ("unchanged", [])
    assert arm.arm_writes() == []


def test_a_gateway_connection_to_the_vnet_is_removed_right_before_connecting(arm: Arm):
    assert ensure_app_vnet_connection(payload())["ok"]  # the app was on the gateway path
    link = delegated(regional())
    arm.reset_requests()
    moved = connect_app_regional(link)
    assert moved["ok"], moved
    assert [c["field"] for c in moved["changes"]] == [
        "properties.subnetResourceId",
        "virtualNetworkConnections[kube-vnet]",
    ]
    assert [(w["method"], w["path"].rsplit("/", 2)[-2:]) for w in arm.arm_writes()] == [
        ("DELETE", ["virtualNetworkConnections", "kube-vnet"]),
        ("PUT", ["networkConfig", "virtualNetwork"]),
    ]
    listed = web_client(SUBSCRIPTION).web_apps.list_vnet_connections("apps-rg", "kubelink-demo")
    assert [c.as_dict()["properties"]["isSwift"] for c in listed] == [True]


def test_a_refused_regional_connection_after_the_disconnect_says_the_app_is_disconnected(arm: Arm):
    assert ensure_app_vnet_connection(payload())["ok"]
    link = delegated(regional())
    arm.inject(
        method="PUT",
        pathPattern="networkConfig/virtualNetwork$",
        status=400,
        times=1,
        body={"Code": "BadRequest", "Message": "Subnet is in use."},
    )
    refused = connect_app_regional(link)
    assert refused["ok"] is False
    assert "disconnected from gateway-required integration" in refused["error"]["message"]
    arm.clear_faults()
    assert connect_app_regional(link)["result"] == "created"  # a second run needs no disconnect


def make_gateway(arm: Arm, *others: tuple[str, str]) -> dict[str, Any]:
    """A Succeeded gateway as the gateway path leaves it (trusting the app's certificate), also trusting ``others``
    (name, data): roots of whoever else uses the gateway."""
    link = payload()
    for ensure, resource in ((ensure_gateway_subnet, "gatewaySubnet"), (ensure_public_ip, "publicIp")):
        assert ensure(link)["ok"]
        settle(link, resource)
    assert ensure_app_vnet_connection(link)["ok"] and ensure_gateway(link)["ok"]
    settle(link, "gateway")
    gateways = network_client(SUBSCRIPTION).virtual_network_gateways
    gateway = gateways.get("kube-rg", "kube-vnet-gw").as_dict()
    roots = gateway["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"]
    roots += [{"name": name, "properties": {"publicCertData": data}} for name, data in others]
    updated = VirtualNetworkGateway(gateway)
    gateways.begin_create_or_update("kube-rg", "kube-vnet-gw", updated, polling_interval=0.1).result()
    arm.reset_requests()
    return link


def test_only_kubelinks_certificate_for_the_app_leaves_the_gateway(arm: Arm):
    link = make_gateway(arm, ("ops-root", root_certificate("ops")))
    released = release_app_certificate(link)
    assert released["ok"], released
    assert released["result"] == "updated" and released["provisioningState"] == "Updating"
    (put,) = arm.arm_writes()
    roots = put["requestBody"]["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"]
    assert [r["name"] for r in roots] == ["ops-root"]  # the app's went, the other root stays
    assert settle(link, "gateway")["provisioningState"] == "Succeeded"
    arm.reset_requests()
    again = release_app_certificate(link)
    assert (again["result"], again["provisioningState"]) == ("unchanged", "Succeeded")
    assert arm.arm_writes() == []


def test_a_busy_gateway_is_released_later_and_a_missing_one_needs_nothing(arm: Arm):
    assert release_app_certificate(payload()) == {
        "ok": True,
        "result": "unchanged",
        "changes": [],
        "created": [],
        "provisioningState": "Succeeded",
        "sharedWith": [],
    }
    link = make_gateway(arm)
    arm.inject(pathPattern="virtualNetworkGateways/kube-vnet-gw$", lroSeconds=30)
    gateways = network_client(SUBSCRIPTION).virtual_network_gateways
    gateways.begin_create_or_update("kube-rg", "kube-vnet-gw", gateways.get("kube-rg", "kube-vnet-gw"), polling=False)
    arm.reset_requests()  # someone else's update runs
    busy = release_app_certificate(link)
    assert (busy["result"], busy["provisioningState"]) == ("busy", "Updating")
    assert arm.arm_writes() == []


def test_a_certificate_another_app_of_the_subscription_trusts_stays_on_the_gateway(arm: Arm):
    """App Service issues one certificate per subscription and VNet: kubelink-demo's is also kubelink-reports'."""
    link = make_gateway(arm)
    reports = payload(app={"name": "kubelink-reports"})
    declared = ensure_app_vnet_connection(reports)
    web = web_client(SUBSCRIPTION)
    mine = web.web_apps.get_vnet_connection("apps-rg", "kubelink-demo", "kube-vnet").cert_thumbprint
    assert declared["certThumbprint"] == mine  # the same data
    arm.reset_requests()
    kept = release_app_certificate(link)
    assert kept["ok"] and kept["result"] == "unchanged", kept
    assert kept["sharedWith"] == [
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-reports"
    ]
    assert arm.arm_writes() == []

    web.web_apps.delete_vnet_connection("apps-rg", "kubelink-reports", "kube-vnet")  # the other app leaves
    released = release_app_certificate(link)
    assert released["result"] == "updated" and released["sharedWith"] == []


FLEX = "Microsoft.App/environments"


def test_a_flex_consumption_apps_subnet_is_delegated_to_microsoft_app_environments_once(arm: Arm):
    link = regional(app={"name": "kubelink-flex", "subnet": {"name": "flex-subnet", "prefix": "10.240.33.0/27"}})
    created = ensure_app_subnet(link)
    assert created["ok"], created
    (put,) = arm.arm_writes()
    assert put["requestBody"]["properties"]["delegations"] == [
        {"name": "delegation", "properties": {"serviceName": FLEX}}
    ]
    settle(link, "appSubnet")
    connected = connect_app_regional(link)
    assert connected["ok"] and connected["result"] == "created", connected
    app = web_client(SUBSCRIPTION).web_apps.get("apps-rg", "kubelink-flex")
    assert str(app.virtual_network_subnet_id).endswith("/subnets/flex-subnet")
    arm.reset_requests()
    assert ensure_app_subnet(link)["result"] == "unchanged" and connect_app_regional(link)["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_preflight_says_which_delegation_an_existing_subnet_needs_for_flex(arm: Arm):
    from activities.preflight import preflight

    web_subnet = Subnet(
        {
            "properties": {
                "addressPrefix": "10.240.34.0/27",
                "delegations": [{"name": "delegation", "properties": {"serviceName": WEB}}],
            }
        }
    )
    network_client(SUBSCRIPTION).subnets.begin_create_or_update(
        "kube-rg", "kube-vnet", "web-only", web_subnet, polling_interval=0.1
    ).result()
    arm.reset_requests()
    refused = preflight(
        regional(app={"name": "kubelink-flex", "subnet": {"name": "web-only", "prefix": "10.240.34.0/27"}})
    )
    details = {d["field"]: d["message"] for d in refused["error"]["details"]}
    assert f"needs it delegated to {FLEX}" in details["app.subnet.name"] and WEB in details["app.subnet.name"]
    assert arm.arm_writes() == []


def test_route_all_is_turned_on_once_for_a_non_rfc1918_address_and_never_for_a_private_one(arm: Arm):
    from activities.regional import ensure_app_routing

    link = regional()
    private = ensure_app_routing({**link, "value": "10.240.16.25"})
    assert (private["result"], private["changes"]) == ("unchanged", [])
    assert arm.arm_writes() == []
    public = ensure_app_routing({**link, "value": "100.64.0.10"})
    assert public["ok"] and public["result"] == "updated", public
    (patch,) = arm.arm_writes()
    assert (patch["method"], patch["path"].rsplit("/", 2)[-2:]) == ("PATCH", ["config", "web"])
    assert patch["requestBody"] == {"properties": {"vnetRouteAllEnabled": True}}
    site = web_client(SUBSCRIPTION).web_apps.get("apps-rg", "kubelink-demo")
    assert site.outbound_vnet_routing is not None and site.outbound_vnet_routing.application_traffic is True
    arm.reset_requests()
    assert ensure_app_routing({**link, "value": "100.64.0.10"})["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_an_existing_connected_peering_is_adopted_and_only_the_missing_side_is_written(arm: Arm):
    from azure.mgmt.network.models import VirtualNetworkPeering

    from activities.peering import ensure_peerings, observe_peerings

    net = network_client(SUBSCRIPTION)
    apps_vnet = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/apps-rg/providers/Microsoft.Network/virtualNetworks/apps-vnet"
    )
    theirs = VirtualNetworkPeering(
        {
            "properties": {
                "allowVirtualNetworkAccess": True,
                "allowForwardedTraffic": True,
                "remoteVirtualNetwork": {"id": apps_vnet},
            }
        }
    )
    net.virtual_network_peerings.begin_create_or_update(
        "kube-rg", "kube-vnet", "hub-to-apps", theirs, polling_interval=0.1
    ).result()
    arm.reset_requests()
    link = regional(
        app={
            "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
            "subnet": {"name": "apps", "prefix": "10.50.3.0/26"},
        }
    )
    ensured = ensure_peerings(link)
    assert ensured["ok"] and ensured["result"] == "created", ensured
    (put,) = arm.arm_writes()
    assert put["path"].endswith("/virtualNetworks/apps-vnet/virtualNetworkPeerings/kubelink-kube-vnet")
    deadline = time.time() + 10
    while not observe_peerings(link)["connected"]:
        assert time.time() < deadline, observe_peerings(link)
        time.sleep(0.1)
    kept = net.virtual_network_peerings.get("kube-rg", "kube-vnet", "hub-to-apps")
    assert kept.allow_forwarded_traffic is True and kept.peering_state == "Connected"
    arm.reset_requests()
    again = ensure_peerings(link)
    assert (again["result"], again["changes"]) == ("unchanged", [])
    assert arm.arm_writes() == []


def test_an_endpoint_to_a_service_without_auto_approval_is_pending_with_what_the_owner_must_do(arm: Arm):
    """A PLS someone made by hand (no autoApproval): kubelink's endpoint waits for its owner."""
    from activities.private_link import ensure_endpoint_subnet, ensure_private_endpoint, observe_private_endpoint

    link = payload(**PRIVATE_LINK)
    mc = "MC_kube-rg_kube-aks-managed_westeurope"
    pls_id = service_by_hand(arm)
    assert ensure_endpoint_subnet(link)["result"] == "created"
    settle(link, "endpointSubnet")
    created = ensure_private_endpoint({**link, "serviceId": pls_id})
    assert created["ok"] and created["result"] == "created", created
    settle(link, "privateEndpoint")
    state = observe_private_endpoint(link)
    assert (state["status"], state["ip"]) == ("Pending", "10.50.7.4")
    assert "must approve it" in state["message"] and "by-hand" in state["message"]
    assert not [w for w in arm.arm_writes() if mc.lower() in w["path"].lower()]
