"""Teardown (``DELETE /api/links/{name}``): undo, in reverse order, what kubelink made for one link, and only that.

Every activity here reads first and removes only what is still there and is kubelink's: a second teardown, or one
resumed after a crash, finds its work done; a resource someone already deleted by hand is simply absent. Evidence
of ownership (``kubelink.ownership``): ARM tags where ARM holds them, the Service's annotations, and the link
record's ``ownership`` (``{"created": [...], "adopted": {...}}``), which the orchestrator passes in.

Each activity answers ``{"removed": [ids], "restored": [ids], "kept": [{"resource", "reason"}], "pending": bool}``;
``pending`` means it started a long delete and wants to be called again after a durable timer, until it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.app_setting import edit_app_settings
from activities.arm import read, start
from activities.contract import Payload, run_activity
from activities.observe import (
    network,
    network_of,
    observe_a_record,
    observe_app_settings,
    observe_dns_link,
    observe_dns_zone,
    observe_gateway,
    observe_gateway_subnet,
    observe_public_ip,
    observe_regional,
    observe_vnet_connection,
    private_dns,
    web,
)
from activities.peering import observe_peering, sides
from activities.private_link import id_parts, observe_endpoint, observe_endpoint_subnet
from activities.service import REQUEST_TIMEOUT, core_api, observe_service
from activities.vnet_integration import connection_id
from adapters.store import LinkStore
from kubelink.conditions import READY, Condition
from kubelink.desired import dig
from kubelink.desired.dns import record_id
from kubelink.desired.gateway import BUSY_STATES, GatewayState
from kubelink.desired.peering import ACCESS, app_vnet, integration_vnet, peering_body
from kubelink.desired.regional import certificate_users, released_certificates, releases_gateway
from kubelink.desired.service import resource_name, restore_patch
from kubelink.ownership import SERVICE, Ownership, created_by, ownership_label
from kubelink.progress import Step
from kubelink.sharing import ENDPOINT_SUBNET, GATEWAY, PEERING, PRIVATE_ENDPOINT

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient

    from kubelink.spec import LinkSpec

MERGE_PATCH = "application/merge-patch+json"
NIC_TYPE = "providers/microsoft.network/networkinterfaces"

bp = df.Blueprint()


class Teardown:
    """What one teardown activity did (or, with ``dryRun``, would do: ``POST /api/plan?teardown=``): its answer."""

    def __init__(self, payload: Payload) -> None:
        self.dry = bool(payload.get("dryRun"))
        self.removed: list[str] = []
        self.restored: list[str] = []
        self.kept: list[dict[str, Any]] = []
        self.pending = False

    def keep(self, resource: str, reason: str, shared_with: list[str] | None = None) -> None:
        """``shared_with``: the other links that still use it, to whom teardown hands it if this link created it."""
        users = {"sharedWith": shared_with} if shared_with else {}
        self.kept.append({"resource": resource, "reason": reason, **users})

    def remove(self, resource: str, write: Callable[[], Any], *, long: bool = False) -> None:
        """``write`` removes ``resource`` (a ``long`` delete is waited for by calling the activity again)."""
        if not self.dry:
            write()
            self.pending = self.pending or long
        self.removed.append(resource)

    def restore(self, resource: str, write: Callable[[], Any], *, long: bool = False) -> None:
        if not self.dry:
            write()
            self.pending = self.pending or long
        self.restored.append(resource)

    def wait(self) -> None:
        """Someone's (or an earlier call's) operation on the resource is still running: call again later."""
        self.pending = not self.dry

    def to_json(self) -> dict[str, Any]:
        return {"removed": self.removed, "restored": self.restored, "kept": self.kept, "pending": self.pending}


def _ownership(payload: Payload) -> Ownership:
    return Ownership.from_json(payload.get("ownership"))


def _shared_with(payload: Payload, part: str) -> list[str]:
    """The other links that use ``part`` (``kubelink.sharing``) of this link too, from the payload's ``sharedWith``."""
    return list((payload.get("sharedWith") or {}).get(part) or [])


