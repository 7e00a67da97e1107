"""Regional integration and leaving the gateway: delegated subnet, regional connection, released certificate (pure)."""

from __future__ import annotations

import base64

from kubelink.desired.gateway import GatewayState
from kubelink.desired.regional import (
    AppSubnetState,
    RegionalState,
    app_subnet_body,
    diff_app_subnet,
    diff_regional_connection,
    diff_released_certificate,
    gateway_without_certificate,
    releases_gateway,
)
from tests.activities.specs import link_spec

SPEC = link_spec(integration="regional", app={"subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"}})
NSG = {"id": "/subscriptions/x/resourceGroups/kube-rg/providers/Microsoft.Network/networkSecurityGroups/nsg"}


def adopted(*services: str) -> AppSubnetState:
    """A subnet someone made: an NSG, a route table, and their own delegations."""
    return AppSubnetState(
        {
            "name": "app-subnet",
            "properties": {
                "addressPrefix": "10.240.32.0/27",
                "provisioningState": "Succeeded",
                "networkSecurityGroup": NSG,
                "routeTable": {"id": "/subscriptions/x/rt"},
                "delegations": [
                    {"name": f"d{i}", "properties": {"serviceName": service}} for i, service in enumerate(services)
                ],
            },
        }
    )


def test_a_missing_subnet_is_created_delegated_to_app_service():
    missing = AppSubnetState(None)
    assert [(i.field_text, i.new) for i in diff_app_subnet(SPEC, missing)] == [
        ("properties.addressPrefix", "10.240.32.0/27"),
        ("properties.delegations[Microsoft.Web/serverFarms]", "Microsoft.Web/serverFarms"),
    ]
    assert app_subnet_body(SPEC, missing) == {
        "name": "app-subnet",
        "properties": {
            "addressPrefix": "10.240.32.0/27",
            "delegations": [{"name": "delegation", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}],
        },
    }


def test_an_adopted_subnet_gains_the_delegation_and_loses_nothing():
    state = adopted("Microsoft.ContainerInstance/containerGroups")
    (item,) = diff_app_subnet(SPEC, state)
    assert item.field_text == "properties.delegations[Microsoft.Web/serverFarms]"
    body = app_subnet_body(SPEC, state)
    props = body["properties"]
    assert props["networkSecurityGroup"] == NSG and props["routeTable"] == {"id": "/subscriptions/x/rt"}
    assert [d["properties"]["serviceName"] for d in props["delegations"]] == [
        "Microsoft.ContainerInstance/containerGroups",
        "Microsoft.Web/serverFarms",
    ]
    assert state.body is not None and len(state.body["properties"]["delegations"]) == 1  # the observed state is intact


def test_a_delegated_subnet_is_converged_unless_its_last_operation_failed():
    assert diff_app_subnet(SPEC, adopted("microsoft.web/serverfarms")) == ()
    failed = AppSubnetState({"name": "app-subnet", "properties": {"provisioningState": "Failed"}})
    assert [i.field_text for i in diff_app_subnet(SPEC, failed)] == [
        "properties.delegations[Microsoft.Web/serverFarms]",
        "properties.provisioningState",
    ]


def test_the_regional_connection_names_the_subnet_and_replaces_a_gateway_connection():
    assert SPEC.app_subnet_id is not None
    connected = RegionalState.from_arm({"properties": {"subnetResourceId": SPEC.app_subnet_id.upper()}}, None)
    assert diff_regional_connection(SPEC, connected) == ()
    moving = RegionalState.from_arm({"properties": {"subnetResourceId": None}}, {"name": "kube-vnet"})
    assert [(i.op, i.field_text) for i in diff_regional_connection(SPEC, moving)] == [
        ("add", "properties.subnetResourceId"),
        ("remove", "virtualNetworkConnections[kube-vnet]"),
    ]


def test_only_kubelinks_certificate_for_the_app_is_released():
    def cert(name: str, der: bytes) -> dict:
        return {"name": name, "properties": {"publicCertData": base64.b64encode(der).decode()}}

    gateway = GatewayState.from_arm(
        {
            "properties": {
                "vpnClientConfiguration": {
                    "vpnClientRootCertificates": [cert("kubelink-kubelink-demo", b"app"), cert("theirs", b"other")]
                }
            }
        }
    )
    (item,) = diff_released_certificate(SPEC, gateway)
    assert (item.op, item.new) == ("remove", None)
    assert item.field_text.endswith("vpnClientRootCertificates[kubelink-kubelink-demo]")
    body = gateway_without_certificate(SPEC, gateway)
    assert [c["name"] for c in body["properties"]["vpnClientConfiguration"]["vpnClientRootCertificates"]] == ["theirs"]
    released = GatewayState.from_arm(body)
    assert diff_released_certificate(SPEC, released) == ()
    assert diff_released_certificate(SPEC, GatewayState.from_arm(None)) == ()


def test_a_regional_link_cleans_up_after_the_gateway_only_when_it_has_or_had_one():
    fresh = link_spec(integration="regional", gateway=None, app={"subnet": {"name": "s", "prefix": "10.240.32.0/27"}})
    assert not releases_gateway(fresh, app_gateway_connection=False)
    assert releases_gateway(fresh, app_gateway_connection=True)  # still connected through a gateway
    assert releases_gateway(SPEC, app_gateway_connection=False)  # the re-submitted body keeps its gateway section
    assert not releases_gateway(link_spec(), app_gateway_connection=True)  # the gateway path keeps its gateway


def test_route_all_is_wanted_only_outside_rfc1918_and_never_turned_off() -> None:
    from kubelink.desired.regional import RoutingState, diff_app_routing, needs_route_all

    assert [
        needs_route_all(a) for a in ("10.1.2.3", "172.31.0.1", "192.168.9.9", "100.64.0.10", "orders.internal")
    ] == [
        False,
        False,
        False,
        True,
        False,
    ]
    off = RoutingState.from_arm({"properties": {"outboundVnetRouting": {"applicationTraffic": False}}}, None)
    (item,) = diff_app_routing("100.64.0.10", off)
    assert (item.field_text, item.old, item.new) == ("properties.outboundVnetRouting.applicationTraffic", False, True)
    legacy_on = RoutingState.from_arm(None, {"properties": {"vnetRouteAllEnabled": True}})
    assert diff_app_routing("100.64.0.10", legacy_on) == ()
    assert diff_app_routing("10.240.16.25", off) == ()
