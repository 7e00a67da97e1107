"""Microsoft.Network/privateDnsZones (api 2024-06-01): zones, virtual network links and A record sets.

Zone and link writes are LROs answered with 202 and status URLs under ``privateDnsOperationStatuses``;
record sets are synchronous. A name resolves from a VNet only through a zone linked to it.
"""

from __future__ import annotations

import uuid

from . import arm_errors, ids
from .arm_errors import ArmError, bad_request
from .cloud import Cloud
from .ipam import is_ipv4
from .network import ensure_idle, sent_tags
from .routing import NAME, Request, Response, Router, json_response, provider
from .state import CompletionHook, Json, Operation, SandboxState, public

ZONE = provider("Microsoft.Network") + rf"/privateDnsZones/(?P<zone>{NAME})"
LINK = ZONE + rf"/virtualNetworkLinks/(?P<link>{NAME})"
RECORD = ZONE + rf"/(?P<rtype>A)/(?P<record>{NAME})"

router = Router()


def _zone_id(cloud: Cloud, req: Request) -> str:
    cloud.require_group(req.params["rg"])
    return ids.provider_id(
        cloud.subscription_id, req.params["rg"], "Microsoft.Network", "privateDnsZones", req.params["zone"]
    )


def _zone(cloud: Cloud, req: Request, *, as_parent: bool = False) -> Json:
    zone = cloud.world.get(_zone_id(cloud, req))
    if zone is None:
        if as_parent:
            raise arm_errors.parent_not_found(req.params["zone"])
        raise arm_errors.resource_not_found(ids.ZONE_TYPE, req.params["zone"], req.params["rg"])
    return zone


def _require_global(body: Json) -> None:
    if str(body.get("location", "")).lower() != "global":
        raise bad_request(
            "LocationNotAvailableForResourceType",
            f"The provided location '{body.get('location')}' is not available for resource type "
            "'Microsoft.Network/privateDnsZones'. List of available regions for the resource type is 'global'.",
        )


def render_zone(cloud: Cloud, zone: Json) -> Json:
    view = public(zone)
    links = cloud.world.children(zone["id"], "virtualNetworkLinks")
    view["properties"]["numberOfVirtualNetworkLinks"] = len(links)
    view["properties"]["numberOfVirtualNetworkLinksWithRegistration"] = sum(
        1 for link in links if link["properties"]["registrationEnabled"]
    )
    view["properties"]["numberOfRecordSets"] = 1 + len(cloud.world.children(zone["id"], "A"))  # + the SOA
    return view


def check_preconditions(req: Request, existing: Json | None) -> None:
    """Honour ``If-None-Match: *`` (create only) and ``If-Match: <etag>`` (optimistic concurrency), as the private
    DNS REST spec 2024-06-01 declares them on zones, links and record sets (README "Protocol")."""
    if req.headers.get("if-none-match") == "*" and existing is not None:
        raise ArmError(412, "PreconditionFailed", "The resource already exists and If-None-Match: * was given.")
    wanted = req.headers.get("if-match")
    if wanted and wanted != "*" and (existing is None or existing.get("etag") != wanted.strip('"')):
        raise ArmError(412, "PreconditionFailed", "The etag in If-Match does not match the resource's etag.")
    if wanted == "*" and existing is None:
        raise ArmError(412, "PreconditionFailed", "The resource does not exist and If-Match: * was given.")


def _accepted(cloud: Cloud, req: Request, resource_id: str, kind: str) -> Response:
    """202 with body ``{}`` and both URLs (the az CLI zone and link recordings, tests/data/recordings/azure-cli)."""
    op = cloud.begin(req, resource_id, kind, style="privatedns")
    return json_response(202, {}, cloud.lro_headers(req, op, location=True))


# --- zones ---------------------------------------------------------------------------------------------


@router.route("GET", ZONE)
def get_zone(cloud: Cloud, req: Request) -> Response:
    return json_response(200, render_zone(cloud, _zone(cloud, req)))


@router.route("PUT", ZONE)
def put_zone(cloud: Cloud, req: Request) -> Response:
    zone_id = _zone_id(cloud, req)
    body = req.json_object()
    _require_global(body)
    if "." not in req.params["zone"].strip("."):
        raise bad_request("InvalidZoneName", f"The zone name '{req.params['zone']}' must have at least two labels.")
    ensure_idle(cloud, req, zone_id)
    existing = cloud.world.get(zone_id)
    check_preconditions(req, existing)
    cloud.world.put(
        {
            "id": zone_id,
            "name": req.params["zone"].lower(),
            "type": ids.ZONE_TYPE,
            "etag": str(uuid.uuid4()),
            "location": "global",
            **sent_tags(body),
            "properties": {
                "maxNumberOfRecordSets": 25000,
                "maxNumberOfVirtualNetworkLinks": 1000,
                "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
                "provisioningState": "Updating" if existing else "Creating",
                "internalId": existing["properties"]["internalId"] if existing else str(uuid.uuid4()),
            },
        }
    )
    return _accepted(cloud, req, zone_id, "put")


@router.route("DELETE", ZONE)
def delete_zone(cloud: Cloud, req: Request) -> Response:
    zone_id = _zone_id(cloud, req)
    zone = cloud.world.get(zone_id)
    if zone is None:
        return Response(204)
    if cloud.world.children(zone_id, "virtualNetworkLinks"):
        raise ArmError(
            409,
            "CannotDeleteResource",
            f"Can not delete resource {zone_id} while nested virtual network links exist. Delete the links first.",
        )
    zone["properties"]["provisioningState"] = "Deleting"
    return _accepted(cloud, req, zone_id, "delete")


