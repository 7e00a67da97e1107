"""Step ``vnetIntegration``, ``integration: privateLink``: the Private Link Service AKS makes, the endpoint subnet
and the private endpoint in the app's VNet, and the endpoint's connection state and private IP.

kubelink writes nothing in the cluster's node resource group: AKS's cloud provider makes the Private Link Service
there from the Service's annotations (step ``service``); kubelink only reads it. Long writes are started, not
awaited; the orchestrator polls between durable timers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import read
from activities.contract import Payload, run_activity, started
from activities.observe import network_of
from kubelink.desired import ArmState, dig
from kubelink.desired.peering import integration_vnet
from kubelink.desired.private_link import (
    EndpointState,
    diff_endpoint,
    diff_endpoint_subnet,
    endpoint_body,
    endpoint_subnet_body,
)
from kubelink.diff import DiffItem, ResourceChange
from kubelink.errors import PermanentError
from kubelink.progress import Step

STEP = Step.VNET_INTEGRATION

bp = df.Blueprint()

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


def id_parts(resource_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) of an ARM id."""
    parts = resource_id.split("/")
    return parts[2], parts[4], parts[-1]


def node_resource_group(spec: LinkSpec) -> str:
    """The AKS cluster's node resource group, where its cloud provider makes the Private Link Service."""
    from adapters.clients import containerservice_client

    assert spec.kubernetes.aks_cluster is not None, "privateLink needs kubernetes.aksCluster (validated)"
    subscription, group, name = id_parts(spec.kubernetes.aks_cluster)
    cluster = containerservice_client(subscription).managed_clusters.get(group, name)
    return str(cluster.node_resource_group)


def observe_service_link(spec: LinkSpec) -> dict[str, Any] | None:
    from adapters.clients import network_client

    assert spec.kubernetes.aks_cluster is not None, "privateLink needs kubernetes.aksCluster (validated)"
    subscription = id_parts(spec.kubernetes.aks_cluster)[0]
    net = network_client(subscription)
    return read(net.private_link_services.get, node_resource_group(spec), spec.private_link_service_name)


def observe_endpoint_subnet(spec: LinkSpec) -> ArmState:
    assert spec.private_link is not None, "only a privateLink link has an endpoint subnet"
    vnet = integration_vnet(spec)
    net = network_of(spec, vnet)
    return ArmState(read(net.subnets.get, vnet.resource_group, vnet.name, spec.private_link.endpoint_subnet.name))


def observe_endpoint(spec: LinkSpec) -> EndpointState:
    subscription, group, name = id_parts(spec.private_endpoint_id)
    from adapters.clients import network_client

    net = network_client(subscription)
    body = read(net.private_endpoints.get, group, name)
    ip = None
    nic_id = EndpointState(body).nic_id
    if nic_id:
        nic_subscription, nic_group, nic_name = id_parts(nic_id)
        nic = read(network_client(nic_subscription).network_interfaces.get, nic_group, nic_name)
        ip = dig((dig(nic, "properties", "ipConfigurations") or [{}])[0], "properties", "privateIPAddress")
    return EndpointState(body, ip)


def endpoint_changes(spec: LinkSpec, ip: str | None = None) -> list[ResourceChange]:
    """Plan and verification: the endpoint subnet, and the endpoint with its connection state (and, for drift, its
    NIC's IP against the recorded private address ``ip``)."""
    assert spec.endpoint_subnet_id is not None, "only a privateLink link has an endpoint subnet"
    subnet = observe_endpoint_subnet(spec)
    rows = [ResourceChange(STEP, spec.endpoint_subnet_id, subnet.exists, diff_endpoint_subnet(spec, subnet))]
    state = observe_endpoint(spec)
    service = observe_service_link(spec)
    service_id = str(dig(service, "id") or state.service_id or spec.private_link_service_name)
    items = diff_endpoint(spec, state, service_id)
    if state.exists and state.status != "Approved":
        field = ("properties", "privateLinkServiceConnections", 0, "privateLinkServiceConnectionState", "status")
        items += (DiffItem("change", field, state.status, "Approved"),)
    if state.exists and ip is not None and state.ip != ip:
        items += (DiffItem("change", ("networkInterfaces", 0, "privateIPAddress"), state.ip, ip),)
    rows.append(ResourceChange(STEP, spec.private_endpoint_id, state.exists, items))
    return rows


# --- activities -------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def observe_private_link_service(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"id": …}`` of the Private Link Service AKS made for the link's Service, or, while there is none, ``{"id":
    None, "warnings": [the Service's Warning events]}``."""
    return run_activity(STEP, payload, _observe_private_link_service)


def _observe_private_link_service(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from activities.service import service_warnings

    found = dig(observe_service_link(spec), "id")
    return {"id": found, "warnings": [] if found else service_warnings(spec)}


@bp.activity_trigger(input_name="payload")
def ensure_endpoint_subnet(payload: dict[str, Any]) -> dict[str, Any]:
    """The subnet of the private endpoint in the app's VNet: created when missing, an existing one adopted."""
    return run_activity(STEP, payload, _ensure_endpoint_subnet)


def _ensure_endpoint_subnet(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from azure.mgmt.network.models import Subnet

    assert spec.private_link is not None and spec.endpoint_subnet_id is not None
    state = observe_endpoint_subnet(spec)
    vnet = integration_vnet(spec)
    net = network_of(spec, vnet)
    change = ResourceChange(STEP, spec.endpoint_subnet_id, state.exists, diff_endpoint_subnet(spec, state))
    body = Subnet(endpoint_subnet_body(spec))
    begin = net.subnets.begin_create_or_update
    return started(change, state, begin, vnet.resource_group, vnet.name, spec.private_link.endpoint_subnet.name, body)


@bp.activity_trigger(input_name="payload")
def ensure_private_endpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "serviceId"}``: the private endpoint ``kubelink-{link}`` with one connection to the service."""
    return run_activity(STEP, payload, _ensure_private_endpoint)


def _ensure_private_endpoint(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from azure.mgmt.network.models import PrivateEndpoint

    from adapters.clients import network_client

    service_id = str(payload["serviceId"])
    state = observe_endpoint(spec)
    change = ResourceChange(STEP, spec.private_endpoint_id, state.exists, diff_endpoint(spec, state, service_id))
    if state.exists and change.changes:
        raise PermanentError(
            "PrivateEndpointElsewhere",
            f"private endpoint {spec.private_endpoint_id} exists in another subnet or towards another service; "
            "delete it (kubelink does not move an endpoint) and POST the link again",
            step=STEP,
            resource=spec.private_endpoint_id,
        )
    subscription, group, name = id_parts(spec.private_endpoint_id)
    vnet = integration_vnet(spec)
    location = dig(read(network_of(spec, vnet).virtual_networks.get, vnet.resource_group, vnet.name), "location")
    body = PrivateEndpoint(endpoint_body(spec, service_id, location))
    begin = network_client(subscription).private_endpoints.begin_create_or_update
    return started(change, state, begin, group, name, body)


@bp.activity_trigger(input_name="payload")
def observe_private_endpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"status", "ip", "message"}``: the endpoint's connection state and its NIC's private IP."""
    return run_activity(STEP, payload, _observe_private_endpoint)


def _observe_private_endpoint(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from kubelink.desired.private_link import pending_message

    state = observe_endpoint(spec)
    return {"status": state.status, "ip": state.ip, "message": pending_message(spec, state)}
