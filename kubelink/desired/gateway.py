"""GatewaySubnet, the gateway's public IP and the VPN gateway with its point-to-site configuration.

Pure: states are built from ARM REST JSON, bodies are ARM REST JSON. ARM compares names and enums
case-insensitively, and so does every diff here (``kubelink.diff.diff_fields``).

Ownership, from docs/azure.md §5 to §8: an existing GatewaySubnet is kept as is (a subnet PUT replaces it); an
adopted gateway keeps its own public IP, ipConfigurations, BGP and active-active settings; on the
point-to-site side kubelink owns the pool and SSTP-only (the platform's requirement for gateway-required
integration) and needs certificate authentication and the app's root certificate, keeping every other
root certificate and authentication type.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.diff import DiffItem, diff_fields, path
from kubelink.names import GATEWAY_SUBNET
from kubelink.ownership import LINKS_TAG, created_by, created_tags, tagged_links, with_links

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

SUCCEEDED = "Succeeded"
#: a resource in one of these states is being written by someone: never write to it, wait
BUSY_STATES = frozenset({"Creating", "Updating", "Deleting"})
#: an operation ended badly; the resource needs a write to be repaired
FAILED_STATES = frozenset({"Failed", "Canceled"})


def repair(provisioning_state: str | None) -> tuple[DiffItem, ...]:
    """A resource whose last operation failed differs in ``provisioningState``: re-sending it is the repair (once
    per run: the orchestrator fails the link if that operation fails too)."""
    if provisioning_state not in FAILED_STATES:
        return ()
    return (DiffItem("change", ("properties", "provisioningState"), provisioning_state, SUCCEEDED),)


SSTP = "SSTP"
CERTIFICATE = "Certificate"
P2S = "properties.vpnClientConfiguration"


# --- GatewaySubnet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubnetState(ArmState):
    @staticmethod
    def from_arm(body: Mapping[str, Any] | None) -> SubnetState:
        return SubnetState(body)

    @property
    def address_prefixes(self) -> tuple[str, ...]:
        return subnet_prefixes(self.body) if self.body is not None else ()


def subnet_prefixes(subnet: Mapping[str, Any]) -> tuple[str, ...]:
    """A subnet has ``addressPrefix`` or ``addressPrefixes`` (dual-stack, multiple ranges)."""
    props = subnet.get("properties") or {}
    prefixes = props.get("addressPrefixes") or [props.get("addressPrefix")]
    return tuple(p for p in prefixes if p)


def diff_gateway_subnet(spec: LinkSpec, state: SubnetState) -> tuple[DiffItem, ...]:
    """Only a missing GatewaySubnet differs: an existing one is the gateway's, whatever its prefix."""
    if state.exists:
        return ()
    return diff_fields({"properties.addressPrefix": spec.gateway.gateway_subnet_prefix}, None)


def desired_gateway_subnet(spec: LinkSpec) -> dict[str, Any]:
    return {"name": GATEWAY_SUBNET, "properties": {"addressPrefix": spec.gateway.gateway_subnet_prefix}}


# --- public IP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicIpState(ArmState):
    @staticmethod
    def from_arm(body: Mapping[str, Any] | None) -> PublicIpState:
        return PublicIpState(body)


def _public_ip_fields(body: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "sku.name": dig(body, "sku", "name"),
        "properties.publicIPAllocationMethod": dig(body, "properties", "publicIPAllocationMethod"),
        "properties.publicIPAddressVersion": dig(body, "properties", "publicIPAddressVersion"),
    }


_PUBLIC_IP_FIELDS = {
    "sku.name": "Standard",
    "properties.publicIPAllocationMethod": "Static",
    "properties.publicIPAddressVersion": "IPv4",
}


def diff_public_ip(spec: LinkSpec, state: PublicIpState, gateway: GatewayState) -> tuple[DiffItem, ...]:
    """A Standard static IPv4 address, unless the gateway exists already: an adopted gateway keeps its own IP."""
    if gateway.exists:
        return ()
    return diff_fields(_PUBLIC_IP_FIELDS, _public_ip_fields(state.body))


