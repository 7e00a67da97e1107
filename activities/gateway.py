"""Steps ``gateway`` and ``pointToSite``: GatewaySubnet, the public IP, the VPN gateway with point-to-site.

Every write here is a long-running ARM operation: it is started with ``polling=False`` and the activity
returns ``provisioningState`` (and the operation's status URL); the orchestrator polls
``observe_provisioning`` between durable timers. A gateway that is being written by anyone is never
written to (``result: "busy"``): a second PUT would start another 20-60 minute update, or a 409. Links of
several apps share a gateway: its read → merge → PUT runs under the gateway's lease (``adapters.lease``), so
two of them never each PUT a certificate list without the other's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import azure.durable_functions as df

from activities.arm import operation_error, start
from activities.contract import Payload, explained, outcome, run_activity
from activities.observe import (
    network,
    observe_app_subnet,
    observe_dns_link,
    observe_dns_zone,
    observe_gateway,
    observe_gateway_subnet,
    observe_public_ip,
    observe_region_zones,
    observe_vnet,
    observe_vnet_connection,
)
from activities.private_link import observe_endpoint, observe_endpoint_subnet
from adapters.lease import exclusive
from kubelink.desired import dig
from kubelink.desired.gateway import (
    FAILED_STATES,
    SUCCEEDED,
    GatewayState,
    PublicIpState,
    RootCertificate,
    SubnetState,
    desired_gateway_subnet,
    diff_gateway,
    diff_gateway_subnet,
    diff_point_to_site,
    diff_public_ip,
    gateway_body,
    merge_point_to_site,
    point_to_site_refusal,
    public_ip_body,
)
from kubelink.desired.preflight import REGIONAL_POINTER, sstp_refusal
from kubelink.diff import ResourceChange
from kubelink.errors import PermanentError
from kubelink.names import GATEWAY_SUBNET
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

GATEWAY = Step.GATEWAY
POINT_TO_SITE = Step.POINT_TO_SITE

bp = df.Blueprint()


# --- plan: observe → diff, no write -----------------------------------------------------------------


def plan_gateway_subnet(spec: LinkSpec, net: NetworkManagementClient | None = None) -> ResourceChange:
    return _subnet_change(spec, observe_gateway_subnet(spec, net))


def plan_public_ip(spec: LinkSpec, net: NetworkManagementClient | None = None) -> ResourceChange:
    net = net or network(spec)
    return _public_ip_change(spec, observe_public_ip(spec, net), observe_gateway(spec, net))


def plan_gateway(
    spec: LinkSpec, certificate: RootCertificate, net: NetworkManagementClient | None = None
) -> tuple[ResourceChange, ResourceChange]:
    """The gateway's and its point-to-site configuration's changes (``gateway``, ``pointToSite``).

    ``certificate`` is the app's (``app_certificate``), or a stand-in that no gateway trusts before Azure
    has issued it (the VNet is declared on the app only by provisioning).
    """
    return _gateway_changes(spec, observe_gateway(spec, net), certificate)


def _subnet_change(spec: LinkSpec, state: SubnetState) -> ResourceChange:
    return ResourceChange(GATEWAY, spec.gateway_subnet_id, state.exists, diff_gateway_subnet(spec, state))


def _public_ip_change(spec: LinkSpec, state: PublicIpState, gateway: GatewayState) -> ResourceChange:
    exists = state.exists or gateway.exists  # an adopted gateway keeps its own address: nothing to create
    return ResourceChange(GATEWAY, spec.public_ip_id, exists, diff_public_ip(spec, state, gateway))


def _gateway_changes(
    spec: LinkSpec, state: GatewayState, cert: RootCertificate
) -> tuple[ResourceChange, ResourceChange]:
    had_p2s = bool(dig(state.body, "properties", "vpnClientConfiguration", "vpnClientAddressPool"))
    return (
        ResourceChange(GATEWAY, spec.gateway_id, state.exists, diff_gateway(spec, state)),
        ResourceChange(POINT_TO_SITE, spec.gateway_id, had_p2s, diff_point_to_site(spec, state, cert)),
    )


def app_certificate(spec: LinkSpec, web: WebSiteManagementClient | None = None) -> RootCertificate:
    """The app's certificate for this VNet, read here so the blob never crosses the activity boundary."""
    connection = observe_vnet_connection(spec, web)
    if connection.certificate is None:
        raise PermanentError(
            "AppCertificateMissing",
            f"app {spec.app.name} has no certificate for virtual network {spec.network.virtual_network}: "
            "its VNet connection must be declared first (ensure_app_vnet_connection)",
            step=POINT_TO_SITE,
            resource=f"{spec.app_id}/virtualNetworkConnections/{spec.network.virtual_network}",
        )
    return connection.certificate


