"""Step ``vnetIntegration``, regional path with ``app.virtualNetwork``: the app's VNet peered with the cluster's.

Both sides are ensured in one activity (each PUT is a long-running write, started, not awaited); the
orchestrator then waits between durable timers until both read ``Connected`` (``observe_peerings``). Each side
is read in its own subscription, so the app's VNet may live in another one (``KUBELINK_ALLOWED_SCOPES`` decides).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import start
from activities.contract import Payload, outcome, run_activity
from kubelink.desired.peering import (
    CONNECTED,
    DISCONNECTED,
    PeeringState,
    VnetRef,
    adopted_fields,
    app_vnet,
    cluster_vnet,
    diff_peering,
    peering_body,
    peering_name,
)
from kubelink.diff import DiffItem, ResourceChange
from kubelink.errors import PermanentError
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.VNET_INTEGRATION

bp = df.Blueprint()


def sides(spec: LinkSpec) -> tuple[tuple[VnetRef, VnetRef], tuple[VnetRef, VnetRef]]:
    """(local, remote) for the app's side, then the cluster's."""
    app, cluster = app_vnet(spec), cluster_vnet(spec)
    assert app is not None, "only a link with app.virtualNetwork peers"
    return (app, cluster), (cluster, app)


def _client(vnet: VnetRef) -> NetworkManagementClient:
    from adapters.clients import network_client

    return network_client(vnet.subscription_id)


def observe_peering(local: VnetRef, remote: VnetRef, net: NetworkManagementClient | None = None) -> PeeringState:
    from azure.core.exceptions import ResourceNotFoundError

    net = net or _client(local)
    try:
        listed = [dict(p.as_dict()) for p in net.virtual_network_peerings.list(local.resource_group, local.name)]
    except ResourceNotFoundError:  # the VNet itself is gone: pre-flight names it
        listed = []
    return PeeringState.towards(listed, remote)


def peering_changes(spec: LinkSpec) -> list[ResourceChange]:
    """Plan and verification: each side's peering, and whether it is Connected."""
    rows = []
    for local, remote in sides(spec):
        state = observe_peering(local, remote)
        resource = f"{local.id}/virtualNetworkPeerings/{state.name or peering_name(remote)}"
        items = diff_peering(state, remote)
        if state.exists and not state.connected:
            items += (DiffItem("change", ("properties", "peeringState"), state.peering_state, CONNECTED),)
        rows.append(ResourceChange(STEP, resource, state.exists, items))
    return rows


@bp.activity_trigger(input_name="payload")
def ensure_peerings(payload: dict[str, Any]) -> dict[str, Any]:
    """Peer the app's VNet and the cluster's both ways (``allowVirtualNetworkAccess``), adopting existing peerings
    between the two; writes only the side that differs."""
    return run_activity(STEP, payload, _ensure_peerings)


def _ensure_peerings(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    """Also answers ``adopted``: ``{peering id: fields before}`` of an adopted peering whose access it turns on."""
    changes, operations, adopted = [], [], {}
    for local, remote in sides(spec):
        net = _client(local)
        state = observe_peering(local, remote, net)
        if state.peering_state == DISCONNECTED:
            raise PermanentError(
                "PeeringDisconnected",
                f"peering {state.name} of virtual network {local.name} to {remote.name} is Disconnected (its other "
                "side was deleted); Azure can only delete and create it again: delete it, then POST the link again",
                step=STEP,
                resource=f"{local.id}/virtualNetworkPeerings/{state.name}",
            )
        name = state.name or peering_name(remote)
        change = ResourceChange(
            STEP, f"{local.id}/virtualNetworkPeerings/{name}", state.exists, diff_peering(state, remote)
        )
        if change.changes:
            from azure.mgmt.network.models import VirtualNetworkPeering

            body = VirtualNetworkPeering(peering_body(state, remote))
            begin = net.virtual_network_peerings.begin_create_or_update
            operations.append(start(begin, local.resource_group, local.name, name, body)["operation"])
            if (before := adopted_fields(state)) is not None:
                adopted[change.resource] = before
        changes.append(change)
    return {**outcome(*changes), "operations": operations, **({"adopted": adopted} if adopted else {})}


@bp.activity_trigger(input_name="payload")
def observe_peerings(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"connected": bool, "states": [app side, cluster side]}``: what the orchestrator waits on."""
    return run_activity(STEP, payload, _observe_peerings)


def _observe_peerings(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    states = [observe_peering(local, remote) for local, remote in sides(spec)]
    return {
        "connected": all(s.connected for s in states),
        "states": [s.peering_state or "missing" for s in states],
    }