def zones_for(sku: str, region_zones: Sequence[str]) -> list[str] | None:
    """AZ gateway SKUs get an address redundant across the region's zones; in a region without zones, and for other
    SKUs, a regional one: zonal addresses can only be created where the region has zones, and AZ gateways deploy
    regionally there (README "Regions and zones")."""
    return list(region_zones) if sku.endswith("AZ") and region_zones else None


def public_ip_body(
    spec: LinkSpec, state: PublicIpState, location: str | None, region_zones: Sequence[str] = ()
) -> dict[str, Any]:
    """A fresh address (zones from ``region_zones``, the location's availability zones), or the observed one with
    only the differing owned fields changed (zones cannot change on an existing address)."""
    if state.body is None:
        body: dict[str, Any] = {
            "location": location,
            "tags": created_tags(spec.name),
            "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {},
        }
        zones = zones_for(spec.gateway.sku, region_zones)
        if zones:
            body["zones"] = zones
    else:
        body = copy.deepcopy(dict(state.body))
    body.setdefault("sku", {})["name"] = "Standard"
    props = body.setdefault("properties", {})
    props["publicIPAllocationMethod"] = "Static"
    props["publicIPAddressVersion"] = "IPv4"
    return body


# --- root certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class RootCertificate:
    """A public certificate (base64 DER, as ``certBlob`` and ``publicCertData`` carry it). Never logged."""

    name: str
    data: str = field(repr=False)

    @property
    def der(self) -> bytes:
        """Decoded DER, tolerant of PEM armour and line breaks."""
        lines = [ln.strip() for ln in self.data.strip().splitlines() if ln.strip() and not ln.startswith("-----")]
        try:
            return base64.b64decode("".join(lines), validate=True)
        except (binascii.Error, ValueError):
            return "".join(lines).encode()

    @property
    def thumbprint(self) -> str:
        """SHA-1 of the DER bytes, upper-case hex: what Azure shows as ``certThumbprint``."""
        return hashlib.sha1(self.der, usedforsecurity=False).hexdigest().upper()


def root_certificate_name(spec: LinkSpec) -> str:
    return f"kubelink-{spec.app.name}"


# --- gateway + point-to-site --------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayState(ArmState):
    """The gateway as ARM returns it (its body holds root certificates' data: ``ArmState`` keeps it out of reprs)."""

    @staticmethod
    def from_arm(body: Mapping[str, Any] | None) -> GatewayState:
        return GatewayState(body)

    @property
    def busy(self) -> bool:
        return self.provisioning_state in BUSY_STATES

    @property
    def sku(self) -> str | None:
        return dig(self.body, "properties", "sku", "name")

    @property
    def root_certificates(self) -> tuple[RootCertificate, ...]:
        certs = dig(self.body, "properties", "vpnClientConfiguration", "vpnClientRootCertificates") or []
        return tuple(RootCertificate(c.get("name", ""), dig(c, "properties", "publicCertData") or "") for c in certs)

    def trusts(self, cert: RootCertificate) -> bool:
        return any(c.der == cert.der for c in self.root_certificates)


def generation_for(sku: str) -> str:
    """Generation2 wherever the SKU has it (VpnGw2 to VpnGw5 and their AZ twins), since gateways on Standard public
    IPs move to Generation2 (gateway-sku-consolidation.md); Generation1 only for Basic and VpnGw1(AZ), which exist in
    no other generation (README "Regions and zones"). An adopted gateway keeps its own generation."""
    return "Generation2" if sku.removesuffix("AZ") in {"VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5"} else "Generation1"


def _gateway_fields(body: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "properties.gatewayType": dig(body, "properties", "gatewayType"),
        "properties.vpnType": dig(body, "properties", "vpnType"),
        "properties.sku.name": dig(body, "properties", "sku", "name"),
    }


def diff_gateway(spec: LinkSpec, state: GatewayState) -> tuple[DiffItem, ...]:
    """The gateway itself: a route-based VPN gateway of the spec's SKU (ipConfigurations are never changed), and
    not failed (``repair``)."""
    desired = {
        "properties.gatewayType": "Vpn",
        "properties.vpnType": "RouteBased",
        "properties.sku.name": spec.gateway.sku,
    }
    return diff_fields(desired, _gateway_fields(state.body)) + repair(state.provisioning_state)