# --- virtual network links -----------------------------------------------------------------------------


@router.route("GET", ZONE + "/virtualNetworkLinks")
def list_links(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    return json_response(
        200, {"value": [public(link) for link in cloud.world.children(zone["id"], "virtualNetworkLinks")]}
    )


@router.route("GET", LINK)
def get_link(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    link = cloud.world.get(f"{zone['id']}/virtualNetworkLinks/{req.params['link']}")
    if link is None:
        raise arm_errors.resource_not_found(
            ids.ZONE_LINK_TYPE, f"{zone['name']}/{req.params['link']}", req.params["rg"]
        )
    return json_response(200, public(link))


@router.route("PUT", LINK)
def put_link(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    link_id = f"{zone['id']}/virtualNetworkLinks/{req.params['link']}"
    body = req.json_object()
    _require_global(body)
    props = body.get("properties") or {}
    vnet_id = (props.get("virtualNetwork") or {}).get("id") or ""
    vnet = cloud.world.get(vnet_id)
    if vnet is None:
        raise bad_request("BadRequest", f"Virtual network resource not found for '{vnet_id}'.")
    cloud.require_linked(req, "Microsoft.Network/virtualNetworks/join/action", vnet_id)
    for other in cloud.world.children(zone["id"], "virtualNetworkLinks"):
        same_vnet = ids.key(other["properties"]["virtualNetwork"]["id"]) == ids.key(vnet_id)
        if same_vnet and ids.key(other["id"]) != ids.key(link_id):
            raise ArmError(
                409,
                "Conflict",
                f"A virtual network cannot be linked to the same private zone more than once. Zone "
                f"'{zone['name']}' is already linked to '{vnet_id}' by '{other['name']}'.",
            )
    ensure_idle(cloud, req, link_id)
    existing = cloud.world.get(link_id)
    check_preconditions(req, existing)
    cloud.world.put(
        {
            "id": link_id,
            "name": req.params["link"],
            "type": ids.ZONE_LINK_TYPE,
            "etag": str(uuid.uuid4()),
            "location": "global",
            **sent_tags(body),
            "properties": {
                "virtualNetwork": {"id": vnet["id"]},
                "registrationEnabled": bool(props.get("registrationEnabled", False)),
                "resolutionPolicy": props.get("resolutionPolicy", "Default"),
                "virtualNetworkLinkState": "InProgress",
                "provisioningState": "Updating" if existing else "Creating",
            },
        }
    )
    return _accepted(cloud, req, link_id, "put")


@router.route("DELETE", LINK)
def delete_link(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    link_id = f"{zone['id']}/virtualNetworkLinks/{req.params['link']}"
    link = cloud.world.get(link_id)
    if link is None:
        return Response(204)
    link["properties"]["provisioningState"] = "Deleting"
    return _accepted(cloud, req, link_id, "delete")


def _link_provisioned(world: SandboxState, link: Json, op: Operation) -> None:
    """A link that finished is ``Completed`` (its state is separate from provisioningState)."""
    if op.outcome == "Succeeded":
        link["properties"]["virtualNetworkLinkState"] = "Completed"


hooks: dict[str, CompletionHook] = {ids.ZONE_LINK_TYPE.lower(): _link_provisioned}


# --- A record sets -------------------------------------------------------------------------------------


def _record_view(zone: Json, record: Json) -> Json:
    view = public(record)
    label = record["name"]
    view["properties"]["fqdn"] = (zone["name"] if label == "@" else f"{label}.{zone['name']}") + "."
    return view


@router.route("GET", ZONE + "/A")
def list_records(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    return json_response(200, {"value": [_record_view(zone, r) for r in cloud.world.children(zone["id"], "A")]})


@router.route("GET", RECORD)
def get_record(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    record = cloud.world.get(f"{zone['id']}/A/{req.params['record']}")
    if record is None:
        raise arm_errors.resource_not_found(
            ids.A_RECORD_TYPE, f"{zone['name']}/{req.params['record']}", req.params["rg"]
        )
    return json_response(200, _record_view(zone, record))


@router.route("PUT", RECORD)
def put_record(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    record_id = f"{zone['id']}/A/{req.params['record']}"
    props = req.json_object().get("properties") or {}
    records = props.get("aRecords") or []
    if not all(isinstance(r, dict) and _is_ipv4(r.get("ipv4Address")) for r in records):
        raise bad_request("BadRequest", "The A record set has an invalid ipv4Address.")
    existing = cloud.world.get(record_id)
    check_preconditions(req, existing)
    record = cloud.world.put(
        {
            "id": record_id,
            "name": req.params["record"],
            "type": ids.A_RECORD_TYPE,
            "etag": str(uuid.uuid4()),
            "properties": {
                "metadata": props.get("metadata") or {},
                "ttl": int(props.get("ttl", 3600)),
                "isAutoRegistered": False,
                "aRecords": [{"ipv4Address": r["ipv4Address"]} for r in records],
            },
        }
    )
    return json_response(200 if existing else 201, _record_view(zone, record))


@router.route("DELETE", RECORD)
def delete_record(cloud: Cloud, req: Request) -> Response:
    zone = _zone(cloud, req, as_parent=True)
    record_id = f"{zone['id']}/A/{req.params['record']}"
    if cloud.world.get(record_id) is None:
        return Response(204)
    cloud.world.remove(record_id)
    return Response(200)


def _is_ipv4(value: object) -> bool:
    return isinstance(value, str) and is_ipv4(value)
