"""Pre-flight: the rules only Azure can answer, checked on observed facts before any write.

Every problem becomes a ``FieldError`` naming the spec field to change, so one run reports them all. Each
integration path has its own rules: what the gateway-required path can't do points to ``regional``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from kubelink.desired import dig
from kubelink.desired.gateway import GatewayState, merge_point_to_site, point_to_site_refusal, subnet_prefixes
from kubelink.desired.peering import overlaps
from kubelink.desired.regional import APP_SERVICE_DELEGATIONS, delegation_for
from kubelink.errors import FieldError
from kubelink.names import GATEWAY_SUBNET, LEGACY_GATEWAY_SKUS

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

#: plan tiers without VNet integration of either kind (App Service needs Basic or higher; Consumption has none)
NO_INTEGRATION_TIERS = frozenset({"free", "shared", "dynamic"})
#: ... and without gateway-required integration (Flex Consumption integrates regionally only)
NO_GATEWAY_INTEGRATION_TIERS = NO_INTEGRATION_TIERS | {"flexconsumption"}

SSTP_CLOSED = date(2026, 3, 31)
GATEWAY_INTEGRATION_RETIRED = date(2027, 3, 31)
#: what kubelink adds to a refusal of the gateway path, wherever it comes from (pre-flight or Azure)
REGIONAL_POINTER = (
    f"kubelink: gateway-required integration needs a VPN gateway with SSTP point-to-site, which Azure stopped "
    f"letting anyone enable on {SSTP_CLOSED:%Y-%m-%d} and retires with the integration on "
    f"{GATEWAY_INTEGRATION_RETIRED:%Y-%m-%d}; integration: regional needs no gateway "
    '(README "Which integration path?")'
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class PreflightFacts:
    """What pre-flight read from Azure, as REST JSON (None where ARM answered 404). ``gateway`` is None on the
    regional path, which reads no gateway."""

    vnet: Mapping[str, Any] | None
    app: Mapping[str, Any] | None
    plan: Mapping[str, Any] | None
    gateway: GatewayState | None
    app_vnet_connections: tuple[Mapping[str, Any], ...] = ()
    #: the resource groups the run would write into (``written_groups``), by lower-cased id; None where 404
    groups: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    #: the app's own VNet (``app.virtualNetwork``), None where 404 or not given
    app_vnet: Mapping[str, Any] | None = None

    @property
    def address_space(self) -> tuple[str, ...]:
        return tuple(dig(self.vnet, "properties", "addressSpace", "addressPrefixes") or ())

    @property
    def subnets(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(dig(self.vnet, "properties", "subnets") or ())

    def subnet(self, name: str) -> Mapping[str, Any] | None:
        return next((s for s in self.subnets if str(s.get("name", "")).lower() == name.lower()), None)

    def gateway_connection(self, vnet: str) -> Mapping[str, Any] | None:
        """The app's gateway-required connection to ``vnet`` (regional ones are listed too, as ``isSwift``)."""
        return next(
            (
                c
                for c in self.app_vnet_connections
                if str(c.get("name", "")).lower() == vnet.lower() and not dig(c, "properties", "isSwift")
            ),
            None,
        )

    def to_json(self) -> dict[str, Any]:
        """The facts later steps and the user may want; nothing secret is read here."""
        gateway_subnet = self.subnet(GATEWAY_SUBNET)
        gateway = self.gateway
        vnet = dig(self.vnet, "name")
        return {
            "location": dig(self.vnet, "location"),
            "vnetAddressSpace": list(self.address_space),
            "gatewaySubnetExists": gateway_subnet is not None,
            "gatewaySubnetPrefixes": list(subnet_prefixes(gateway_subnet)) if gateway_subnet else [],
            "gatewayExists": gateway.exists if gateway else None,
            "gatewaySku": gateway.sku if gateway else None,
            "appLocation": dig(self.app, "location"),
            "appPlanTier": dig(self.plan, "sku", "tier"),
            "appGatewayConnection": bool(vnet and self.gateway_connection(vnet)),
        }


MANAGED_GROUP_CODE = "ManagedResourceGroup"


def written_groups(spec: LinkSpec) -> tuple[tuple[str, str], ...]:
    """``(spec field, resource group id)`` for every group a run writes into: the VNet's (subnets, gateway, public
    IP, DNS zone, a peering), the app's (its settings and VNet integration) and the app's own VNet's."""
    subscription = f"/subscriptions/{spec.subscription_id}/resourceGroups/"
    candidates = [("app.resourceGroup", subscription + spec.app.resource_group)]
    if spec.integration != "privateLink":  # that path only reads the cluster's side: AKS writes the PLS there
        candidates.insert(0, ("network.resourceGroup", subscription + spec.network.resource_group))
    own = spec.app.virtual_network
    if own is not None:
        where = f"/subscriptions/{own.subscription_id or spec.subscription_id}/resourceGroups/{own.resource_group}"
        candidates.append(("app.virtualNetwork.resourceGroup", where))
    found: dict[str, tuple[str, str]] = {}
    for path, group_id in candidates:
        found.setdefault(group_id.lower(), (path, group_id))
    return tuple(found.values())


