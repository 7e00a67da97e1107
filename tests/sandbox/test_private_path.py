"""The private-path rule (``private_path.evaluate``), unit by unit: complete paths pass, each broken part fails."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from local.sandbox.ids import key
from local.sandbox.private_path import (
    Connection,
    Gateway,
    Network,
    Package,
    PathFacts,
    Service,
    evaluate,
    package_is_current,
)

VNET = "/subscriptions/s/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"
POOL = ("172.16.100.0/24",)
CERT = "MIIcert-of-the-app"
GATEWAY = Gateway("guid-1", "Succeeded", "RouteBased", POOL, ("SSTP",), frozenset({CERT, "MIIother"}))
PACKAGE = Package("guid-1", POOL, ("SSTP",), frozenset({CERT}))
SERVICE = Service("default", "orders-internal", "10.240.16.25")
NETWORK = Network(VNET, ("10.240.0.0/16",), gateway=GATEWAY)
VIA_GATEWAY = PathFacts(
    setting="10.240.16.25",
    networks={key(VNET): NETWORK},
    services=(SERVICE,),
    connections=(Connection(VNET, CERT, PACKAGE),),
)
VIA_SUBNET = PathFacts(
    setting="10.240.16.25",
    networks={key(VNET): replace(NETWORK, gateway=None)},
    services=(SERVICE,),
    regional_vnet=VNET,
    regional_delegated=True,
)


def with_gateway(**changes: Any) -> PathFacts:
    return replace(VIA_GATEWAY, networks={key(VNET): replace(NETWORK, gateway=replace(GATEWAY, **changes))})


def with_package(package: Package | None) -> PathFacts:
    return replace(VIA_GATEWAY, connections=(Connection(VNET, CERT, package),))


def test_complete_gateway_path_reaches_the_service() -> None:
    verdict = evaluate(VIA_GATEWAY)
    assert (verdict.ok, verdict.service, verdict.ip) == (True, SERVICE, "10.240.16.25")
    assert "gateway" in verdict.reason


def test_complete_regional_path_reaches_the_service() -> None:
    verdict = evaluate(VIA_SUBNET)
    assert (verdict.ok, verdict.service) == (True, SERVICE)
    assert "regional" in verdict.reason


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (replace(VIA_GATEWAY, setting=None), "setting is empty"),
        (replace(VIA_GATEWAY, setting="10.240.16.26"), "no internal load balancer answers on 10.240.16.26"),
        (replace(VIA_GATEWAY, services=()), "no internal load balancer"),
        (
            replace(VIA_GATEWAY, setting="10.50.0.4", services=(Service("default", "x", "10.50.0.4"),)),
            "outside the address space",
        ),
        (replace(VIA_GATEWAY, connections=()), "not integrated with any virtual network"),
        (replace(VIA_GATEWAY, networks={key(VNET): replace(NETWORK, gateway=None)}), "has no virtual network gateway"),
        (with_gateway(provisioning_state="Updating"), "the gateway is Updating"),
        (with_gateway(provisioning_state="Failed"), "the gateway is Failed"),
        (with_gateway(vpn_type="PolicyBased"), "not route-based"),
        (with_gateway(address_pool=()), "no point-to-site address pool"),
        (with_gateway(address_pool=("10.240.200.0/24",)), "pool overlaps the VNet"),
        (with_gateway(protocols=("IkeV2",)), "SSTP is not enabled"),
        (with_gateway(protocols=("IkeV2", "SSTP")), "IKEv2 is enabled on the VpnGw1AZ gateway"),
        (with_gateway(root_certificates=frozenset({"MIIother"})), "certificate is not a root certificate"),
        (with_package(None), "never given a VPN client package"),
        (with_package(replace(PACKAGE, gateway_guid="guid-0")), "stale"),
        (with_package(replace(PACKAGE, address_pool=("172.16.99.0/24",))), "stale"),
        (with_package(replace(PACKAGE, root_certificates=frozenset({"MIIother"}))), "stale"),
        (with_package(replace(PACKAGE, protocols=("IkeV2",))), "stale"),
        (replace(VIA_GATEWAY, setting="orders.internal"), "does not resolve"),
        (replace(VIA_SUBNET, regional_delegated=False), "not delegated"),
        (replace(VIA_SUBNET, setting="orders.internal"), "does not resolve"),
    ],
)
def test_each_broken_part_breaks_the_path(facts: PathFacts, reason: str) -> None:
    verdict = evaluate(facts)
    assert not verdict.ok
    assert reason in verdict.reason


def test_private_dns_resolves_for_regional_integration() -> None:
    dns = {"orders.internal": "10.240.16.25"}
    facts = replace(
        VIA_SUBNET, setting="Orders.Internal.", networks={key(VNET): replace(NETWORK, gateway=None, dns=dns)}
    )
    assert evaluate(facts).ok


def test_private_dns_over_point_to_site_needs_custom_dns_servers() -> None:
    dns = {"orders.internal": "10.240.16.25"}
    no_custom = replace(VIA_GATEWAY, setting="orders.internal", networks={key(VNET): replace(NETWORK, dns=dns)})
    assert "does not resolve" in evaluate(no_custom).reason
    custom = replace(no_custom, networks={key(VNET): replace(NETWORK, dns=dns, custom_dns=True)})
    assert evaluate(custom).ok


def test_ikev2_beside_sstp_is_fine_on_a_basic_gateway() -> None:
    assert evaluate(with_gateway(protocols=("IkeV2", "SSTP"), sku="Basic")).ok


def test_package_currency_is_what_resync_reports() -> None:
    connection = Connection(VNET, CERT, PACKAGE)
    assert package_is_current(connection, GATEWAY)
    assert not package_is_current(connection, None)
    assert not package_is_current(connection, replace(GATEWAY, address_pool=("172.16.99.0/24",)))
    assert not package_is_current(connection, replace(GATEWAY, root_certificates=frozenset()))
    assert not package_is_current(Connection(VNET, CERT, None), GATEWAY)


def test_a_non_rfc1918_service_address_needs_route_all() -> None:
    public_space = Network(VNET, ("100.64.0.0/16",))
    facts = replace(
        VIA_SUBNET,
        setting="100.64.16.25",
        networks={key(VNET): public_space},
        services=(Service("default", "orders-internal", "100.64.16.25"),),
    )
    verdict = evaluate(facts)
    assert not verdict.ok and "route all" in verdict.reason
    assert evaluate(replace(facts, route_all=True)).ok
