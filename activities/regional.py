"""The regional path (docs/azure.md §10): the app's delegated subnet and its regional connection, and, for a link
that leaves the gateway path, the removal of what that path left on the gateway.

No activity here reads or writes a gateway, except ``release_app_certificate``, which the orchestrator calls
only for a link that has (or had) one. Moving off the gateway path is ordered for the shortest outage: the
delegated subnet is ready before the app is touched; Azure connects an app regionally only once its
gateway-required connection is gone, so ``connect_app_regional`` removes that connection and connects the app
back to back in one activity; the gateway's update, which takes minutes, comes last, when the app no longer
needs it.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import read, start
from activities.contract import Payload, deferred, explained, outcome, restart_allowed, run_activity, started
from activities.observe import (
    network,
    network_of,
    observe_app_delegation,
    observe_app_subnet,
    observe_gateway,
    observe_regional,
    observe_vnet_connections_of_others,
    web,
)
from adapters.lease import exclusive
from kubelink.desired.gateway import SUCCEEDED, GatewayState
from kubelink.desired.peering import integration_vnet
from kubelink.desired.regional import (
    AppSubnetState,
    RegionalState,
    RoutingState,
    app_subnet_body,
    certificate_users,
    diff_app_routing,
    diff_app_subnet,
    diff_regional_connection,
    diff_released_certificate,
    gateway_without_certificate,
    regional_connection_body,
    released_certificates,
    releases_gateway,
    route_all_config,
)
from kubelink.diff import ResourceChange
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.VNET_INTEGRATION

bp = df.Blueprint()


# --- plan and verification: observe → diff, no write ------------------------------------------------


def regional_changes(
    spec: LinkSpec, net: NetworkManagementClient | None = None, client: WebSiteManagementClient | None = None
) -> list[ResourceChange]:
    """The delegated subnet and the app's regional connection (verification's rows)."""
    client = client or web(spec)
    return _regional_rows(spec, observe_regional(spec, client), net, client)


def plan_regional(
    spec: LinkSpec, net: NetworkManagementClient | None = None, client: WebSiteManagementClient | None = None
) -> list[ResourceChange]:
    """``regional_changes``, and for a link leaving the gateway path, its certificate to release."""
    client = client or web(spec)
    state = observe_regional(spec, client)
    rows = _regional_rows(spec, state, net, client)
    if releases_gateway(spec, state.gateway_connection):
        gateway = observe_gateway(spec, net)
        rows.append(_release_change(spec, gateway, _certificate_users(spec, gateway, client)))
    return rows


def _regional_rows(
    spec: LinkSpec, state: RegionalState, net: NetworkManagementClient | None, client: WebSiteManagementClient
) -> list[ResourceChange]:
    subnet = observe_app_subnet(spec, net, observe_app_delegation(spec, client))
    return [_subnet_change(spec, subnet), _connection_change(spec, state)]


def _subnet_change(spec: LinkSpec, state: AppSubnetState) -> ResourceChange:
    assert spec.app_subnet_id is not None, "regional integration needs app.subnet (validated)"
    return ResourceChange(STEP, spec.app_subnet_id, state.exists, diff_app_subnet(spec, state))


def _connection_change(spec: LinkSpec, state: RegionalState) -> ResourceChange:
    resource = f"{spec.app_id}/networkConfig/virtualNetwork"
    return ResourceChange(STEP, resource, state.subnet_id is not None, diff_regional_connection(spec, state))


def _release_change(
    spec: LinkSpec, gateway: GatewayState, users: list[str], thumbprint: str | None = None
) -> ResourceChange:
    """A removal: nothing is ever created, so the row is ``update`` or ``none``."""
    items = diff_released_certificate(spec, gateway, users, thumbprint)
    return ResourceChange(Step.POINT_TO_SITE, spec.gateway_id, True, items)


def _certificate_users(
    spec: LinkSpec,
    gateway: GatewayState,
    client: WebSiteManagementClient | None = None,
    thumbprint: str | None = None,
) -> list[str]:
    """Other apps trusting the data of kubelink's certificates for this app (none to ask about when they are gone)."""
    held = released_certificates(spec, gateway, thumbprint)
    if not held:
        return []
    connections = observe_vnet_connections_of_others(spec, client)
    return sorted({user for cert in held for user in certificate_users(spec, cert.thumbprint, connections)})


def routing_change(
    spec: LinkSpec, address: str | None, client: WebSiteManagementClient | None = None
) -> ResourceChange:
    """Route all, where the private address is not RFC 1918 (plan and verification's row)."""
    client = client or web(spec)
    app = spec.app
    site = read(client.web_apps.get, app.resource_group, app.name)
    config = read(client.web_apps.get_configuration, app.resource_group, app.name)
    state = RoutingState.from_arm(site, config)
    return ResourceChange(STEP, f"{spec.app_id}/config/web", True, diff_app_routing(address, state))


