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
        "appGatewayConnection": False,
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
    # (the example pins loadBalancerIP 10.240.16.25, which validation already keeps out of the GatewaySubnet)
    overlapping = link_spec(gateway={"gatewaySubnetPrefix": "10.240.16.0/27"}, kubernetes={"loadBalancerIP": None})
    found = problems(overlapping)
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


def test_retirement_dates_are_warnings_of_the_gateway_path_only():
    before = preflight_warnings(link_spec(), facts(), date(2026, 1, 1))
    assert "stops allowing SSTP to be enabled on VPN gateways on 2026-03-31" in before[0]
    assert "retires on 2027-03-31" in before[1]
    after = preflight_warnings(link_spec(), facts(), date(2026, 11, 30))
    assert "stopped allowing SSTP" in after[0] and "may be refused" in after[0]
    assert preflight_warnings(REGIONAL, facts(gateway=None), date(2026, 11, 30)) == []


def test_an_existing_sstp_gateway_keeps_working_with_the_same_warning():
    sstp = GatewayState.from_arm({"properties": {"vpnClientConfiguration": {"vpnClientProtocols": ["SSTP"]}}})
    sstp_warning, retirement = preflight_warnings(link_spec(), facts(gateway=sstp), date(2026, 11, 30))
    assert "gateway kube-vnet-gw uses SSTP" in sstp_warning and "2026-03-31" in sstp_warning
    assert "2027-03-31" in sstp_warning and "2027-03-31" in retirement


# --- the regional path ---------------------------------------------------------------------------------

REGIONAL = link_spec(integration="regional", app={"subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"}})
LINUX_APP = {"kind": "app,linux", "properties": {"reserved": True}}


def regional(**changes: object) -> dict[str, list[str]]:
    return problems(REGIONAL, **{"gateway": None, **changes})


def test_regional_reads_no_gateway_and_allows_linux_and_containers():
    assert regional() == {}
    assert regional(app=LINUX_APP) == {}
    assert regional(app={"kind": "app,container,windows", "properties": {"isXenon": True}}) == {}
    assert facts(gateway=None).to_json()["gatewayExists"] is None


def test_tiers_without_integration_are_refused_on_both_paths_and_the_gateway_path_points_to_regional():
    free = {"sku": {"name": "F1", "tier": "Free"}}
    assert "Basic or higher" in regional(plan=free)["app.name"][0]
    assert "integration: regional" in problems(plan=free)["app.name"][0]
    flex = {"sku": {"name": "FC1", "tier": "FlexConsumption"}}
    assert regional(plan=flex) == {}
    assert "supports only regional" in problems(plan=flex)["app.name"][0]


def test_linux_and_container_apps_on_the_gateway_path_point_to_regional():
    assert "use integration: regional" in problems(app=LINUX_APP)["app.name"][0]
    container = problems(app={"kind": "app,container,windows", "properties": {"isXenon": True}})
    assert "use integration: regional" in container["app.name"][0]


def test_a_new_app_subnet_must_fit_the_vnet():
    outside = link_spec(integration="regional", app={"subnet": {"name": "app-subnet", "prefix": "10.250.0.0/27"}})
    assert "outside the address space" in problems(outside, gateway=None)["app.subnet.prefix"][0]
    overlapping = link_spec(integration="regional", app={"subnet": {"name": "app-subnet", "prefix": "10.240.16.0/28"}})
    assert problems(overlapping, gateway=None) == {
        "app.subnet.prefix": ["10.240.16.0/28 overlaps subnet ilb-subnet (10.240.16.0/24)"]
    }


def test_an_existing_app_subnet_is_adopted_with_its_prefix_when_nothing_else_uses_it():
    assert regional(vnet=with_subnet("app-subnet", "10.240.32.0/27")) == {}  # same subnet: no overlap with itself
    resized = regional(vnet=with_subnet("App-Subnet", "10.240.32.0/26"))
    assert resized == {
        "app.subnet.prefix": [
            "subnet app-subnet exists with prefix 10.240.32.0/26; set app.subnet.prefix to it to adopt the subnet "
            "(a subnet's range can't change while something uses it)"
        ]
    }
    used = with_subnet("app-subnet", "10.240.32.0/27")
    used["properties"]["subnets"][-1]["properties"]["ipConfigurations"] = [{"id": "/subscriptions/x/nic/ipconfig1"}]
    assert "needs a subnet of its own" in regional(vnet=used)["app.subnet.name"][0]


