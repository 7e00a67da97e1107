"""Pre-flight: the rules only Azure can answer, checked on observed facts before any write.

Every problem becomes a ``FieldError`` naming the spec field to change, so one run reports them all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kubelink.desired import dig
from kubelink.desired.gateway import LEGACY_SKUS, GatewayState, subnet_prefixes
from kubelink.errors import FieldError
from kubelink.spec import GATEWAY_SUBNET, LinkSpec

#: plan tiers that cannot use VNet integration at all (Windows plans need Basic or higher)
NO_INTEGRATION_TIERS = frozenset({"free", "shared", "dynamic", "flexconsumption"})

SSTP_CLOSED = date(2026, 3, 31)
GATEWAY_INTEGRATION_RETIRED = date(2027, 3, 31)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class PreflightFacts:
    """What pre-flight read from Azure, as REST JSON (None where ARM answered 404)."""

    vnet: Mapping[str, Any] | None
    app: Mapping[str, Any] | None
    plan: Mapping[str, Any] | None
    gateway: GatewayState
    app_vnet_connections: tuple[Mapping[str, Any], ...] = ()

    @property
    def address_space(self) -> tuple[str, ...]:
        return tuple(dig(self.vnet, "properties", "addressSpace", "addressPrefixes") or ())

    @property
    def subnets(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(dig(self.vnet, "properties", "subnets") or ())

    @property
    def gateway_subnet(self) -> Mapping[str, Any] | None:
        return next((s for s in self.subnets if str(s.get("name", "")).lower() == GATEWAY_SUBNET.lower()), None)

    def to_json(self) -> dict[str, Any]:
        """The facts later steps and the user may want; nothing secret is read here."""
        gateway_subnet = self.gateway_subnet
        return {
            "location": dig(self.vnet, "location"),
            "vnetAddressSpace": list(self.address_space),
            "gatewaySubnetExists": gateway_subnet is not None,
            "gatewaySubnetPrefixes": list(subnet_prefixes(gateway_subnet)) if gateway_subnet else [],
            "gatewayExists": self.gateway.exists,
            "gatewaySku": self.gateway.sku,
            "appLocation": dig(self.app, "location"),
            "appPlanTier": dig(self.plan, "sku", "tier"),
        }


def check_preflight(spec: LinkSpec, facts: PreflightFacts) -> tuple[FieldError, ...]:
    problems: list[FieldError] = []
    if facts.vnet is None:
        problems.append(
            FieldError(
                "network.virtualNetwork",
                f"virtual network {spec.network.virtual_network} not found in resource group "
                f"{spec.network.resource_group}",
            )
        )
    else:
        problems += _check_pool(spec, facts)
        problems += _check_gateway_subnet(spec, facts)
    if facts.app is None:
        problems.append(
            FieldError("app.name", f"app {spec.app.name} not found in resource group {spec.app.resource_group}")
        )
    else:
        problems += _check_app(spec, facts)
    problems += _check_gateway(spec, facts.gateway)
    return tuple(problems)


def preflight_warnings(spec: LinkSpec, facts: PreflightFacts, today: date) -> list[str]:
    """Platform retirements (azure-flow §1): reported, not enforced, since Azure has moved such dates before."""
    warnings = []
    if today > SSTP_CLOSED and not _has_sstp(facts.gateway):
        warnings.append(
            f"Azure stopped allowing SSTP to be enabled on VPN gateways on {SSTP_CLOSED:%Y-%m-%d}; enabling it on "
            f"gateway {spec.gateway.name} may be refused"
        )
    verb = "retired" if today > GATEWAY_INTEGRATION_RETIRED else "retires"
    warnings.append(
        f"gateway-required VNet integration {verb} on {GATEWAY_INTEGRATION_RETIRED:%Y-%m-%d}; "
        "plan the move to integration: regional"
    )
    return warnings


def _check_pool(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    pool = spec.gateway.client_address_pool
    if not pool:
        yield FieldError("gateway.clientAddressPool", "required for gateway-required integration")
        return
    for prefix in _overlapping(pool, facts.address_space):
        yield FieldError(
            "gateway.clientAddressPool",
            f"{pool} overlaps the address space {prefix} of virtual network {spec.network.virtual_network}",
        )


def _check_gateway_subnet(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    """An existing GatewaySubnet is kept as is; only a missing one needs a prefix, and it must fit."""
    if facts.gateway_subnet is not None:
        return
    field, prefix = "gateway.gatewaySubnetPrefix", spec.gateway.gateway_subnet_prefix
    vnet = spec.network.virtual_network
    if not prefix:
        yield FieldError(field, f"virtual network {vnet} has no {GATEWAY_SUBNET}: give a prefix for it (/27 advised)")
        return
    wanted = _network(prefix)
    if wanted is None:
        yield FieldError(field, f"{prefix} is not a CIDR prefix")
        return
    if not any(_contains(space, wanted) for space in facts.address_space):
        yield FieldError(
            field, f"{prefix} lies outside the address space {', '.join(facts.address_space)} of virtual network {vnet}"
        )
    for subnet in facts.subnets:
        for other in _overlapping(prefix, subnet_prefixes(subnet)):
            yield FieldError(field, f"{prefix} overlaps subnet {subnet.get('name')} ({other})")


def _check_app(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    app, name = facts.app, spec.app.name
    kind = str(dig(app, "kind") or "").lower()
    if dig(app, "properties", "reserved") or "linux" in kind:
        yield FieldError(
            "app.name",
            f"app {name} runs on Linux; gateway-required VNet integration works only for Windows apps "
            "(use integration: regional)",
        )
    elif "container" in kind or dig(app, "properties", "isXenon") or dig(app, "properties", "hyperV"):
        yield FieldError(
            "app.name",
            f"app {name} is a Windows container app; gateway-required VNet integration does not support containers",
        )
    tier = dig(facts.plan, "sku", "tier")
    if tier and str(tier).lower() in NO_INTEGRATION_TIERS:
        yield FieldError(
            "app.name",
            f"app {name} runs on a {tier} plan, which cannot use VNet integration; scale the plan to Basic or higher",
        )
    vnet = spec.network.virtual_network.lower()
    for connection in facts.app_vnet_connections:
        other = str(connection.get("name", ""))
        if other.lower() != vnet and not dig(connection, "properties", "isSwift"):
            yield FieldError(
                "network.virtualNetwork",
                f"app {name} is already connected to virtual network {other} through a gateway; an app connects to "
                "one virtual network that way (disconnect it first)",
            )


def _check_gateway(spec: LinkSpec, gateway: GatewayState) -> Iterator[FieldError]:
    sku, gw = spec.gateway.sku, spec.gateway.name
    if not gateway.exists:
        if sku in LEGACY_SKUS:
            yield FieldError(
                "gateway.sku", f"{sku} can no longer be created; use {sku}AZ (a legacy SKU only adopts a gateway)"
            )
        return
    props = dig(gateway.body, "properties") or {}
    if str(props.get("gatewayType", "")).lower() != "vpn":
        yield FieldError("gateway.name", f"gateway {gw} is a {props.get('gatewayType')} gateway, not a VPN gateway")
    if str(props.get("vpnType", "")).lower() != "routebased":
        yield FieldError(
            "gateway.name", f"gateway {gw} is {props.get('vpnType')}; gateway-required integration needs RouteBased"
        )
    have = gateway.sku or ""
    if _sku_family(have) != _sku_family(sku):
        yield FieldError(
            "gateway.sku",
            f"gateway {gw} exists with SKU {have}, which cannot be resized to {sku}; "
            f"set gateway.sku to {have} to adopt it",
        )


def _sku_family(sku: str) -> str:
    """Resizing works within a family only: Basic, legacy VpnGwN, or the zone-redundant VpnGwNAZ."""
    if sku.lower() == "basic":
        return "basic"
    return "az" if sku.lower().endswith("az") else "legacy"


def _has_sstp(gateway: GatewayState) -> bool:
    protocols = dig(gateway.body, "properties", "vpnClientConfiguration", "vpnClientProtocols") or []
    return any(str(p).upper() == "SSTP" for p in protocols)


def _network(prefix: str) -> Network | None:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None


def _contains(space: str, wanted: Network) -> bool:
    outer = _network(space)
    return outer is not None and outer.version == wanted.version and wanted.subnet_of(outer)  # type: ignore[arg-type]


def _overlapping(prefix: str, others: Iterable[str]) -> Iterator[str]:
    """The prefixes among ``others`` that share an address with ``prefix`` (same IP version only)."""
    mine = _network(prefix)
    if mine is None:
        return
    for other in others:
        theirs = _network(other)
        if theirs is not None and theirs.version == mine.version and mine.overlaps(theirs):
            yield other
