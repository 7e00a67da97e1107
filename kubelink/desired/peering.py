"""Peering the app's own VNet with the cluster's (``app.virtualNetwork`` on the regional path).

Regional integration reaches VNets peered with the integration VNet, global peering included, so the app is
integrated into its own VNet and kubelink peers that VNet with the cluster's both ways (README "Which path for
which topology"). Pure: states from ARM REST JSON, bodies as ARM REST JSON.

Ownership: a peering between the two VNets that someone else made is adopted whatever its name, and kubelink
owns only its ``allowVirtualNetworkAccess`` (turned on, never off) and its remote VNet; the other ``allow*``
flags, gateway transit included, stay as they are. A ``Disconnected`` peering (its other side was deleted) can
only be deleted and made again: kubelink reports it rather than deleting what it may not own.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.diff import DiffItem, diff_fields

CONNECTED = "Connected"
DISCONNECTED = "Disconnected"
ACCESS = "properties.allowVirtualNetworkAccess"
REMOTE = "properties.remoteVirtualNetwork.id"

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


@dataclass(frozen=True)
class VnetRef:
    """A virtual network by subscription, resource group and name."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Network/virtualNetworks/{self.name}"
        )


def cluster_vnet(spec: LinkSpec) -> VnetRef:
    return VnetRef(spec.subscription_id, spec.network.resource_group, spec.network.virtual_network)


def app_vnet(spec: LinkSpec) -> VnetRef | None:
    """The app's own integration VNet (``app.virtualNetwork``; its subscription defaults to the link's), if any."""
    given = spec.app.virtual_network
    if given is None:
        return None
    return VnetRef(given.subscription_id or spec.subscription_id, given.resource_group, given.name)


def integration_vnet(spec: LinkSpec) -> VnetRef:
    """Where the app's delegated subnet lives: its own VNet when given, else the cluster's."""
    return app_vnet(spec) or cluster_vnet(spec)


def peering_name(remote: VnetRef) -> str:
    """The name kubelink gives the peering it makes towards ``remote`` (peering names allow 80 characters)."""
    return f"kubelink-{remote.name}"[:80]


@dataclass(frozen=True)
class PeeringState(ArmState):
    """One side: the local VNet's peering to the remote VNet (None when it has none)."""

    @property
    def name(self) -> str | None:
        return dig(self.body, "name")

    @property
    def peering_state(self) -> str | None:
        return dig(self.body, "properties", "peeringState")

    @property
    def connected(self) -> bool:
        return self.peering_state == CONNECTED and self.provisioning_state == "Succeeded"

    @staticmethod
    def towards(peerings: Iterable[Mapping[str, Any]], remote: VnetRef) -> PeeringState:
        """The local VNet's peering whose remote is ``remote``, whatever its name (adopted), or none."""
        wanted = remote.id.lower()
        found = next(
            (p for p in peerings if str(dig(p, "properties", "remoteVirtualNetwork", "id") or "").lower() == wanted),
            None,
        )
        return PeeringState(found)


def diff_peering(state: PeeringState, remote: VnetRef) -> tuple[DiffItem, ...]:
    """A missing peering differs in its remote and access; an existing one only in access turned off."""
    if not state.exists:
        return diff_fields({REMOTE: remote.id, ACCESS: True}, None)
    return diff_fields({ACCESS: True}, {ACCESS: bool(dig(state.body, "properties", "allowVirtualNetworkAccess"))})


def adopted_fields(state: PeeringState) -> dict[str, Any] | None:
    """What the link record keeps of an adopted peering it is about to change, for teardown to give back: its
    access, when off (the one field kubelink owns); None for a new peering or one kubelink leaves as it is."""
    if state.body is None or dig(state.body, "properties", "allowVirtualNetworkAccess"):
        return None
    return {ACCESS: False}


def peering_body(state: PeeringState, remote: VnetRef, access: bool = True) -> dict[str, Any]:
    """A fresh peering with virtual network access and nothing else, or the adopted one with access set to
    ``access`` (on to provision, back as it was at teardown) and every other field as read (body as
    azure-rest-api-specs' VirtualNetworkPeeringCreate.json, 2025-05-01)."""
    if state.body is None:
        return {
            "properties": {
                "allowVirtualNetworkAccess": True,
                "allowForwardedTraffic": False,
                "allowGatewayTransit": False,
                "useRemoteGateways": False,
                "remoteVirtualNetwork": {"id": remote.id},
            }
        }
    body = copy.deepcopy(dict(state.body))
    body.setdefault("properties", {})["allowVirtualNetworkAccess"] = access
    return body


def overlaps(local: Iterable[str], remote: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Each pair of overlapping prefixes of two address spaces (peering refuses any: ``VnetAddressSpacesOverlap``)."""
    theirs = [(p, _network(p)) for p in remote]
    for mine in local:
        ours = _network(mine)
        for other, net in theirs:
            if ours is not None and net is not None and ours.version == net.version and ours.overlaps(net):
                yield mine, other


def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None