def check_managed_groups(spec: LinkSpec, facts: PreflightFacts) -> tuple[FieldError, ...]:
    """A group managed by something else (``managedBy``, e.g. AKS's node resource group ``MC_…``) is not kubelink's
    to write into: AKS calls modifying its resources unsupported, and may deny it outright (AKS FAQ,
    node-resource-group-lockdown.md). The supported way into such a cluster is a Private Link Service."""
    problems = []
    allowed = {g.lower() for g in spec.allow_managed_resource_groups}
    for path, group_id in written_groups(spec):
        owner = dig(facts.groups.get(group_id.lower()), "managedBy")
        group = group_id.rsplit("/", 1)[-1]
        if owner and group.lower() not in allowed:
            problems.append(
                FieldError(
                    path,
                    f"resource group {group} is managed by {owner}; kubelink does not write "
                    "into a managed resource group (modifying AKS's node resource group is unsupported). Use "
                    "integration: privateLink, which reaches the cluster through a Private Link Service and writes "
                    f"only into the app's own virtual network (or, at your own risk, list {group} in "
                    "allowManagedResourceGroups; Azure's own deny assignment, where there is one, still refuses)",
                )
            )
    return tuple(problems)


def check_preflight(spec: LinkSpec, facts: PreflightFacts) -> tuple[FieldError, ...]:
    problems: list[FieldError] = list(check_managed_groups(spec, facts))
    if facts.vnet is None:
        problems.append(
            FieldError(
                "network.virtualNetwork",
                f"virtual network {spec.network.virtual_network} not found in resource group "
                f"{spec.network.resource_group}",
            )
        )
    elif spec.integration == "gateway":
        problems += _check_pool(spec, facts)
        problems += _check_gateway_subnet(spec, facts)
        problems += _check_dns_over_gateway(spec, facts)
    elif spec.app.virtual_network is not None:
        problems += _check_app_vnet(spec, facts)
    else:
        problems += _check_app_subnet(spec, facts)
    if facts.app is None:
        problems.append(
            FieldError("app.name", f"app {spec.app.name} not found in resource group {spec.app.resource_group}")
        )
    else:
        problems += _check_app(spec, facts)
    if facts.gateway is not None:
        problems += _check_gateway(spec, facts.gateway)
        if spec.integration == "gateway":
            problems += _check_point_to_site(spec, facts.gateway)
    return tuple(problems)


def sstp_refusal(spec: LinkSpec) -> str:
    """Why a new SSTP point-to-site configuration is refused: the dates, and the way out."""
    return (
        f"gateway {spec.gateway.name} would need SSTP point-to-site enabled (a new gateway, or one without SSTP), and "
        f"Azure's documents say SSTP can no longer be enabled on VPN gateways since {SSTP_CLOSED:%Y-%m-%d}; "
        f"gateway-required integration itself retires on {GATEWAY_INTEGRATION_RETIRED:%Y-%m-%d}. Nothing was "
        "written. Use integration: regional (no gateway), adopt a gateway that already has SSTP, or set "
        "gateway.allowNewSstp: true to try anyway"
    )


def _check_point_to_site(spec: LinkSpec, gateway: GatewayState) -> Iterator[FieldError]:
    """What the gateway write would do to point-to-site (``merge_point_to_site``), refused unless opted into."""
    merge = merge_point_to_site(spec, gateway)
    if merge.enables_sstp and not spec.gateway.allow_new_sstp:
        yield FieldError("gateway.allowNewSstp", sstp_refusal(spec))
    if refusal := point_to_site_refusal(spec, merge):
        yield FieldError("gateway.allowPointToSiteTakeover", refusal)