# --- the app ---------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def remove_app_setting(payload: dict[str, Any]) -> dict[str, Any]:
    """The link's app setting goes; every other setting stays (list → drop one → PUT, skipped when absent)."""
    return run_activity("appSetting", payload, _remove_app_setting)


def _remove_app_setting(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    name = spec.app.setting
    if name in observe_app_settings(spec):  # the edit itself runs under the app's lease (``edit_app_settings``)
        done.remove(
            f"{spec.app_id}/config/appsettings/{name}",
            lambda: edit_app_settings(spec, lambda settings: {k: v for k, v in settings.items() if k != name}),
        )
    return done.to_json()


@bp.activity_trigger(input_name="payload")
def disconnect_app(payload: dict[str, Any]) -> dict[str, Any]:
    """The app's VNet integration, gateway-required or regional, where this link made it."""
    return run_activity("vnetIntegration", payload, _disconnect_app)


def _disconnect_app(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    """Also answers ``certThumbprint``: the app's certificate for the VNet, read before the connection goes, which
    tells the certificate release which gateway entries hold this app's data."""
    done = Teardown(payload)
    owned = _ownership(payload)
    client = web(spec)
    app = spec.app
    gateway_connection = connection_id(spec)
    connection = observe_vnet_connection(spec, client)
    thumbprint = connection.cert_thumbprint
    if connection.exists:
        if owned.created_here(gateway_connection):
            vnet = spec.network.virtual_network
            done.remove(
                gateway_connection, lambda: client.web_apps.delete_vnet_connection(app.resource_group, app.name, vnet)
            )
        else:
            done.keep(gateway_connection, "the app was connected to the VNet before the link")
    regional = f"{spec.app_id}/networkConfig/virtualNetwork"
    state = observe_regional(spec, client)
    if spec.app_subnet_id and (state.subnet_id or "").lower() == spec.app_subnet_id.lower():
        if owned.created_here(regional):
            done.remove(regional, lambda: client.web_apps.delete_swift_virtual_network(app.resource_group, app.name))
        else:
            done.keep(regional, "the app was connected through this subnet before the link")
    return {**done.to_json(), "certThumbprint": thumbprint}


@bp.activity_trigger(input_name="payload")
def remove_app_subnet(payload: dict[str, Any]) -> dict[str, Any]:
    """The delegated subnet, when this link created it and no app uses it any more (a long delete)."""
    return run_activity("vnetIntegration", payload, _remove_app_subnet)


def _remove_app_subnet(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    subnet_id = spec.app_subnet_id
    if subnet_id is None or spec.app.subnet is None:
        return done.to_json()
    vnet = integration_vnet(spec)  # the app's own VNet when it has one
    net = network_of(spec, vnet)
    subnet = read(net.subnets.get, vnet.resource_group, vnet.name, spec.app.subnet.name)
    if subnet is None:
        return done.to_json()
    if not _ownership(payload).created_here(subnet_id):
        done.keep(subnet_id, "the subnet existed before the link")
    elif dig(subnet, "properties", "provisioningState") in BUSY_STATES:
        done.wait()
    elif not done.dry and (
        dig(subnet, "properties", "serviceAssociationLinks") or dig(subnet, "properties", "ipConfigurations")
    ):  # a dry run comes before the app is disconnected, so the app's own association does not count there
        done.keep(subnet_id, "the subnet is in use by another app or resource")
    else:
        name = spec.app.subnet.name
        done.remove(subnet_id, lambda: start(net.subnets.begin_delete, vnet.resource_group, vnet.name, name), long=True)
    return done.to_json()


# --- the app's own VNet: the peerings, the private endpoint and its subnet ------------------------------------


@bp.activity_trigger(input_name="payload")
def remove_peerings(payload: dict[str, Any]) -> dict[str, Any]:
    """Both sides of the peering between the app's VNet and the cluster's (``app.virtualNetwork``, regional), each
    where this link created it and no other link peers the same two VNets; both deletes start at once."""
    return run_activity("vnetIntegration", payload, _remove_peerings)


def _remove_peerings(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    """Deleting one side turns the other ``Disconnected`` (docs/azure.md): an adopted side stays so, as Azure
    leaves it, and is listed as kept; one whose access the link turned on gets it back off (``ownership.adopted``),
    unless another link peering the same VNets needs it."""
    done = Teardown(payload)
    if spec.integration != "regional" or app_vnet(spec) is None:
        return done.to_json()
    owned, others = _ownership(payload), _shared_with(payload, PEERING)
    for local, remote in sides(spec):
        net = network_of(spec, local)
        state = observe_peering(local, remote, net)
        if not state.exists:
            continue
        peering_id = f"{local.id}/virtualNetworkPeerings/{state.name}"
        before = owned.adopted_fields(peering_id)
        access = bool(dig(state.body, "properties", "allowVirtualNetworkAccess"))
        if state.provisioning_state in BUSY_STATES:
            done.wait()
        elif not owned.created_here(peering_id) and ACCESS in before and before[ACCESS] != access and not others:
            from azure.mgmt.network.models import VirtualNetworkPeering

            body = VirtualNetworkPeering(peering_body(state, remote, access=bool(before[ACCESS])))
            begin = net.virtual_network_peerings.begin_create_or_update
            write = partial(start, begin, local.resource_group, local.name, str(state.name), body)
            done.restore(peering_id, write, long=True)
        elif not owned.created_here(peering_id):
            done.keep(peering_id, "the peering existed before the link")
        elif others:
            done.keep(peering_id, f"other links peer the same virtual networks: {', '.join(others)}", others)
        else:
            delete = partial(start, net.virtual_network_peerings.begin_delete, local.resource_group, local.name)
            done.remove(peering_id, partial(delete, str(state.name)), long=True)
    return done.to_json()


@bp.activity_trigger(input_name="payload")
def remove_private_endpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """``integration: privateLink``: the private endpoint this link created (its NIC goes with it, and its
    connection on the Private Link Service), then the endpoint subnet this link created once nothing is in it; one
    long delete at a time. The Private Link Service is AKS's: it goes with the Service (step ``service``)."""
    return run_activity("vnetIntegration", payload, _remove_private_endpoint)


def _remove_private_endpoint(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    if spec.private_link is None or spec.endpoint_subnet_id is None:
        return done.to_json()
    endpoint_id, owned = spec.private_endpoint_id, _ownership(payload)
    endpoint = observe_endpoint(spec)
    if endpoint.exists:
        others = _shared_with(payload, PRIVATE_ENDPOINT)
        if endpoint.provisioning_state in BUSY_STATES:
            done.wait()
            return done.to_json()
        if not owned.created_here(endpoint_id):
            done.keep(endpoint_id, "the private endpoint existed before the link")
        elif others:
            done.keep(endpoint_id, f"other links use this private endpoint: {', '.join(others)}", others)
        else:
            from adapters.clients import network_client

            subscription, group, name = id_parts(endpoint_id)
            begin = network_client(subscription).private_endpoints.begin_delete
            done.remove(endpoint_id, lambda: start(begin, group, name), long=True)
            if not done.dry:  # its subnet can go once it has
                return done.to_json()
    # a dry run counts the endpoint it plans to delete as gone already
    _remove_endpoint_subnet(spec, payload, done, endpoint_gone=not endpoint.exists or endpoint_id in done.removed)
    return done.to_json()


def _of_endpoint(spec: LinkSpec, resource_id: str) -> bool:
    """``resource_id`` is the link's private endpoint, or its NIC (Azure names it ``{endpoint}.nic.{guid}``, in
    the endpoint's resource group: docs/azure.md) or a child of either."""
    endpoint, found = spec.private_endpoint_id.lower(), resource_id.lower()
    group, name = endpoint.split("/providers/")[0], endpoint.rsplit("/", 1)[-1]
    return found == endpoint or found.startswith((endpoint + "/", f"{group}/{NIC_TYPE}/{name}.nic."))


def _remove_endpoint_subnet(spec: LinkSpec, payload: Payload, done: Teardown, *, endpoint_gone: bool) -> None:
    """The endpoint subnet, when this link created it, no other link names it and nothing is in it. The link's own
    endpoint, once gone, may still show there a while: its NIC is removed after the endpoint's delete has answered
    (azure-rest-api-specs#32752), so teardown waits for it rather than keep the subnet."""
    subnet_id = str(spec.endpoint_subnet_id)
    subnet = observe_endpoint_subnet(spec)
    if not subnet.exists:
        return
    others = _shared_with(payload, ENDPOINT_SUBNET)
    refs = [
        str(ref.get("id"))
        for field in ("privateEndpoints", "ipConfigurations")
        for ref in dig(subnet.body, "properties", field) or []
    ]
    users = [r for r in refs if not (endpoint_gone and _of_endpoint(spec, r))]
    if not _ownership(payload).created_here(subnet_id):
        done.keep(subnet_id, "the subnet existed before the link")
    elif others:
        done.keep(subnet_id, f"other links put their private endpoint in it: {', '.join(others)}", others)
    elif users:
        done.keep(subnet_id, f"the subnet is in use by {users[0]}")
    elif subnet.provisioning_state in BUSY_STATES or (refs and not done.dry):
        done.wait()
    else:
        vnet = integration_vnet(spec)
        assert spec.private_link is not None
        begin = partial(start, network_of(spec, vnet).subnets.begin_delete, vnet.resource_group, vnet.name)
        done.remove(subnet_id, partial(begin, spec.private_link.endpoint_subnet.name), long=True)


# --- private DNS -----------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def remove_dns(payload: dict[str, Any]) -> dict[str, Any]:
    """The A record this link created, then the zone's VNet link and the zone if kubelink created them for this link
    and nothing else is in them; one long delete at a time."""
    return run_activity("appSetting", payload, _remove_dns)


def _remove_dns(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    if spec.dns is None or spec.dns_zone_id is None:
        return done.to_json()
    dns = private_dns(spec)
    rg, zone = spec.dns_resource_group, spec.dns.zone  # beside the app's integration VNet
    record = record_id(spec)
    if observe_a_record(spec, dns).exists:
        if _ownership(payload).created_here(record):
            name = spec.dns.record
            done.remove(record, lambda: dns.record_sets.delete(rg, zone, "A", name))
        else:
            done.keep(record, "the record existed before the link")
    link = observe_dns_link(spec, dns)
    link_stays = False
    if link.exists:
        link_id = f"{spec.dns_zone_id}/virtualNetworkLinks/{link.name}"
        link_name = str(link.name)
        if link.provisioning_state in BUSY_STATES:
            done.wait()
            return done.to_json()
        if created_by(dig(link.body, "tags")) != spec.name:
            done.keep(link_id, "kubelink did not create this zone link for this link")
            link_stays = True
        else:
            begin = dns.virtual_network_links.begin_delete
            done.remove(link_id, lambda: start(begin, rg, zone, link_name), long=True)
            if not done.dry:  # the zone can go once its link has
                return done.to_json()
    zone_state = observe_dns_zone(spec, dns)
    if zone_state.exists:
        records = list(dns.record_sets.list_by_type(rg, zone, "A"))  # the record types a kubelink zone can hold
        others = [r for r in records if not (done.dry and str(r.name) == spec.dns.record and record in done.removed)]
        if zone_state.provisioning_state in BUSY_STATES:
            done.wait()
        elif created_by(dig(zone_state.body, "tags")) != spec.name:
            done.keep(spec.dns_zone_id, "kubelink did not create this zone for this link")
        elif others or link_stays:
            done.keep(spec.dns_zone_id, "the zone holds other records or links")
        else:
            done.remove(spec.dns_zone_id, lambda: start(dns.private_zones.begin_delete, rg, zone), long=True)
    return done.to_json()


# --- the Service -----------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def release_service(payload: dict[str, Any]) -> dict[str, Any]:
    """Delete the Service if this link created it; give an adopted one back the fields it had; else leave it."""
    return run_activity("service", payload, _release_service, resource=resource_name)


def _release_service(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    core = core_api(spec)
    k = spec.kubernetes
    state = observe_service(spec, core)
    where = resource_name(spec)
    if not state.exists:
        return done.to_json()
    if state.created_by(spec.name):
        done.remove(where, lambda: _delete_service(core, spec))
        return done.to_json()
    before = _ownership(payload).adopted.get(SERVICE)
    if state.adopted_by(spec.name) and before:
        patch = restore_patch(before, state)
        done.restore(
            where,
            lambda: core.patch_namespaced_service(
                k.service,
                k.namespace,
                patch,
                _content_type=MERGE_PATCH,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )
    else:
        done.keep(where, "kubelink did not create or change this Service")
    return done.to_json()


def _delete_service(core: Any, spec: LinkSpec) -> None:
    from kubernetes.client.exceptions import ApiException

    k = spec.kubernetes
    try:
        core.delete_namespaced_service(k.service, k.namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status != 404:
            raise


# --- shared: gateway, public IP, GatewaySubnet --------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def remove_shared_gateway(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "ownership", "sharedWith"}`` with ``?deleteSharedResources=true`` only: the gateway, then its public
    IP, then GatewaySubnet, each only when kubelink created it and nothing else uses it; one long delete at a time.
    ``sharedWith.gateway`` are the other links whose spec names this gateway."""
    return run_activity("gateway", payload, _remove_shared_gateway)


def _remove_shared_gateway(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    done = Teardown(payload)
    net = network(spec)
    rg = spec.network.resource_group
    gateway = observe_gateway(spec, net)
    if gateway.exists:
        if gateway.busy:
            done.wait()
            return done.to_json()
        leaving = _released_by_this_teardown(spec, gateway) if done.dry else set()
        others = _shared_with(payload, GATEWAY)
        reason = _gateway_users(spec, gateway.body, others, leaving)
        if reason:
            done.keep(spec.gateway_id, reason, others)
            done.keep(spec.public_ip_id, "it serves the gateway, which stays", others)
            done.keep(spec.gateway_subnet_id, "it holds the gateway, which stays", others)
            return done.to_json()
        name = spec.gateway.name
        done.remove(spec.gateway_id, lambda: start(net.virtual_network_gateways.begin_delete, rg, name), long=True)
        if not done.dry:  # its public IP and GatewaySubnet can go once it has
            return done.to_json()
    _remove_public_ip(spec, net, done)
    if not done.pending:
        _remove_gateway_subnet(spec, net, _ownership(payload), done)
    return done.to_json()


def _released_by_this_teardown(spec: LinkSpec, gateway: GatewayState) -> set[str]:
    """The root certificates this teardown's release step will remove (a dry run comes before that step)."""
    from activities.observe import observe_vnet_connections_of_others

    held = released_certificates(spec, gateway, observe_vnet_connection(spec).cert_thumbprint)
    connections = observe_vnet_connections_of_others(spec) if held else []
    return {c.name for c in held if not certificate_users(spec, c.thumbprint, connections)}


def _gateway_users(spec: LinkSpec, body: Any, other_links: list[str], leaving: set[str] | None = None) -> str | None:
    """Why the gateway must stay, or None when kubelink created it and nobody else uses it."""
    tags = dig(body, "tags")
    if not created_by(tags):
        return "kubelink did not create this gateway"
    # the link records are the authority on which links use it; the gateway's kubelink-links tag is rewritten only
    # inside writes a link makes anyway, so it may still name a link torn down since
    others = sorted(set(other_links) - {spec.name})
    if others:
        return f"other links use it: {', '.join(others)}"
    roots = dig(body, "properties", "vpnClientConfiguration", "vpnClientRootCertificates") or []
    roots = [c for c in roots if c.get("name") not in (leaving or set())]
    if roots:
        return f"point-to-site still trusts other root certificates: {', '.join(str(c.get('name')) for c in roots)}"
    return None


def _remove_public_ip(spec: LinkSpec, net: NetworkManagementClient, done: Teardown) -> None:
    pip = observe_public_ip(spec, net)
    if not pip.exists:
        return
    attached_to_leaving_gateway = done.dry and spec.gateway_id in done.removed
    if pip.provisioning_state in BUSY_STATES:
        done.wait()
    elif not created_by(dig(pip.body, "tags")):
        done.keep(spec.public_ip_id, "kubelink did not create this public IP")
    elif dig(pip.body, "properties", "ipConfiguration") and not attached_to_leaving_gateway:
        done.keep(spec.public_ip_id, "the public IP is still attached to a resource")
    else:
        rg, name = spec.network.resource_group, spec.gateway.public_ip_name
        done.remove(spec.public_ip_id, lambda: start(net.public_ip_addresses.begin_delete, rg, name), long=True)


def _remove_gateway_subnet(spec: LinkSpec, net: NetworkManagementClient, owned: Ownership, done: Teardown) -> None:
    subnet = observe_gateway_subnet(spec, net)
    if not subnet.exists:
        return
    body = read(net.subnets.get, spec.network.resource_group, spec.network.virtual_network, "GatewaySubnet")
    holds_leaving_gateway = done.dry and spec.gateway_id in done.removed
    if subnet.provisioning_state in BUSY_STATES:
        done.wait()
    elif not owned.created_here(spec.gateway_subnet_id):
        done.keep(spec.gateway_subnet_id, "the link did not create GatewaySubnet")
    elif dig(body, "properties", "ipConfigurations") and not holds_leaving_gateway:
        done.keep(spec.gateway_subnet_id, "GatewaySubnet still holds a gateway")
    else:
        rg, vnet = spec.network.resource_group, spec.network.virtual_network
        done.remove(
            spec.gateway_subnet_id, lambda: start(net.subnets.begin_delete, rg, vnet, "GatewaySubnet"), long=True
        )


# --- the record ------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def record_link_removed(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "removedAt", "handOver"}``: the link record goes (its drift history stays for the retention
    setting). What it created and kept because other links use it (``handOver``: ``{link: [ids]}``, e.g.
    GatewaySubnet, a peering) is written into those links' ownership first, so the last of them can remove it."""
    return run_activity(Step.RECORD, payload, _record_removed)


def _record_removed(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    store = LinkStore.from_env()
    for other, resources in (payload.get("handOver") or {}).items():
        record = store.get_link(other)
        if record is not None:
            merged = Ownership.from_json(record.ownership).merged(resources)
            store.upsert_link(other, ownership=merged.to_json())
    store.remove_link(spec.name, payload["removedAt"])
    return {}


@bp.activity_trigger(input_name="payload")
def record_teardown_failed(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "step", "error"}``: the record stays, saying why; DELETE again resumes."""
    return run_activity(Step.RECORD, payload, _record_teardown_failed)


def _record_teardown_failed(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    error = payload["error"]
    message = f"Teardown step {payload['step']} failed: {error['code']}: {error['message']}; DELETE the link again"
    LinkStore.from_env().upsert_link(
        spec.name,
        last_error=error,
        last_run_ended=datetime.now(UTC).isoformat(),
        conditions=[Condition(READY, "False", "TeardownFailed", message, "Error")],
    )
    return {}


# --- POST /api/plan?teardown={name}: what a teardown would do, writing nothing ---------------------------------


def plan_teardown(
    spec: LinkSpec, ownership: dict[str, Any], shared_with: dict[str, list[str]], delete_shared: bool
) -> list[dict[str, Any]]:
    """Rows ``{step, resource, action: delete|restore|keep, ownership: owned|adopted, reason?}`` in teardown's
    order: each teardown body run with ``dryRun`` (it decides exactly as the real run does, and skips the write),
    plus the certificate release. ``shared_with``: the other links using this link's shared parts
    (``kubelink.sharing``)."""
    payload: dict[str, Any] = {
        "spec": spec.to_json(),
        "ownership": ownership,
        "sharedWith": shared_with,
        "dryRun": True,
    }
    uses_gateway = spec.integration == "gateway" or releases_gateway(spec, False)
    steps: list[tuple[str, Callable[[LinkSpec, Payload], dict[str, Any]]]] = [
        ("appSetting", _remove_app_setting),
        ("vnetIntegration", _disconnect_app),
        ("vnetIntegration", _remove_app_subnet),
        ("vnetIntegration", _remove_peerings),
        ("vnetIntegration", _remove_private_endpoint),
    ]
    rows: list[dict[str, Any]] = []
    for step, body in steps:
        rows += _rows(step, body(spec, payload))
    if uses_gateway:
        rows += _certificate_rows(spec)
    for step, body in (("dns", _remove_dns), ("service", _release_service)):
        rows += _rows(step, body(spec, payload))
    if uses_gateway and delete_shared:
        rows += _rows("gateway", _remove_shared_gateway(spec, payload))
    elif uses_gateway:
        for resource in (spec.gateway_id, spec.public_ip_id, spec.gateway_subnet_id):
            rows.append(_row("gateway", resource, "keep", "shared: kept unless deleteSharedResources=true"))
    owned = Ownership.from_json(ownership)
    return [{**row, "ownership": _relation(row, owned)} for row in rows]


def _relation(row: dict[str, Any], owned: Ownership) -> str:
    """A delete is of what the link made; a restore gives back what it adopted; a kept resource is the link's own
    when its record says the link created it (or was handed it)."""
    if row["action"] == "delete":
        return ownership_label(True)
    if row["action"] == "restore":
        return ownership_label(False)
    return ownership_label(owned.created_here(str(row["resource"])))


def _rows(step: str, done: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *(_row(step, r, "delete") for r in done["removed"]),
        *(_row(step, r, "restore") for r in done["restored"]),
        *(_row(step, k["resource"], "keep", k["reason"]) for k in done["kept"]),
    ]


def _row(step: str, resource: str, action: str, reason: str | None = None) -> dict[str, Any]:
    row = {"step": step, "resource": resource, "action": action}
    return {**row, "reason": reason} if reason else row


def _certificate_rows(spec: LinkSpec) -> list[dict[str, Any]]:
    from activities.observe import observe_vnet_connections_of_others

    gateway = observe_gateway(spec)
    thumbprint = observe_vnet_connection(spec).cert_thumbprint
    held = released_certificates(spec, gateway, thumbprint)
    if not held:
        return []
    connections = observe_vnet_connections_of_others(spec)
    rows = []
    for cert in held:
        resource = f"{spec.gateway_id}/vpnClientRootCertificates/{cert.name}"
        users = certificate_users(spec, cert.thumbprint, connections)
        if users:  # the row names the gateway, as the teardown's output does
            reason = f"root certificate {cert.name} still trusted by app {', '.join(users)}"
            rows.append(_row("pointToSite", spec.gateway_id, "keep", reason))
        else:
            rows.append(_row("pointToSite", resource, "delete"))
    return rows