# --- point-to-site on an adopted gateway: merge, never rewrite -----------------------------------------

IKEV2, OPENVPN = "IkeV2", "OpenVPN"
#: Entra ID authentication works with OpenVPN only (Azure VPN Client); it goes when OpenVPN does
AAD = "AAD"


@dataclass(frozen=True)
class PointToSiteMerge:
    """An adopted gateway's point-to-site configuration with what gateway-required integration needs merged in, and
    what that would take away from whoever else uses it.

    App Service's rules (docs/azure.md §1, §8): SSTP on, and on a non-Basic SKU IKEv2 off; SSTP and OpenVPN never
    coexist; the app authenticates with its certificate. Everything else stays: other pools (the spec's pool is
    added, none removed), other root and revoked certificates, RADIUS servers, IPsec policies, custom routes and
    every other property of the gateway."""

    config: dict[str, Any]
    #: "IKEv2 clients (…)" and the like: what would stop working for others; empty when the merge takes nothing
    taken_away: tuple[str, ...]
    #: SSTP is not enabled yet: this write would enable it (a new point-to-site configuration, or one without SSTP)
    enables_sstp: bool
    #: who else uses the point-to-site configuration, for the refusal's message
    users: tuple[str, ...]


def merge_point_to_site(spec: LinkSpec, state: GatewayState) -> PointToSiteMerge:
    have = copy.deepcopy(dig(state.body, "properties", "vpnClientConfiguration") or {})
    basic = str(state.sku or spec.gateway.sku).lower() == "basic"
    sku = state.sku or spec.gateway.sku
    protocols = [str(p) for p in have.get("vpnClientProtocols") or []]
    taken: list[str] = []
    kept: list[str] = []
    for protocol in protocols:
        if protocol.lower() == OPENVPN.lower():
            taken.append("OpenVPN clients (OpenVPN cannot be enabled beside SSTP)")
        elif protocol.lower() == IKEV2.lower() and not basic:
            taken.append(f"IKEv2 clients (gateway-required integration needs IKEv2 off on a {sku} gateway)")
        else:
            kept.append(protocol)
    enables_sstp = not any(p.lower() == SSTP.lower() for p in protocols)
    auth = [str(a) for a in have.get("vpnAuthenticationTypes") or []]
    if auth and not any(a.lower() == CERTIFICATE.lower() for a in auth):
        taken.append(f"clients authenticating only with {', '.join(auth)} (certificate authentication must be added)")
    openvpn_goes = any(p.lower() == OPENVPN.lower() for p in protocols)
    auth = [a for a in auth if not (openvpn_goes and a.lower() == AAD.lower())]
    pool = list(dig(have, "vpnClientAddressPool", "addressPrefixes") or [])
    wanted = spec.gateway.client_address_pool
    if wanted and wanted not in pool:
        pool.append(wanted)
    config = have
    config["vpnClientAddressPool"] = {**(have.get("vpnClientAddressPool") or {}), "addressPrefixes": pool}
    config["vpnClientProtocols"] = _with(kept, SSTP)
    config["vpnAuthenticationTypes"] = _with(auth, CERTIFICATE)
    mine = root_certificate_name(spec)
    users = [f"root certificate {c.name}" for c in state.root_certificates if c.name != mine]
    users += [f"client pool {p}" for p in pool if p != wanted]
    if any(a.lower() == "radius" for a in auth):
        users.append("RADIUS clients")
    return PointToSiteMerge(config, tuple(taken), (enables_sstp and state.exists) or not state.exists, tuple(users))


def point_to_site_refusal(spec: LinkSpec, merge: PointToSiteMerge) -> str | None:
    """Why kubelink may not write this gateway's point-to-site configuration, or None. Both refusals are lifted by
    the spec's explicit opt-ins (``gateway.allowPointToSiteTakeover``, ``gateway.allowNewSstp``)."""
    gw = spec.gateway.name
    if merge.taken_away and not spec.gateway.allow_point_to_site_takeover:
        users = f" (it serves {', '.join(merge.users)})" if merge.users else ""
        return (
            f"gateway {gw}'s point-to-site configuration{users} cannot serve gateway-required integration without "
            f"taking away: {'; '.join(merge.taken_away)}. Nothing was written. Set gateway.allowPointToSiteTakeover: "
            "true to allow that change, or use integration: regional"
        )
    return None