def preflight_warnings(spec: LinkSpec, facts: PreflightFacts, today: date) -> list[str]:
    """Platform retirements of the gateway path (docs/azure.md §1): reported, not enforced, since Azure's answer after
    the dates is unconfirmed and Azure has moved such dates before. An existing SSTP gateway gets them too."""
    if spec.integration != "gateway":
        return []
    gateway, closed, retired = spec.gateway.name, f"{SSTP_CLOSED:%Y-%m-%d}", f"{GATEWAY_INTEGRATION_RETIRED:%Y-%m-%d}"
    if facts.gateway is not None and _has_sstp(facts.gateway):
        sstp = (
            f"gateway {gateway} uses SSTP, which Azure stopped letting anyone enable on VPN gateways on {closed}; "
            f"existing SSTP connections stop on {retired}"
        )
    else:
        verb = "stopped" if today > SSTP_CLOSED else "stops"
        sstp = (
            f"Azure {verb} allowing SSTP to be enabled on VPN gateways on {closed}; "
            f"enabling it on gateway {gateway} may be refused"
        )
    verb = "retired" if today > GATEWAY_INTEGRATION_RETIRED else "retires"
    return [sstp, f"gateway-required VNet integration {verb} on {retired}; plan the move to integration: regional"]


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
    if facts.subnet(GATEWAY_SUBNET) is not None:
        return
    field, prefix = "gateway.gatewaySubnetPrefix", spec.gateway.gateway_subnet_prefix
    vnet = spec.network.virtual_network
    if not prefix:
        yield FieldError(field, f"virtual network {vnet} has no {GATEWAY_SUBNET}: give a prefix for it (/27 advised)")
        return
    yield from _check_new_subnet(field, prefix, facts, vnet)


def _check_new_subnet(field: str, prefix: str, facts: PreflightFacts, vnet: str) -> Iterator[FieldError]:
    """A subnet to be created must lie inside the VNet's address space and overlap no other subnet."""
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


