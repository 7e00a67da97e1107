"""Pre-flight rules on observed facts (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

from kubelink.desired.gateway import GatewayState
from kubelink.desired.preflight import PreflightFacts, check_preflight, preflight_warnings
from tests.activities.specs import link_spec

VNET: dict[str, Any] = {
    "location": "westeurope",
    "properties": {
        "addressSpace": {"addressPrefixes": ["10.240.0.0/16"]},
        "subnets": [
            {"name": "aks-subnet", "properties": {"addressPrefix": "10.240.0.0/20"}},
            {"name": "ilb-subnet", "properties": {"addressPrefix": "10.240.16.0/24"}},
        ],
    },
}
WINDOWS_APP = {"kind": "app", "location": "westeurope", "properties": {"reserved": False}}
STANDARD_PLAN = {"sku": {"name": "S1", "tier": "Standard"}}
NO_GATEWAY = GatewayState.from_arm(None)


def facts(**changes: object) -> PreflightFacts:
    base: dict = {"vnet": VNET, "app": WINDOWS_APP, "plan": STANDARD_PLAN, "gateway": NO_GATEWAY}
    return PreflightFacts(**{**base, **changes})


def problems(spec=None, **changes: object) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in check_preflight(spec or link_spec(), facts(**changes)):
        found.setdefault(error.field, []).append(error.message)
    return found


def with_subnet(name: str, prefix: str) -> dict:
    subnets = [*VNET["properties"]["subnets"], {"name": name, "properties": {"addressPrefix": prefix}}]
    return {**VNET, "properties": {**VNET["properties"], "subnets": subnets}}


def test_the_seeded_world_passes_and_reports_its_facts():
    assert problems() == {}
    assert facts().to_json() == {
        "location": "westeurope",
        "vnetAddressSpace": ["10.240.0.0/16"],
        "gatewaySubnetExists": False,
        "gatewaySubnetPrefixes": [],
        "gatewayExists": False,
        "gatewaySku": None,
        "appLocation": "westeurope",
        "appPlanTier": "Standard",
    }


def test_missing_vnet_and_app_are_both_reported():
    found = problems(vnet=None, app=None, plan=None)
    assert "kube-vnet not found" in found["network.virtualNetwork"][0]
    assert "kubelink-demo not found" in found["app.name"][0]


def test_pool_overlapping_the_vnet_is_refused():
    found = problems(link_spec(gateway={"clientAddressPool": "10.240.128.0/24"}))
    assert found == {
        "gateway.clientAddressPool": [
            "10.240.128.0/24 overlaps the address space 10.240.0.0/16 of virtual network kube-vnet"
        ]
    }


def test_gateway_subnet_prefix_must_lie_inside_the_vnet_and_miss_other_subnets():
    assert (
        "outside the address space"
        in problems(link_spec(gateway={"gatewaySubnetPrefix": "10.250.0.0/27"}))["gateway.gatewaySubnetPrefix"][0]
    )
    found = problems(link_spec(gateway={"gatewaySubnetPrefix": "10.240.16.0/27"}))
    assert found == {"gateway.gatewaySubnetPrefix": ["10.240.16.0/27 overlaps subnet ilb-subnet (10.240.16.0/24)"]}
    assert (
        "has no GatewaySubnet"
        in problems(link_spec(gateway={"gatewaySubnetPrefix": None}))["gateway.gatewaySubnetPrefix"][0]
    )


def test_existing_gateway_subnet_is_kept_and_needs_no_prefix():
    vnet = with_subnet("GatewaySubnet", "10.240.17.0/27")
    assert problems(link_spec(gateway={"gatewaySubnetPrefix": None}), vnet=vnet) == {}
    assert facts(vnet=vnet).to_json()["gatewaySubnetPrefixes"] == ["10.240.17.0/27"]


def test_linux_container_and_free_apps_are_refused():
    linux = problems(app={"kind": "app,linux", "properties": {"reserved": True}})
    assert "runs on Linux" in linux["app.name"][0]
    container = problems(app={"kind": "app,container,windows", "properties": {"isXenon": True}})
    assert "Windows container" in container["app.name"][0]
    free = problems(plan={"sku": {"name": "F1", "tier": "Free"}})
    assert "Free plan" in free["app.name"][0]


def test_app_already_connected_to_another_vnet_through_a_gateway_is_refused():
    other = {"name": "legacy-vnet", "properties": {"isSwift": False}}
    regional = {"name": "swift", "properties": {"isSwift": True}}
    same = {"name": "kube-vnet", "properties": {}}
    assert "legacy-vnet" in problems(app_vnet_connections=(other,))["network.virtualNetwork"][0]
    assert problems(app_vnet_connections=(regional, same)) == {}


def test_legacy_sku_only_adopts_and_an_adopted_gateway_must_be_a_route_based_vpn_of_the_same_family():
    legacy = link_spec(gateway={"sku": "VpnGw1"})
    assert "can no longer be created" in problems(legacy)["gateway.sku"][0]
    gateway = GatewayState.from_arm(
        {"properties": {"gatewayType": "Vpn", "vpnType": "RouteBased", "sku": {"name": "VpnGw1"}}}
    )
    assert problems(legacy, gateway=gateway) == {}
    assert "set gateway.sku to VpnGw1" in problems(gateway=gateway)["gateway.sku"][0]
    policy = GatewayState.from_arm(
        {"properties": {"gatewayType": "ExpressRoute", "vpnType": "PolicyBased", "sku": {"name": "VpnGw1AZ"}}}
    )
    assert len(problems(gateway=policy)["gateway.name"]) == 2


def test_retirement_dates_are_warnings():
    before = preflight_warnings(link_spec(), facts(), date(2026, 1, 1))
    assert len(before) == 1 and "retires on 2027-03-31" in before[0]
    after = preflight_warnings(link_spec(), facts(), date(2026, 11, 30))
    assert any("SSTP" in w for w in after)
