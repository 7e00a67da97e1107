"""Step ``vnetIntegration``: gateway-required VNet integration of the app (docs/azure.md §9).

Two activities, because the gateway sits between them: ``ensure_app_vnet_connection`` declares the VNet on
the app (which makes Azure issue the app's certificate, trusted by the gateway's first PUT), and
``connect_app_gateway`` hands the app the gateway's VPN client package once the gateway is Succeeded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, deferred, outcome, restart_allowed, run_activity
from activities.observe import network, observe_app_gateway, observe_vnet_connection, web
from kubelink.desired.vnet_integration import (
    AppGatewayState,
    VnetConnectionState,
    desired_vnet_connection,
    diff_app_gateway,
    diff_vnet_connection,
)
from kubelink.diff import ResourceChange
from kubelink.errors import PermanentError, TransientError
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.VNET_INTEGRATION
#: generatevpnclientpackage is short; wait for it inside the activity, but never longer than this
PACKAGE_WAIT_SECONDS = 60
PACKAGE_POLL_SECONDS = 2
BUSY_RETRY_SECONDS = 60

bp = df.Blueprint()


def connection_id(spec: LinkSpec) -> str:
    return f"{spec.app_id}/virtualNetworkConnections/{spec.network.virtual_network}"


def plan_vnet_connection(spec: LinkSpec, client: WebSiteManagementClient | None = None) -> ResourceChange:
    return _connection_change(spec, observe_vnet_connection(spec, client))


def plan_app_gateway(
    spec: LinkSpec, client: WebSiteManagementClient | None = None, net: NetworkManagementClient | None = None
) -> ResourceChange:
    """Whether the app needs the VPN package again (resync, untrusted certificate, no VNet in site config)."""
    return _app_gateway_change(spec, observe_app_gateway(spec, client, net))


def _connection_change(spec: LinkSpec, state: VnetConnectionState) -> ResourceChange:
    return ResourceChange(STEP, connection_id(spec), state.exists, diff_vnet_connection(spec, state))


def _app_gateway_change(spec: LinkSpec, state: AppGatewayState) -> ResourceChange:
    resource = f"{connection_id(spec)}/gateways/primary"
    return ResourceChange(STEP, resource, bool(state.app_vnet_name), diff_app_gateway(spec, state))


@bp.activity_trigger(input_name="payload")
def ensure_app_vnet_connection(payload: dict[str, Any]) -> dict[str, Any]:
    """Declare the VNet on the app if it isn't; output the certificate's thumbprint, never its blob."""
    return run_activity(STEP, payload, _ensure_app_vnet_connection)


def _ensure_app_vnet_connection(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    client = web(spec)
    state = observe_vnet_connection(spec, client)
    change = _connection_change(spec, state)
    if change.changes and not restart_allowed(payload):
        return {**deferred(change), "certThumbprint": None}
    if change.changes:
        from azure.mgmt.web.models import VnetInfoResource

        app, vnet = spec.app, spec.network.virtual_network
        envelope = VnetInfoResource(desired_vnet_connection(spec))
        written = client.web_apps.create_or_update_vnet_connection(app.resource_group, app.name, vnet, envelope)
        state = VnetConnectionState.from_arm(spec, written.as_dict())
    thumbprint = state.cert_thumbprint or (state.certificate.thumbprint if state.certificate else None)
    return {**outcome(change), "certThumbprint": thumbprint}


@bp.activity_trigger(input_name="payload")
def connect_app_gateway(payload: dict[str, Any]) -> dict[str, Any]:
    """Hand the gateway's VPN client package to the app, unless the app is already connected through it."""
    return run_activity(STEP, payload, _connect_app_gateway)


def _connect_app_gateway(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    client, net = web(spec), network(spec)
    state = observe_app_gateway(spec, client, net)
    if not state.connection.exists:
        raise PermanentError(
            "VnetConnectionMissing",
            f"app {spec.app.name} has no connection to virtual network {spec.network.virtual_network} "
            "(ensure_app_vnet_connection runs first)",
            step=STEP,
            resource=connection_id(spec),
        )
    change = _app_gateway_change(spec, state)
    if not change.changes:
        return outcome(change)
    if not restart_allowed(payload):
        return deferred(change)
    if state.gateway.busy:
        raise TransientError(
            "GatewayBusy",
            f"gateway {spec.gateway.name} is {state.gateway.provisioning_state}; its VPN package can wait",
            step=STEP,
            resource=spec.gateway_id,
            retry_after=BUSY_RETRY_SECONDS,
        )
    package = _vpn_client_package(spec, net)
    from azure.mgmt.web.models import VnetGateway

    app, vnet = spec.app, spec.network.virtual_network
    envelope = VnetGateway({"properties": {"vnetName": vnet, "vpnPackageUri": package}})
    client.web_apps.create_or_update_vnet_connection_gateway(app.resource_group, app.name, vnet, "primary", envelope)
    return outcome(change)


def _vpn_client_package(spec: LinkSpec, net: NetworkManagementClient) -> str:
    """The package URL (a SAS: never logged or returned), waited for briefly; a slow one is retried later."""
    from azure.mgmt.network.models import VpnClientParameters

    poller = net.virtual_network_gateways.begin_generatevpnclientpackage(
        spec.network.resource_group,
        spec.gateway.name,
        VpnClientParameters(processor_architecture="Amd64"),
        polling_interval=PACKAGE_POLL_SECONDS,
    )
    poller.wait(timeout=PACKAGE_WAIT_SECONDS)
    if not poller.done():
        raise TransientError(
            "VpnClientPackagePending",
            f"gateway {spec.gateway.name} did not produce its VPN client package within {PACKAGE_WAIT_SECONDS} s",
            step=STEP,
            resource=spec.gateway_id,
        )
    url = str(poller.result() or "").strip().strip('"')
    if not url:
        raise TransientError(
            "VpnClientPackageEmpty",
            f"gateway {spec.gateway.name} returned an empty VPN client package URL",
            step=STEP,
            resource=spec.gateway_id,
        )
    return url