# --- activities -------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def ensure_app_subnet(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the subnet delegated to ``Microsoft.Web/serverFarms`` (``Microsoft.App/environments`` for a Flex
    Consumption app), or add the delegation to an adopted one."""
    return run_activity(STEP, payload, _ensure_app_subnet)


def _ensure_app_subnet(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    assert spec.app.subnet and spec.app_subnet_id, "regional integration needs app.subnet (validated)"
    from azure.mgmt.network.models import Subnet

    vnet = integration_vnet(spec)
    net = network_of(spec, vnet)
    delegation = observe_app_delegation(spec)
    with exclusive(spec.app_subnet_id):  # a subnet PUT replaces its delegations: one writer at a time
        state = observe_app_subnet(spec, net, delegation)
        rg, vnet_name, name = vnet.resource_group, vnet.name, spec.app.subnet.name
        body = Subnet(app_subnet_body(spec, state))
        begin = net.subnets.begin_create_or_update
        return started(_subnet_change(spec, state), state, begin, rg, vnet_name, name, body)


@bp.activity_trigger(input_name="payload")
def connect_app_regional(payload: dict[str, Any]) -> dict[str, Any]:
    """Connect the app through the delegated subnet, first removing its gateway-required connection to the VNet."""
    return run_activity(STEP, payload, _connect_app_regional)


def _connect_app_regional(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    client = web(spec)
    state = observe_regional(spec, client)
    change = _connection_change(spec, state)
    if change.changes and not restart_allowed(payload):
        return deferred(change)
    app, vnet = spec.app, spec.network.virtual_network
    if state.gateway_connection:
        client.web_apps.delete_vnet_connection(app.resource_group, app.name, vnet)
    if change.changes:
        from azure.mgmt.web.models import SwiftVirtualNetwork

        envelope = SwiftVirtualNetwork(regional_connection_body(spec))
        disconnected = (
            f"app {app.name} was disconnected from gateway-required integration just before; it has no VNet "
            "integration until this succeeds: POST the link again"
        )
        with explained(STEP, disconnected) if state.gateway_connection else nullcontext():
            client.web_apps.create_or_update_swift_virtual_network_connection_with_check(
                app.resource_group, app.name, envelope
            )
    return outcome(change)


@bp.activity_trigger(input_name="payload")
def ensure_app_routing(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "value"}``: turn on route all when ``value`` (the private address) is not RFC 1918, else nothing."""
    return run_activity(STEP, payload, _ensure_app_routing)


def _ensure_app_routing(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    client = web(spec)
    change = routing_change(spec, str(payload["value"]), client)
    if change.changes:
        from azure.mgmt.web.models import SiteConfigResource

        body = SiteConfigResource(route_all_config())
        client.web_apps.update_configuration(spec.app.resource_group, spec.app.name, body)
    return outcome(change)


@bp.activity_trigger(input_name="payload")
def release_app_certificate(payload: dict[str, Any]) -> dict[str, Any]:
    """Remove kubelink's root certificate for the app from the gateway it no longer uses (read-modify-write,
    every other certificate stays); never write to a busy gateway (``result: "busy"``)."""
    return run_activity(Step.POINT_TO_SITE, payload, _release_app_certificate)


def _release_app_certificate(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    """``{"spec", "certThumbprint"?}`` (the app's certificate, when teardown read it before disconnecting the app).
    ``sharedWith``: the other apps whose connections trust the same data, for which the certificate stays."""
    with exclusive(spec.gateway_id):  # the same lease as every other writer of the gateway
        return _write_gateway_without_certificate(spec, network(spec), payload.get("certThumbprint"))


def _write_gateway_without_certificate(
    spec: LinkSpec, net: NetworkManagementClient, thumbprint: str | None
) -> dict[str, Any]:
    state = observe_gateway(spec, net)
    users = _certificate_users(spec, state, thumbprint=thumbprint)
    change = _release_change(spec, state, users, thumbprint)
    if not change.changes:
        settled = state.provisioning_state if state.exists else SUCCEEDED
        return {**outcome(change), "provisioningState": settled, "sharedWith": users}
    if state.busy:
        return {"result": "busy", "changes": [], "provisioningState": state.provisioning_state}
    from azure.mgmt.network.models import VirtualNetworkGateway

    body = VirtualNetworkGateway(gateway_without_certificate(spec, state, thumbprint))
    rg, name = spec.network.resource_group, spec.gateway.name
    started = start(net.virtual_network_gateways.begin_create_or_update, rg, name, body)
    return {**outcome(change), **started, "sharedWith": []}
