"""The link spec: the validated, immutable desired state a user POSTs (README, "The link spec").

``LinkSpec.from_json`` trusts its input (it was validated once at the HTTP edge by
``kubelink.validation.parse_link_spec``); ``to_json`` gives the camelCase body with every default filled,
which is what crosses the orchestrator/activity boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Integration = Literal["gateway", "regional", "privateLink"]

DEFAULT_KUBECONFIG_SETTING = "KUBELINK_KUBECONFIG"
DEFAULT_APP_SETTING = "PrivateAddress"
DEFAULT_GATEWAY_SKU = "VpnGw1AZ"
GATEWAY_SUBNET = "GatewaySubnet"


def provision_instance_id(name: str) -> str:
    """The Durable instance id of a link's provisioning: one per link, so a second start is refused (409)."""
    return f"link-{name}"


def verify_instance_id(name: str) -> str:
    """The Durable instance id of an on-demand verification; the prefix keeps it clear of ``link-*`` ids
    and of the sweep's fixed ``verify-sweep``."""
    return f"verify-link-{name}"


@dataclass(frozen=True)
class ServicePort:
    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"port": self.port, "targetPort": self.target_port, "protocol": self.protocol}
        if self.name:
            body["name"] = self.name
        return body


@dataclass(frozen=True)
class KubernetesSpec:
    service: str
    selector: tuple[tuple[str, str], ...]
    ports: tuple[ServicePort, ...]
    namespace: str = "default"
    kubeconfig_setting: str = DEFAULT_KUBECONFIG_SETTING
    load_balancer_subnet: str | None = None
    load_balancer_ip: str | None = None
    aks_cluster: str | None = None


@dataclass(frozen=True)
class NetworkSpec:
    resource_group: str
    virtual_network: str


@dataclass(frozen=True)
class GatewaySpec:
    name: str
    public_ip_name: str
    client_address_pool: str | None
    sku: str = DEFAULT_GATEWAY_SKU
    gateway_subnet_prefix: str | None = None


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    prefix: str


@dataclass(frozen=True)
class VirtualNetworkSpec:
    """The app's own integration VNet (``app.virtualNetwork``); its subscription defaults to the link's."""

    resource_group: str
    name: str
    subscription_id: str | None = None


@dataclass(frozen=True)
class AppSpec:
    resource_group: str
    name: str
    setting: str = DEFAULT_APP_SETTING
    subnet: SubnetSpec | None = None
    virtual_network: VirtualNetworkSpec | None = None


@dataclass(frozen=True)
class PrivateLinkSpec:
    """``privateLink``: the private endpoint's subnet in the app's VNet."""

    endpoint_subnet: SubnetSpec


@dataclass(frozen=True)
class ProbeSpec:
    path: str
    expect_status: int = 200


@dataclass(frozen=True)
class DnsSpec:
    zone: str
    record: str

    @property
    def fqdn(self) -> str:
        """The A record's name; ``@`` is the zone apex."""
        return self.zone if self.record == "@" else f"{self.record}.{self.zone}"


