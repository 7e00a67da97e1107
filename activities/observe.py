"""Read-only observation of every Azure resource a link owns, as the pure ``kubelink.desired`` states.

One place for the reads, shared by the ensure activities (observe → diff → write what differs), by plan
and by drift (observe → diff, no write). Each function takes an optional SDK client so a caller reading
several resources builds it once. Secrets read here (the app's certificate, other app settings) stay in
the returned state, in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from activities.arm import read
from kubelink.desired import dig
from kubelink.desired.gateway import GatewayState, PublicIpState, SubnetState
from kubelink.desired.preflight import PreflightFacts
from kubelink.desired.vnet_integration import AppGatewayState, VnetConnectionState
from kubelink.spec import GATEWAY_SUBNET, LinkSpec

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.web import WebSiteManagementClient


def network(spec: LinkSpec) -> NetworkManagementClient:
    from kubelink.clients import network_client

    return network_client(spec.subscription_id)


def web(spec: LinkSpec) -> WebSiteManagementClient:
    from kubelink.clients import web_client

    return web_client(spec.subscription_id)


def observe_vnet(spec: LinkSpec, net: NetworkManagementClient | None = None) -> dict[str, Any] | None:
    net = net or network(spec)
    return read(net.virtual_networks.get, spec.network.resource_group, spec.network.virtual_network)


def observe_gateway_subnet(spec: LinkSpec, net: NetworkManagementClient | None = None) -> SubnetState:
    net = net or network(spec)
    return SubnetState.from_arm(
        read(net.subnets.get, spec.network.resource_group, spec.network.virtual_network, GATEWAY_SUBNET)
    )


def observe_public_ip(spec: LinkSpec, net: NetworkManagementClient | None = None) -> PublicIpState:
    net = net or network(spec)
    return PublicIpState.from_arm(
        read(net.public_ip_addresses.get, spec.network.resource_group, spec.gateway.public_ip_name)
    )


def observe_gateway(spec: LinkSpec, net: NetworkManagementClient | None = None) -> GatewayState:
    net = net or network(spec)
    return GatewayState.from_arm(read(net.virtual_network_gateways.get, spec.network.resource_group, spec.gateway.name))


def observe_vnet_connection(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> VnetConnectionState:
    client = client or web(spec)
    app, vnet = spec.app, spec.network.virtual_network
    body = read(client.web_apps.get_vnet_connection, app.resource_group, app.name, vnet)
    return VnetConnectionState.from_arm(spec, body)


def observe_app_gateway(
    spec: LinkSpec, client: WebSiteManagementClient | None = None, net: NetworkManagementClient | None = None
) -> AppGatewayState:
    client = client or web(spec)
    site_config = read(client.web_apps.get_configuration, spec.app.resource_group, spec.app.name)
    return AppGatewayState(
        connection=observe_vnet_connection(spec, client),
        gateway=observe_gateway(spec, net),
        app_vnet_name=dig(site_config, "properties", "vnetName"),
    )


def observe_app_settings(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> dict[str, str]:
    """All the app's settings (values are secrets: compare and merge them, never report them)."""
    client = client or web(spec)
    listed = client.web_apps.list_application_settings(spec.app.resource_group, spec.app.name)
    return dict(dig(listed.as_dict(), "properties") or {})


def observe_preflight_facts(spec: LinkSpec) -> PreflightFacts:
    net, client = network(spec), web(spec)
    app = read(client.web_apps.get, spec.app.resource_group, spec.app.name)
    plan = None
    connections: tuple[dict[str, Any], ...] = ()
    if app is not None:
        plan = _read_plan(client, dig(app, "properties", "serverFarmId"))
        listed = client.web_apps.list_vnet_connections(spec.app.resource_group, spec.app.name)
        connections = tuple(dict(c.as_dict()) for c in listed)
    return PreflightFacts(
        vnet=observe_vnet(spec, net),
        app=app,
        plan=plan,
        gateway=observe_gateway(spec, net),
        app_vnet_connections=connections,
    )


def _read_plan(client: WebSiteManagementClient, plan_id: str | None) -> dict[str, Any] | None:
    """The app's App Service plan, from its ARM id (``/subscriptions/…/resourceGroups/{rg}/…/serverfarms/{name}``)."""
    parts = (plan_id or "").split("/")
    if len(parts) < 9:
        return None
    return read(client.app_service_plans.get, parts[4], parts[8])
