"""The regional path's activities against the sandbox: delegated subnet, regional connection, released certificate.

Each writes only what differs: a second run writes nothing.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.network.models import Subnet, VirtualNetworkGateway

from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.regional import connect_app_regional, ensure_app_subnet, release_app_certificate
from activities.vnet_integration import ensure_app_vnet_connection
from adapters.clients import network_client, web_client
from tests.activities.helpers import Arm, root_certificate, settle
from tests.activities.specs import SUBSCRIPTION, payload

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
        "provisioningState": "Succeeded",
    }
    link = make_gateway(arm)
    arm.inject(pathPattern="virtualNetworkGateways/kube-vnet-gw$", lroSeconds=30)
    gateways = network_client(SUBSCRIPTION).virtual_network_gateways
    gateways.begin_create_or_update("kube-rg", "kube-vnet-gw", gateways.get("kube-rg", "kube-vnet-gw"), polling=False)
    arm.reset_requests()  # someone else's update runs
    busy = release_app_certificate(link)
    assert (busy["result"], busy["provisioningState"]) == ("busy", "Updating")
    assert arm.arm_writes() == []
