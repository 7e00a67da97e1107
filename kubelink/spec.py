"""The link spec: the validated, immutable desired state a user POSTs (README, "The link spec").

``LinkSpec.from_json`` trusts its input (it was validated once at the HTTP edge by
``kubelink.validation.parse_link_spec``); ``to_json`` gives the camelCase body with every default filled,
which is what crosses the orchestrator/activity boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Integration = Literal["gateway", "regional"]

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
class AppSpec:
    resource_group: str
    name: str
    setting: str = DEFAULT_APP_SETTING
    subnet: SubnetSpec | None = None


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
    def app_subnet_id(self) -> str | None:
        return f"{self.vnet_id}/subnets/{self.app.subnet.name}" if self.app.subnet else None

    @property
    def dns_zone_id(self) -> str | None:
        """The private DNS zone lives in the VNet's resource group (the scope the link already touches)."""
        return f"{self.network_rg_id}/providers/Microsoft.Network/privateDnsZones/{self.dns.zone}" if self.dns else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every ARM scope this link touches, for the ``KUBELINK_ALLOWED_SCOPES`` check."""
        scopes = [self.network_rg_id, f"/subscriptions/{self.subscription_id}/resourceGroups/{self.app.resource_group}"]
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
        return body

    @staticmethod
    def from_json(body: dict[str, Any]) -> LinkSpec:
        """Build from an already-validated camelCase body, filling defaults."""
        k, g, a = body["kubernetes"], body.get("gateway", {}), body["app"]
        vnet = body["network"]["virtualNetwork"]
        gateway_name = g.get("name") or f"{vnet}-gw"
        probe, dns, subnet = body.get("probe"), body.get("dns"), a.get("subnet")
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
            ),
            probe=ProbeSpec(probe["path"], probe.get("expectStatus", 200)) if probe else None,
            remediate=bool(body.get("remediate", False)),
            integration=body.get("integration", "gateway"),
            dns=DnsSpec(dns["zone"], dns["record"]) if dns else None,
        )