def test_regional_adds_to_an_app_connected_through_a_gateway_only_to_the_same_vnet():
    same = {"name": "kube-vnet", "properties": {"isSwift": False}}
    assert regional(app_vnet_connections=(same,)) == {}
    named_vnet = {**VNET, "name": "kube-vnet"}
    assert facts(vnet=named_vnet, app_vnet_connections=(same,)).to_json()["appGatewayConnection"] is True
    other = {"name": "legacy-vnet", "properties": {"isSwift": False}}
    assert (
        "Azure adds regional integration only" in regional(app_vnet_connections=(other,))["network.virtualNetwork"][0]
    )


def test_dns_over_the_gateway_needs_the_vnets_own_dns_servers():
    with_dns = link_spec(dns={"zone": "kubelink.internal", "record": "orders"})
    assert "not reachable over point-to-site" in problems(with_dns)["dns"][0]
    custom = {**VNET, "properties": {**VNET["properties"], "dhcpOptions": {"dnsServers": ["10.240.0.4"]}}}
    assert problems(with_dns, vnet=custom) == {}
    assert (
        problems(
            link_spec(integration="regional", app=REGIONAL.to_json()["app"], dns=with_dns.to_json()["dns"]),
            gateway=None,
        )
        == {}
    )


# --- point-to-site: SSTP can no longer be enabled; an adopted gateway is merged, never rewritten --------------


def sstp_gateway(sku: str = "VpnGw1AZ", **p2s: object) -> GatewayState:
    config = {"vpnClientProtocols": ["SSTP"], "vpnAuthenticationTypes": ["Certificate"], **p2s}
    return GatewayState.from_arm(
        {
            "properties": {
                "provisioningState": "Succeeded",
                "gatewayType": "Vpn",
                "vpnType": "RouteBased",
                "sku": {"name": sku, "tier": sku},
                "vpnClientConfiguration": config,
            }
        }
    )


def test_a_new_sstp_configuration_is_refused_with_the_dates_unless_asked_for():
    without = link_spec(gateway={"allowNewSstp": None})
    found = problems(without)
    (message,) = found["gateway.allowNewSstp"]
    assert "2026-03-31" in message and "2027-03-31" in message and "integration: regional" in message
    assert problems(link_spec(gateway={"allowNewSstp": True})) == {}
    basic_ikev2 = sstp_gateway("Basic", vpnClientProtocols=["IkeV2"])  # adding SSTP is enabling it too
    assert "gateway.allowNewSstp" in problems(
        link_spec(gateway={"allowNewSstp": None, "sku": "Basic"}), gateway=basic_ikev2
    )


def test_an_existing_sstp_gateway_is_adopted_without_the_opt_in():
    assert problems(link_spec(gateway={"allowNewSstp": None}), gateway=sstp_gateway()) == {}


def test_a_gateway_whose_other_users_would_lose_something_is_refused_naming_them():
    theirs = sstp_gateway(
        vpnClientProtocols=["IkeV2", "OpenVPN"],
        vpnClientAddressPool={"addressPrefixes": ["192.168.7.0/24"]},
        vpnClientRootCertificates=[{"name": "ops-root", "properties": {"publicCertData": "AAAA"}}],
    )
    found = problems(link_spec(gateway={"allowNewSstp": True}), gateway=theirs)
    (message,) = found["gateway.allowPointToSiteTakeover"]
    assert "IKEv2 clients" in message and "OpenVPN clients" in message
    assert "root certificate ops-root" in message and "client pool 192.168.7.0/24" in message
    allowed = link_spec(gateway={"allowNewSstp": True, "allowPointToSiteTakeover": True})
    assert problems(allowed, gateway=theirs) == {}


def test_a_managed_resource_group_among_those_written_is_refused_and_others_are_not() -> None:
    owner = "/subscriptions/s/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/k"
    base = f"/subscriptions/{link_spec().subscription_id}/resourcegroups/"
    groups = {base + "kube-rg": {"name": "kube-rg", "managedBy": owner}, base + "apps-rg": {"name": "apps-rg"}}
    found = problems(groups=groups)
    assert list(found) == ["network.resourceGroup"]
    assert "kube-rg is managed by " + owner in found["network.resourceGroup"][0]
    assert "integration: privateLink" in found["network.resourceGroup"][0]
    assert problems(groups={base + "kube-rg": {"name": "kube-rg"}, base + "apps-rg": None}) == {}


def test_an_explicit_opt_in_lets_the_run_write_into_the_named_managed_group_only() -> None:
    owner = "/subscriptions/s/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/k"
    base = f"/subscriptions/{link_spec().subscription_id}/resourcegroups/"
    groups = {base + "kube-rg": {"managedBy": owner}, base + "apps-rg": {"managedBy": owner}}
    opted = link_spec(allowManagedResourceGroups=["KUBE-RG"])
    assert list(problems(opted, groups=groups)) == ["app.resourceGroup"]