@dataclass(frozen=True)
class LinkSpec:
    name: str
    subscription_id: str
    network: NetworkSpec
    kubernetes: KubernetesSpec
    gateway: GatewaySpec
    app: AppSpec
    probe: ProbeSpec | None = None
    remediate: bool = False
    integration: Integration = "gateway"
    dns: DnsSpec | None = None
    #: resource groups managed by something else (``managedBy``) that the run may write into, by explicit opt-in
    allow_managed_resource_groups: tuple[str, ...] = ()
    private_link: PrivateLinkSpec | None = None

    # --- ARM ids, derived once so no activity formats them by hand -----------------------------
    @property
    def network_rg_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.network.resource_group}"

    @property
    def vnet_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/virtualNetworks/{self.network.virtual_network}"

    @property
    def gateway_subnet_id(self) -> str:
        return f"{self.vnet_id}/subnets/{GATEWAY_SUBNET}"

    @property
    def public_ip_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/publicIPAddresses/{self.gateway.public_ip_name}"

    @property
    def gateway_id(self) -> str:
        return f"{self.network_rg_id}/providers/Microsoft.Network/virtualNetworkGateways/{self.gateway.name}"

    @property
    def app_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.app.resource_group}"
            f"/providers/Microsoft.Web/sites/{self.app.name}"
        )

    @property
    def app_vnet_id(self) -> str:
        """The app's integration VNet: its own (``app.virtualNetwork``) when given, else the cluster's."""
        own = self.app.virtual_network
        if own is None:
            return self.vnet_id
        return (
            f"/subscriptions/{own.subscription_id or self.subscription_id}/resourceGroups/{own.resource_group}"
            f"/providers/Microsoft.Network/virtualNetworks/{own.name}"
        )

    @property
    def app_subnet_id(self) -> str | None:
        return f"{self.app_vnet_id}/subnets/{self.app.subnet.name}" if self.app.subnet else None

    @property
    def private_link_service_name(self) -> str:
        """The Private Link Service AKS makes for the link's Service (``azure-pls-name``)."""
        return f"kubelink-{self.name}"

    @property
    def private_endpoint_id(self) -> str:
        """The private endpoint lives beside the app's VNet (its resource group and subscription)."""
        group = self.app_vnet_id.split("/providers/")[0]
        return f"{group}/providers/Microsoft.Network/privateEndpoints/kubelink-{self.name}"

    @property
    def endpoint_subnet_id(self) -> str | None:
        return f"{self.app_vnet_id}/subnets/{self.private_link.endpoint_subnet.name}" if self.private_link else None

    @property
    def dns_rg_id(self) -> str:
        """The private DNS zone lives beside the app's integration VNet (the scope the link already writes)."""
        return self.app_vnet_id.split("/providers/")[0]

    @property
    def dns_resource_group(self) -> str:
        return self.dns_rg_id.split("/")[4]

    @property
    def dns_zone_id(self) -> str | None:
        return f"{self.dns_rg_id}/providers/Microsoft.Network/privateDnsZones/{self.dns.zone}" if self.dns else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every ARM scope this link touches, for the ``KUBELINK_ALLOWED_SCOPES`` check."""
        scopes = [self.network_rg_id, f"/subscriptions/{self.subscription_id}/resourceGroups/{self.app.resource_group}"]
        if self.app.virtual_network is not None:
            scopes.append(self.app_vnet_id.split("/providers/")[0])
        if self.kubernetes.aks_cluster:
            scopes.append(self.kubernetes.aks_cluster)
        return tuple(scopes)

    # --- JSON -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        k, g, a = self.kubernetes, self.gateway, self.app
        kubernetes: dict[str, Any] = {
            "kubeconfigSetting": k.kubeconfig_setting,
            "namespace": k.namespace,
            "service": k.service,
            "selector": dict(k.selector),
            "ports": [p.to_json() for p in k.ports],
        }
        for key, value in (
            ("loadBalancerSubnet", k.load_balancer_subnet),
            ("loadBalancerIP", k.load_balancer_ip),
            ("aksCluster", k.aks_cluster),
        ):
            if value is not None:
                kubernetes[key] = value
        gateway: dict[str, Any] = {"name": g.name, "sku": g.sku, "publicIpName": g.public_ip_name}
        if g.client_address_pool is not None:
            gateway["clientAddressPool"] = g.client_address_pool
        if g.gateway_subnet_prefix is not None:
            gateway["gatewaySubnetPrefix"] = g.gateway_subnet_prefix
        app: dict[str, Any] = {"resourceGroup": a.resource_group, "name": a.name, "setting": a.setting}
        if a.subnet:
            app["subnet"] = {"name": a.subnet.name, "prefix": a.subnet.prefix}
        if a.virtual_network:
            own = a.virtual_network
            app["virtualNetwork"] = {"resourceGroup": own.resource_group, "name": own.name}
            if own.subscription_id:
                app["virtualNetwork"]["subscriptionId"] = own.subscription_id
        body: dict[str, Any] = {
            "name": self.name,
            "subscriptionId": self.subscription_id,
            "network": {"resourceGroup": self.network.resource_group, "virtualNetwork": self.network.virtual_network},
            "kubernetes": kubernetes,
            "gateway": gateway,
            "app": app,
            "remediate": self.remediate,
            "integration": self.integration,
        }
        if self.probe:
            body["probe"] = {"path": self.probe.path, "expectStatus": self.probe.expect_status}
        if self.dns:
            body["dns"] = {"zone": self.dns.zone, "record": self.dns.record}
        if self.allow_managed_resource_groups:
            body["allowManagedResourceGroups"] = list(self.allow_managed_resource_groups)
        if self.private_link:
            subnet = self.private_link.endpoint_subnet
            body["privateLink"] = {"endpointSubnet": {"name": subnet.name, "prefix": subnet.prefix}}
        return body

    @staticmethod
    def from_json(body: dict[str, Any]) -> LinkSpec:
        """Build from an already-validated camelCase body, filling defaults."""
        k, g, a = body["kubernetes"], body.get("gateway", {}), body["app"]
        vnet = body["network"]["virtualNetwork"]
        gateway_name = g.get("name") or f"{vnet}-gw"
        probe, dns, subnet, own = body.get("probe"), body.get("dns"), a.get("subnet"), a.get("virtualNetwork")
        return LinkSpec(
            name=body["name"],
            subscription_id=body["subscriptionId"],
            network=NetworkSpec(body["network"]["resourceGroup"], vnet),
            kubernetes=KubernetesSpec(
                service=k["service"],
                selector=tuple(sorted(k["selector"].items())),
                ports=tuple(
                    ServicePort(p["port"], p["targetPort"], p.get("protocol", "TCP"), p.get("name")) for p in k["ports"]
                ),
                namespace=k.get("namespace", "default"),
                kubeconfig_setting=k.get("kubeconfigSetting", DEFAULT_KUBECONFIG_SETTING),
                load_balancer_subnet=k.get("loadBalancerSubnet"),
                load_balancer_ip=k.get("loadBalancerIP"),
                aks_cluster=k.get("aksCluster"),
            ),
            gateway=GatewaySpec(
                name=gateway_name,
                public_ip_name=g.get("publicIpName") or f"{gateway_name}-pip",
                client_address_pool=g.get("clientAddressPool"),
                sku=g.get("sku", DEFAULT_GATEWAY_SKU),
                gateway_subnet_prefix=g.get("gatewaySubnetPrefix"),
            ),
            app=AppSpec(
                resource_group=a["resourceGroup"],
                name=a["name"],
                setting=a.get("setting", DEFAULT_APP_SETTING),
                subnet=SubnetSpec(subnet["name"], subnet["prefix"]) if subnet else None,
                virtual_network=(
                    VirtualNetworkSpec(own["resourceGroup"], own["name"], own.get("subscriptionId")) if own else None
                ),
            ),
            probe=ProbeSpec(probe["path"], probe.get("expectStatus", 200)) if probe else None,
            remediate=bool(body.get("remediate", False)),
            integration=body.get("integration", "gateway"),
            dns=DnsSpec(dns["zone"], dns["record"]) if dns else None,
            allow_managed_resource_groups=tuple(body.get("allowManagedResourceGroups") or ()),
            private_link=(
                PrivateLinkSpec(SubnetSpec(**body["privateLink"]["endpointSubnet"]))
                if body.get("privateLink")
                else None
            ),
        )
