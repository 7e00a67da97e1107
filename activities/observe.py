"""Read-only observation of every Azure resource a link owns, as the pure ``kubelink.desired`` states.

One place for the reads, shared by the ensure activities (observe → diff → write what differs), by plan
and by drift (observe → diff, no write). Each function takes an optional SDK client so a caller reading
several resources builds it once. Secrets read here (the app's certificate, other app settings) stay in
the returned state, in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from activities.arm import read
from kubelink.desired import dig
from kubelink.desired.dns import ARecordState, DnsResourceState, link_to_vnet
from kubelink.desired.gateway import GatewayState, PublicIpState, SubnetState
from kubelink.desired.peering import VnetRef, app_vnet, integration_vnet
from kubelink.desired.preflight import PreflightFacts, written_groups
from kubelink.desired.regional import WEB_DELEGATION, AppSubnetState, RegionalState, delegation_for
from kubelink.desired.vnet_integration import AppGatewayState, AppPackageState, VnetConnectionState
from kubelink.names import GATEWAY_SUBNET

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.privatedns import PrivateDnsManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec


#: how an observation reads one resource: ``read`` (activities/arm.py), or the sweep's shared reads
Reader = Callable[..., dict[str, Any] | None]


def network(spec: LinkSpec) -> NetworkManagementClient:
    from adapters.clients import network_client

    return network_client(spec.subscription_id)


def web(spec: LinkSpec) -> WebSiteManagementClient:
    from adapters.clients import web_client

    return web_client(spec.subscription_id)


def private_dns(spec: LinkSpec) -> PrivateDnsManagementClient:
    from adapters.clients import privatedns_client

    return privatedns_client(spec.dns_rg_id.split("/")[2])


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


def observe_gateway(spec: LinkSpec, net: NetworkManagementClient | None = None, reader: Reader = read) -> GatewayState:
    net = net or network(spec)
    return GatewayState.from_arm(
        reader(net.virtual_network_gateways.get, spec.network.resource_group, spec.gateway.name)
    )


def observe_vnet_connection(
    spec: LinkSpec, client: WebSiteManagementClient | None = None, reader: Reader = read
) -> VnetConnectionState:
    client = client or web(spec)
    app, vnet = spec.app, spec.network.virtual_network
    body = reader(client.web_apps.get_vnet_connection, app.resource_group, app.name, vnet)
    return VnetConnectionState.from_arm(spec, body)


def observe_app_package(
    spec: LinkSpec,
    client: WebSiteManagementClient | None = None,
    net: NetworkManagementClient | None = None,
    reader: Reader = read,
) -> AppPackageState:
    """The app's VNet connection and the gateway: what verification judges the VPN package by (two reads)."""
    return AppPackageState(
        connection=observe_vnet_connection(spec, client or web(spec), reader),
        gateway=observe_gateway(spec, net, reader),
    )


def observe_app_gateway(
    spec: LinkSpec, client: WebSiteManagementClient | None = None, net: NetworkManagementClient | None = None
) -> AppGatewayState:
    """``observe_app_package`` and the site config, whose ``vnetName`` says whether the package was handed over."""
    client = client or web(spec)
    package = observe_app_package(spec, client, net)
    site_config = read(client.web_apps.get_configuration, spec.app.resource_group, spec.app.name)
    return AppGatewayState(package.connection, package.gateway, dig(site_config, "properties", "vnetName"))


def observe_app_subnet(
    spec: LinkSpec, net: NetworkManagementClient | None = None, service: str = WEB_DELEGATION
) -> AppSubnetState:
    """The app's integration subnet, in its own VNet when it has one (``app.virtualNetwork``); ``service`` is the
    delegation the app needs (``observe_app_delegation``)."""
    assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
    vnet = integration_vnet(spec)
    net = network_of(spec, vnet, net)
    return AppSubnetState(read(net.subnets.get, vnet.resource_group, vnet.name, spec.app.subnet.name), service)


def network_of(spec: LinkSpec, vnet: VnetRef, net: NetworkManagementClient | None = None) -> NetworkManagementClient:
    """A network client for ``vnet``'s subscription (``net`` when that is the link's own)."""
    from adapters.clients import network_client

    if vnet.subscription_id.lower() == spec.subscription_id.lower():
        return net or network(spec)
    return network_client(vnet.subscription_id)


def observe_app_vnet(spec: LinkSpec) -> dict[str, Any] | None:
    """The app's own VNet (``app.virtualNetwork``), None where ARM answered 404 or the link has none."""
    vnet = app_vnet(spec)
    if vnet is None:
        return None
    return read(network_of(spec, vnet).virtual_networks.get, vnet.resource_group, vnet.name)