def diff_point_to_site(spec: LinkSpec, state: GatewayState, cert: RootCertificate) -> tuple[DiffItem, ...]:
    """The merged pool, protocols and authentication (``merge_point_to_site``), and the app's root certificate
    (shown by thumbprint)."""
    p2s = dig(state.body, "properties", "vpnClientConfiguration") or {}
    merged = merge_point_to_site(spec, state).config
    desired = {
        f"{P2S}.vpnClientAddressPool.addressPrefixes": merged["vpnClientAddressPool"]["addressPrefixes"],
        f"{P2S}.vpnClientProtocols": merged["vpnClientProtocols"],
        f"{P2S}.vpnAuthenticationTypes": merged["vpnAuthenticationTypes"],
    }
    actual = {
        f"{P2S}.vpnClientAddressPool.addressPrefixes": dig(p2s, "vpnClientAddressPool", "addressPrefixes"),
        f"{P2S}.vpnClientProtocols": p2s.get("vpnClientProtocols"),
        f"{P2S}.vpnAuthenticationTypes": p2s.get("vpnAuthenticationTypes") or None,
    }
    items = list(diff_fields(desired, actual))
    if not state.trusts(cert):
        name = root_certificate_name(spec)
        same_name = next((c for c in state.root_certificates if c.name == name), None)
        old = same_name.thumbprint if same_name else None
        field_name = (*path(P2S), "vpnClientRootCertificates", name)
        items.append(DiffItem("change" if old else "add", field_name, old, cert.thumbprint))
    return tuple(items)


def gateway_body(spec: LinkSpec, state: GatewayState, cert: RootCertificate, location: str | None) -> dict[str, Any]:
    """The gateway PUT: a fresh gateway in one body that already carries point-to-site and the app's root
    certificate; or the observed gateway (read-modify-write) with only the owned fields changed."""
    if state.body is None:
        sku = spec.gateway.sku
        body: dict[str, Any] = {
            "location": location,
            "tags": {**created_tags(spec.name), LINKS_TAG: spec.name},
            "properties": {
                "gatewayType": "Vpn",
                "vpnType": "RouteBased",
                "enableBgp": False,
                "activeActive": False,
                "vpnGatewayGeneration": generation_for(sku),
                "ipConfigurations": [
                    {
                        "name": "gwipconfig",
                        "properties": {
                            "privateIPAllocationMethod": "Dynamic",
                            "subnet": {"id": spec.gateway_subnet_id},
                            "publicIPAddress": {"id": spec.public_ip_id},
                        },
                    }
                ],
                "vpnClientConfiguration": {},
            },
        }
    else:
        body = copy.deepcopy(dict(state.body))
        if created_by(body.get("tags")):  # a gateway kubelink created lists the links using it
            body["tags"] = with_links(body.get("tags"), {*tagged_links(body.get("tags")), spec.name})
    props = body.setdefault("properties", {})
    props["gatewayType"] = "Vpn"
    props["vpnType"] = "RouteBased"
    if str(dig(props, "sku", "name")).lower() != spec.gateway.sku.lower():
        props["sku"] = {"name": spec.gateway.sku, "tier": spec.gateway.sku}
    p2s = merge_point_to_site(spec, state).config
    props["vpnClientConfiguration"] = p2s
    if not state.trusts(cert):
        name = root_certificate_name(spec)
        others = [c for c in p2s.get("vpnClientRootCertificates") or [] if c.get("name") != name]
        p2s["vpnClientRootCertificates"] = [*others, {"name": name, "properties": {"publicCertData": cert.data}}]
    return body


def _with(values: list[str], value: str) -> list[str]:
    """``values`` plus ``value`` (case-insensitively), keeping others' entries and order."""
    return values if any(v.lower() == value.lower() for v in values) else [*values, value]
