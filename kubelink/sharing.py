"""What one link uses that other links may use too, so that teardown keeps it while another link record names it:
the gateway (and its public IP and GatewaySubnet), the peering between two VNets, a private endpoint and its subnet.

The link records are the authority on who uses what (tags can lag, subnets hold none). Pure: specs in, names out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kubelink.desired.peering import app_vnet, cluster_vnet
from kubelink.desired.regional import releases_gateway

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

GATEWAY = "gateway"
PEERING = "peering"
PRIVATE_ENDPOINT = "privateEndpoint"
ENDPOINT_SUBNET = "endpointSubnet"


def shared_parts(spec: LinkSpec) -> dict[str, str]:
    """``{part: key}``: each part the link uses that another link may use too, by a lower-cased key equal for two
    links that use the same one. A peering is the pair of VNets it joins, whatever the peerings' names (an adopted
    one keeps its own); a regional link that left a gateway still names it (``releases_gateway``)."""
    parts: dict[str, str] = {}
    if spec.integration == "gateway" or releases_gateway(spec, False):
        parts[GATEWAY] = spec.gateway_id.lower()
    own = app_vnet(spec)
    if spec.integration == "regional" and own is not None:
        parts[PEERING] = " ".join(sorted(v.id.lower() for v in (own, cluster_vnet(spec))))
    if spec.integration == "privateLink" and spec.endpoint_subnet_id is not None:
        parts[PRIVATE_ENDPOINT] = spec.private_endpoint_id.lower()
        parts[ENDPOINT_SUBNET] = spec.endpoint_subnet_id.lower()
    return parts


def sharing(spec: LinkSpec, others: Iterable[LinkSpec]) -> dict[str, list[str]]:
    """``{part: [other links' names]}`` for each part of ``spec`` that another link uses too (sorted names; parts
    nobody else uses are absent)."""
    mine = shared_parts(spec)
    found: dict[str, set[str]] = {}
    for other in others:
        if other.name == spec.name:
            continue
        theirs = shared_parts(other)
        for part, key in mine.items():
            if theirs.get(part) == key:
                found.setdefault(part, set()).add(other.name)
    return {part: sorted(names) for part, names in found.items()}
