"""ARM resource ids: building, parsing and case-insensitive keys."""

from __future__ import annotations

from dataclasses import dataclass


def key(resource_id: str) -> str:
    """The store key of a resource id: ARM ids compare case-insensitively."""
    return resource_id.rstrip("/").lower()


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def provider_id(sub: str, rg: str, namespace: str, *type_name: str) -> str:
    """``/subscriptions/s/resourceGroups/r/providers/ns/t1/n1/t2/n2`` from alternating types and names."""
    return f"{rg_id(sub, rg)}/providers/{namespace}/" + "/".join(type_name)


@dataclass(frozen=True)
class ResourceId:
    """The parts of an ARM id kubelink's calls use: subscription, group, namespace, type/name pairs."""

    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def full_type(self) -> str:
        return "/".join((self.namespace, *self.types))

    def parent(self) -> str:
        """The id of the parent resource (for a nested resource)."""
        pairs = [p for t, n in zip(self.types[:-1], self.names[:-1], strict=True) for p in (t, n)]
        return provider_id(self.subscription, self.resource_group, self.namespace, *pairs)


def parse(resource_id: str) -> ResourceId | None:
    """Parse a provider resource id; None when it is not one."""
    parts = [p for p in resource_id.split("/") if p]
    if len(parts) < 8 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        return None
    if parts[4].lower() != "providers" or len(parts[6:]) % 2:
        return None
    rest = parts[6:]
    return ResourceId(parts[1], parts[3], parts[5], tuple(rest[0::2]), tuple(rest[1::2]))


VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
PEERING_TYPE = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
PIP_TYPE = "Microsoft.Network/publicIPAddresses"
GATEWAY_TYPE = "Microsoft.Network/virtualNetworkGateways"
ZONE_TYPE = "Microsoft.Network/privateDnsZones"
ZONE_LINK_TYPE = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
A_RECORD_TYPE = "Microsoft.Network/privateDnsZones/A"
SITE_TYPE = "Microsoft.Web/sites"
PLAN_TYPE = "Microsoft.Web/serverfarms"
VNET_CONNECTION_TYPE = "Microsoft.Web/sites/virtualNetworkConnections"
CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
GATEWAY_SUBNET = "GatewaySubnet"
WEB_DELEGATION = "Microsoft.Web/serverFarms"
#: What Flex Consumption apps need their integration subnet delegated to (azure-functions/flex-consumption-plan.md).
FLEX_DELEGATION = "Microsoft.App/environments"