def observe_app_delegation(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> str:
    """The delegation the app's integration subnet needs, from its plan (Flex Consumption or any other)."""
    client = client or web(spec)
    app = read(client.web_apps.get, spec.app.resource_group, spec.app.name)
    plan = _read_plan(client, dig(app, "properties", "serverFarmId")) if app else None
    return delegation_for(dig(plan, "sku", "tier"))


def observe_regional(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> RegionalState:
    """The app's regional subnet, and whether a gateway-required connection to the link's VNet is still there."""
    client = client or web(spec)
    app, vnet = spec.app, spec.network.virtual_network
    config = read(client.web_apps.get_swift_virtual_network_connection, app.resource_group, app.name)
    return RegionalState.from_arm(config, read(client.web_apps.get_vnet_connection, app.resource_group, app.name, vnet))


def observe_vnet_connections_of_others(
    spec: LinkSpec, client: WebSiteManagementClient | None = None
) -> list[dict[str, Any]]:
    """Every other app's gateway-required connection to the link's VNet in the subscription (one read per app):
    who else may trust the certificate data App Service issued for this subscription and VNet."""
    client = client or web(spec)
    found = []
    for site in client.web_apps.list():
        if str(site.id).lower() == spec.app_id.lower():
            continue
        group = str(site.id).split("/")[4]
        connection = read(client.web_apps.get_vnet_connection, group, str(site.name), spec.network.virtual_network)
        if connection is not None:
            found.append(connection)
    return found


def observe_dns_zone(spec: LinkSpec, dns: PrivateDnsManagementClient | None = None) -> DnsResourceState:
    assert spec.dns is not None, "only a link with dns has a zone"
    dns = dns or private_dns(spec)
    return DnsResourceState(read(dns.private_zones.get, spec.dns_resource_group, spec.dns.zone))


def observe_dns_link(spec: LinkSpec, dns: PrivateDnsManagementClient | None = None) -> DnsResourceState:
    """The zone's link to the VNet, whatever its name (a VNet can be linked to a zone once)."""
    from azure.core.exceptions import ResourceNotFoundError

    assert spec.dns is not None, "only a link with dns has a zone link"
    dns = dns or private_dns(spec)
    try:
        links = [
            dict(link.as_dict()) for link in dns.virtual_network_links.list(spec.dns_resource_group, spec.dns.zone)
        ]
    except ResourceNotFoundError:  # no zone yet: no link either
        links = []
    return link_to_vnet(spec, links)


def observe_a_record(spec: LinkSpec, dns: PrivateDnsManagementClient | None = None) -> ARecordState:
    assert spec.dns is not None, "only a link with dns has a record"
    dns = dns or private_dns(spec)
    rg, zone = spec.dns_resource_group, spec.dns.zone
    return ARecordState(read(dns.record_sets.get, rg, zone, "A", spec.dns.record))


def observe_app_settings(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> dict[str, str]:
    """All the app's settings (values are secrets: compare and merge them, never report them)."""
    client = client or web(spec)
    listed = client.web_apps.list_application_settings(spec.app.resource_group, spec.app.name)
    return dict(dig(listed.as_dict(), "properties") or {})


def observe_preflight_facts(spec: LinkSpec) -> PreflightFacts:
    """The regional path reads no gateway: it must never touch one."""
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
        gateway=observe_gateway(spec, net) if spec.integration == "gateway" else None,
        app_vnet_connections=connections,
        groups=observe_written_groups(spec),
        app_vnet=observe_app_vnet(spec),
    )


def observe_region_zones(spec: LinkSpec, location: str | None) -> tuple[str, ...]:
    """The logical availability zones of ``location`` in the link's subscription (none where the region has none)."""
    from adapters.clients import subscription_client

    wanted = str(location or "").replace(" ", "").lower()
    for region in subscription_client().subscriptions.list_locations(spec.subscription_id):
        if str(region.name).lower() == wanted:
            return tuple(str(m.logical_zone) for m in region.availability_zone_mappings or ())
    return ()


def observe_written_groups(spec: LinkSpec) -> dict[str, dict[str, Any] | None]:
    """The resource groups a run would write into (for their ``managedBy``)."""
    from adapters.clients import resource_client

    found: dict[str, dict[str, Any] | None] = {}
    for _, group_id in written_groups(spec):
        _, _, subscription, _, group = group_id.split("/")
        found[group_id.lower()] = read(resource_client(subscription).resource_groups.get, group)
    return found


def _read_plan(client: WebSiteManagementClient, plan_id: str | None) -> dict[str, Any] | None:
    """The app's App Service plan, from its ARM id (``/subscriptions/…/resourceGroups/{rg}/…/serverfarms/{name}``)."""
    parts = (plan_id or "").split("/")
    if len(parts) < 9:
        return None
    return read(client.app_service_plans.get, parts[4], parts[8])