# --- activities -------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def ensure_gateway_subnet(payload: dict[str, Any]) -> dict[str, Any]:
    """Create GatewaySubnet when the VNet has none; an existing one is kept exactly as it is."""
    return run_activity(GATEWAY, payload, _ensure_gateway_subnet)


def _ensure_gateway_subnet(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    net = network(spec)
    state = observe_gateway_subnet(spec, net)
    change = _subnet_change(spec, state)
    if state.exists:
        return {**outcome(change), "provisioningState": state.provisioning_state}
    if not spec.gateway.gateway_subnet_prefix:
        raise PermanentError(
            "GatewaySubnetPrefixRequired",
            f"virtual network {spec.network.virtual_network} has no {GATEWAY_SUBNET}; set gateway.gatewaySubnetPrefix",
            step=GATEWAY,
            resource=spec.gateway_subnet_id,
        )
    from azure.mgmt.network.models import Subnet

    rg, vnet = spec.network.resource_group, spec.network.virtual_network
    started = start(net.subnets.begin_create_or_update, rg, vnet, GATEWAY_SUBNET, Subnet(desired_gateway_subnet(spec)))
    return {**outcome(change), **started}


@bp.activity_trigger(input_name="payload")
def ensure_public_ip(payload: dict[str, Any]) -> dict[str, Any]:
    """A Standard static IPv4 address for a new gateway (skipped when the gateway exists already)."""
    return run_activity(GATEWAY, payload, _ensure_public_ip)


def _ensure_public_ip(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    net = network(spec)
    state, gateway = observe_public_ip(spec, net), observe_gateway(spec, net)
    change = _public_ip_change(spec, state, gateway)
    if not change.changes:
        return {**outcome(change), "provisioningState": state.provisioning_state if state.exists else SUCCEEDED}
    location = dig(state.body, "location") or _vnet_location(spec, net)
    from azure.mgmt.network.models import PublicIPAddress

    zones = observe_region_zones(spec, location) if state.body is None else ()
    body = PublicIPAddress(public_ip_body(spec, state, location, zones))
    rg, name = spec.network.resource_group, spec.gateway.public_ip_name
    started = start(net.public_ip_addresses.begin_create_or_update, rg, name, body)
    return {**outcome(change), **started}


@bp.activity_trigger(input_name="payload")
def ensure_gateway(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the gateway in one PUT that already carries point-to-site and the app's root certificate, or
    update an adopted one read-modify-write where it differs; never write to a busy gateway."""
    return run_activity(GATEWAY, payload, _ensure_gateway)


def _ensure_gateway(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    with exclusive(spec.gateway_id):  # another link's app may be adding its certificate right now
        return _write_gateway(spec, network(spec))


def _write_gateway(spec: LinkSpec, net: NetworkManagementClient) -> dict[str, Any]:
    """Read → merge → PUT (started: the operation makes the gateway busy, so the next writer waits for it)."""
    state = observe_gateway(spec, net)
    if state.busy:
        busy = {"result": "busy", "pointToSite": "unchanged", "changes": []}
        return {**busy, "provisioningState": state.provisioning_state}
    _refuse_point_to_site_changes(spec, state)
    cert = app_certificate(spec)
    gateway, point_to_site = _gateway_changes(spec, state, cert)
    results = {**outcome(gateway, point_to_site), "result": gateway.result, "pointToSite": point_to_site.result}
    if state.exists and not gateway.changes and not point_to_site.changes:
        return {**results, "provisioningState": state.provisioning_state}
    location = dig(state.body, "location") or _vnet_location(spec, net)
    from azure.mgmt.network.models import VirtualNetworkGateway

    body = VirtualNetworkGateway(gateway_body(spec, state, cert, location))
    rg, name = spec.network.resource_group, spec.gateway.name
    with explained(GATEWAY, REGIONAL_POINTER):  # Azure refusing this write may be the SSTP retirement
        started = start(net.virtual_network_gateways.begin_create_or_update, rg, name, body)
    return {**results, **started}


def _refuse_point_to_site_changes(spec: LinkSpec, state: GatewayState) -> None:
    """The pre-flight's point-to-site rules again, on the gateway as it is now (someone may have changed it since):
    refused before any write."""
    merge = merge_point_to_site(spec, state)
    if merge.enables_sstp and not spec.gateway.allow_new_sstp:
        raise PermanentError("SstpCannotBeEnabled", sstp_refusal(spec), step=GATEWAY, resource=spec.gateway_id)
    if refusal := point_to_site_refusal(spec, merge):
        raise PermanentError("PointToSiteInUse", refusal, step=GATEWAY, resource=spec.gateway_id)


class Provisioned(Protocol):
    """What ``observe_provisioning`` needs of an observed resource."""

    @property
    def exists(self) -> bool: ...

    @property
    def provisioning_state(self) -> str | None: ...


#: every resource a link writes with a long-running operation, by the name the orchestrator polls it by
PROVISIONED: dict[str, Callable[[LinkSpec], Provisioned]] = {
    "gatewaySubnet": observe_gateway_subnet,
    "publicIp": observe_public_ip,
    "gateway": observe_gateway,
    "appSubnet": observe_app_subnet,
    "dnsZone": observe_dns_zone,
    "dnsLink": observe_dns_link,
    "endpointSubnet": observe_endpoint_subnet,
    "privateEndpoint": observe_endpoint,
}


@bp.activity_trigger(input_name="payload")
def observe_provisioning(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "resource", "step"?, "operation"?}`` → ``provisioningState`` of one of ``PROVISIONED``; for a
    failed operation, Azure's own error, read from the status URL the ensure activity returned (``operation``)."""
    return run_activity(payload.get("step") or GATEWAY, payload, _observe_provisioning)


def _observe_provisioning(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    resource = payload["resource"]
    if resource not in PROVISIONED:
        raise ValueError(f"observe_provisioning: unknown resource {resource!r}")
    state = PROVISIONED[resource](spec)
    if not state.exists:
        message = f"{resource} of link {spec.name} does not exist"
        raise PermanentError("ResourceNotFound", message, step=payload.get("step") or GATEWAY, resource=resource)
    provisioning = state.provisioning_state
    error = operation_error(network(spec), payload.get("operation")) if provisioning in FAILED_STATES else None
    return {"provisioningState": provisioning, "error": error}


def _vnet_location(spec: LinkSpec, net: NetworkManagementClient) -> str:
    """A new resource goes where the VNet is (gateway, GatewaySubnet and public IP share a region)."""
    vnet = observe_vnet(spec, net)
    if vnet is None:
        raise PermanentError(
            "VirtualNetworkNotFound",
            f"virtual network {spec.network.virtual_network} not found in resource group {spec.network.resource_group}",
            step=GATEWAY,
            resource=spec.vnet_id,
        )
    return str(vnet["location"])