def _check_dns_over_gateway(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    """Over point-to-site the app resolves names through the VNet's own DNS servers (docs/azure.md §12)."""
    if spec.dns and not dig(facts.vnet, "properties", "dhcpOptions", "dnsServers"):
        yield FieldError(
            "dns",
            f"with integration: gateway the app resolves names through the DNS servers of virtual network "
            f"{spec.network.virtual_network}, and it has none: Azure DNS (168.63.129.16), which answers for private "
            "zones, is not reachable over point-to-site. Use integration: regional (private zones resolve natively), "
            "or give the VNet DNS servers that forward to Azure DNS",
        )


def _check_app_vnet(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    """The app's own VNet: it exists, is in the app's region (regional integration needs that), and its address
    space overlaps none of the cluster VNet's (peering refuses overlaps); the app's subnet is then checked in it."""
    own = spec.app.virtual_network
    assert own is not None, "only a link with app.virtualNetwork"
    if facts.app_vnet is None:
        yield FieldError(
            "app.virtualNetwork.name", f"virtual network {own.name} not found in resource group {own.resource_group}"
        )
        return
    where, app_where = dig(facts.app_vnet, "location"), dig(facts.app, "location")
    if where and app_where and _region(where) != _region(app_where):
        yield FieldError(
            "app.virtualNetwork.name",
            f"virtual network {own.name} is in {where} and app {spec.app.name} in {app_where}; regional integration "
            "needs the app and its integration VNet in the same region (peering then reaches the cluster's VNet in "
            "any region)",
        )
    theirs = dig(facts.app_vnet, "properties", "addressSpace", "addressPrefixes") or []
    peered = spec.integration == "regional"  # a private endpoint needs no peering: overlaps are fine there
    for mine, other in overlaps(facts.address_space, theirs) if peered else ():
        yield FieldError(
            "app.virtualNetwork.name",
            f"the address space {other} of virtual network {own.name} overlaps {mine} of virtual network "
            f"{spec.network.virtual_network}; VNets whose address spaces overlap cannot be peered "
            "(VnetAddressSpacesOverlap): use integration: privateLink, which needs no peering",
        )
    in_own = replace(facts, vnet=facts.app_vnet)
    yield from _check_app_subnet(spec, in_own, own.name)
    if spec.private_link is not None:
        yield from _check_endpoint_subnet(spec, in_own, own.name)


def _check_endpoint_subnet(spec: LinkSpec, facts: PreflightFacts, vnet: str) -> Iterator[FieldError]:
    """The private endpoint's subnet: a new one must fit the app's VNet; an existing one must have the spec's prefix
    and no delegation (Azure refuses private endpoints in a delegated subnet)."""
    assert spec.private_link is not None
    subnet = spec.private_link.endpoint_subnet
    existing = facts.subnet(subnet.name)
    field = "privateLink.endpointSubnet"
    if existing is None:
        if spec.app.subnet is not None and any(_overlapping(subnet.prefix, [spec.app.subnet.prefix])):
            yield FieldError(f"{field}.prefix", f"{subnet.prefix} overlaps app.subnet.prefix {spec.app.subnet.prefix}")
        yield from _check_new_subnet(f"{field}.prefix", subnet.prefix, facts, vnet)
        return
    if _network(subnet.prefix) not in [_network(p) for p in subnet_prefixes(existing)]:
        yield FieldError(
            f"{field}.prefix",
            f"subnet {subnet.name} exists with prefix {', '.join(subnet_prefixes(existing))}; set "
            f"{field}.prefix to it to adopt the subnet",
        )
    if dig(existing, "properties", "delegations"):
        yield FieldError(
            f"{field}.name", f"subnet {subnet.name} is delegated; a private endpoint needs a subnet without delegations"
        )


def _region(name: str) -> str:
    """``West Europe`` and ``westeurope`` are the same region."""
    return name.replace(" ", "").lower()


def _check_app_subnet(spec: LinkSpec, facts: PreflightFacts, vnet: str | None = None) -> Iterator[FieldError]:
    """A new delegated subnet must fit the VNet; an existing one is adopted when it has the spec's prefix and
    nothing else in it (App Service needs a subnet of its own)."""
    assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
    name, prefix = spec.app.subnet.name, spec.app.subnet.prefix
    existing = facts.subnet(name)
    if existing is None:
        yield from _check_new_subnet("app.subnet.prefix", prefix, facts, vnet or spec.network.virtual_network)
        return
    have = subnet_prefixes(existing)
    if _network(prefix) not in [_network(p) for p in have]:
        yield FieldError(
            "app.subnet.prefix",
            f"subnet {name} exists with prefix {', '.join(have)}; set app.subnet.prefix to it to adopt the subnet "
            "(a subnet's range can't change while something uses it)",
        )
    needed = delegation_for(dig(facts.plan, "sku", "tier"))
    for delegation in dig(existing, "properties", "delegations") or []:
        service = str(dig(delegation, "properties", "serviceName") or delegation.get("serviceName") or "")
        if service.lower() != needed.lower() and service.lower() in {d.lower() for d in APP_SERVICE_DELEGATIONS}:
            yield FieldError(
                "app.subnet.name",
                f"subnet {name} is delegated to {service}; app {spec.app.name} "
                f"({dig(facts.plan, 'sku', 'tier') or 'its plan'}) needs it delegated to {needed} instead: remove "
                "that delegation or choose another subnet",
            )
    users = dig(existing, "properties", "ipConfigurations") or []
    if users:
        yield FieldError(
            "app.subnet.name",
            f"subnet {name} is used by {len(users)} other resource(s) ({users[0].get('id')}); regional VNet "
            "integration needs a subnet of its own",
        )


def _check_app(spec: LinkSpec, facts: PreflightFacts) -> Iterator[FieldError]:
    app, name = facts.app, spec.app.name
    gateway = spec.integration == "gateway"
    kind = str(dig(app, "kind") or "").lower()
    if gateway and (dig(app, "properties", "reserved") or "linux" in kind):
        yield FieldError(
            "app.name",
            f"app {name} runs on Linux; gateway-required VNet integration works only for Windows apps "
            "(use integration: regional, which supports Linux)",
        )
    elif gateway and ("container" in kind or dig(app, "properties", "isXenon") or dig(app, "properties", "hyperV")):
        yield FieldError(
            "app.name",
            f"app {name} is a Windows container app; gateway-required VNet integration does not support containers "
            "(use integration: regional, which does)",
        )
    tier = str(dig(facts.plan, "sku", "tier") or "")
    if tier.lower() in NO_INTEGRATION_TIERS:
        advice = " and use integration: regional, today's recommended path" if gateway else ""
        yield FieldError(
            "app.name",
            f"app {name} runs on a {tier} plan, which cannot use VNet integration of either kind; scale the plan to "
            f"Basic or higher{advice}",
        )
    elif gateway and tier.lower() in NO_GATEWAY_INTEGRATION_TIERS:
        yield FieldError(
            "app.name",
            f"app {name} runs on a {tier} plan, which supports only regional VNet integration "
            "(use integration: regional)",
        )
    vnet = spec.network.virtual_network.lower()
    for connection in facts.app_vnet_connections:
        other = str(connection.get("name", ""))
        if other.lower() != vnet and not dig(connection, "properties", "isSwift"):
            rule = (
                "an app connects to one virtual network that way"
                if gateway
                else "Azure adds regional integration only to an app without one"
            )
            yield FieldError(
                "network.virtualNetwork",
                f"app {name} is already connected to virtual network {other} through a gateway; {rule} "
                "(disconnect it first)",
            )


def _check_gateway(spec: LinkSpec, gateway: GatewayState) -> Iterator[FieldError]:
    sku, gw = spec.gateway.sku, spec.gateway.name
    if not gateway.exists:
        if sku in LEGACY_GATEWAY_SKUS:
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
