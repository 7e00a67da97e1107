"""Builders for the resources kubelink creates, through the real SDKs (so the tests read like the product)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm

from .conftest import POLL

RG = "kube-rg"
VNET = "kube-vnet"
GW = "kube-vnet-gw"
PIP = "kube-vnet-gw-pip"
POOL = "172.16.100.0/24"


def subnet(prefix: str, delegation: str | None = None) -> nm.Subnet:
    """A subnet body as REST JSON (the SDK's typed overloads do not list flattened kwargs)."""
    props: dict[str, object] = {"addressPrefix": prefix}
    if delegation:
        props["delegations"] = [{"name": "delegation", "properties": {"serviceName": delegation}}]
    return nm.Subnet({"properties": props})


def gateway_subnet(net: NetworkManagementClient, prefix: str = "10.240.255.0/27") -> nm.Subnet:
    return net.subnets.begin_create_or_update(RG, VNET, "GatewaySubnet", subnet(prefix), polling_interval=POLL).result()


def public_ip(net: NetworkManagementClient, name: str = PIP, sku: str = "Standard") -> nm.PublicIPAddress:
    body = {
        "location": "westeurope",
        "sku": {"name": sku, "tier": "Regional"},
        "properties": {
            "publicIPAllocationMethod": "Static" if sku == "Standard" else "Dynamic",
            "publicIPAddressVersion": "IPv4",
        },
    }
    return net.public_ip_addresses.begin_create_or_update(
        RG, name, nm.PublicIPAddress(body), polling_interval=POLL
    ).result()


def root_certificate(name: str, data: str) -> nm.VpnClientRootCertificate:
    return nm.VpnClientRootCertificate({"name": name, "properties": {"publicCertData": data}})


def gateway_body(
    subnet_id: str | None,
    pip_id: str | None,
    *,
    sku: str = "VpnGw1AZ",
    pool: str | None = POOL,
    protocols: tuple[str, ...] = ("SSTP",),
    root_certs: dict[str, str] | None = None,
) -> nm.VirtualNetworkGateway:
    """The gateway kubelink PUTs (docs/azure.md §7 and §8), as REST JSON."""
    props: dict[str, object] = {
        "gatewayType": "Vpn",
        "vpnType": "RouteBased",
        "enableBgp": False,
        "activeActive": False,
        "sku": {"name": sku, "tier": sku},
        "vpnGatewayGeneration": "Generation1",
        "ipConfigurations": [
            {
                "name": "gwipconfig",
                "properties": {
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": subnet_id},
                    "publicIPAddress": {"id": pip_id},
                },
            }
        ],
    }
    if pool is not None:
        props["vpnClientConfiguration"] = {
            "vpnClientAddressPool": {"addressPrefixes": [pool]},
            "vpnClientProtocols": list(protocols),
            "vpnAuthenticationTypes": ["Certificate"],
            "vpnClientRootCertificates": [
                {"name": name, "properties": {"publicCertData": data}} for name, data in (root_certs or {}).items()
            ],
        }
    return nm.VirtualNetworkGateway({"location": "westeurope", "properties": props})


def gateway(net: NetworkManagementClient, **body: Any) -> nm.VirtualNetworkGateway:
    """GatewaySubnet + Standard public IP + a Succeeded VPN gateway, as kubelink's gateway step leaves them."""
    gw_subnet = gateway_subnet(net)
    pip = public_ip(net)
    return net.virtual_network_gateways.begin_create_or_update(
        RG, GW, gateway_body(gw_subnet.id, pip.id, **body), polling_interval=POLL
    ).result()
