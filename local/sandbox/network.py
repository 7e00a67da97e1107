"""Microsoft.Network: virtual networks, subnets, public IPs, VPN gateways, and the operation status API.

Shapes and LRO headers follow the azure-mgmt-network recordings (tests/data/recordings): PUT → 201/200 with
``provisioningState: Updating`` and ``Azure-AsyncOperation`` (plus ``Azure-AsyncNotification`` on VNets,
public IPs and gateways), DELETE and POST actions → 202 with ``Location`` (and ``Azure-AsyncOperation`` where
recorded). The 400s are those Azure gives for the rules in docs/azure.md.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import time
import uuid
from typing import Any

from . import arm_errors, ids, ipam, listing
from .arm_errors import ArmError, bad_request
from .cloud import Cloud
from .ids import GATEWAY_SUBNET, PEERING_TYPE, PIP_TYPE, SITE_TYPE, SUBNET_TYPE, VNET_TYPE, WEB_DELEGATION
from .ids import GATEWAY_TYPE as GW_TYPE
from .private_path import peering_state, reverse_peering, vpn_sessions
from .routing import NAME, RG, SUB, Request, Response, Router, json_response, provider
from .state import CompletionHook, Json, Operation, SandboxState, public
from .tls import is_certificate_data

NS = "Microsoft.Network"
NET = provider(NS)

#: Name rule of Microsoft.Network resources (the text is the RP's own).
_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[\w.-]{0,78}\w)?$")
_AZ_SKUS = {f"VpnGw{n}AZ" for n in range(1, 6)}
_LEGACY_SKUS = {f"VpnGw{n}" for n in range(1, 6)} | {"Standard", "HighPerformance"}
_PROTOCOLS = {"ikev2": "IkeV2", "sstp": "SSTP", "openvpn": "OpenVPN"}
#: Gateway properties the sandbox computes or validates itself (everything else in a PUT is echoed).
_GATEWAY_COMPUTED = {
    "provisioningState",
    "resourceGuid",
    "ipConfigurations",
    "sku",
    "gatewayType",
    "vpnType",
    "vpnClientConfiguration",
    "bgpSettings",
    "enableBgp",
    "activeActive",
    "enablePrivateIpAddress",
    "vpnGatewayGeneration",
    "packetCaptureDiagnosticState",
    "inboundDnsForwardingEndpoint",
}

router = Router()


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def network_id(cloud: Cloud, rg: str, *type_name: str) -> str:
    return ids.provider_id(cloud.subscription_id, rg, NS, *type_name)


def check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise bad_request(
            "InvalidResourceName",
            f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word "
            "character, and it must end with a word character or with '_'. The name may contain word characters "
            "or '.', '-', '_'.",
        )


def sent_tags(body: Json) -> Json:
    """ARM echoes ``tags`` only when the request carried them (azure-mgmt-network 19.0.0's VNet PUT without
    tags answers without the key; the az CLI's ``"tags": {}`` comes back as ``{}``)."""
    return {"tags": body["tags"] or {}} if "tags" in body else {}


def require_location(body: Json) -> str:
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise bad_request("LocationRequired", "The location property is required for this definition.")
    return location


def ensure_idle(cloud: Cloud, req: Request, resource_id: str) -> None:
    """ARM serialises writes per resource: a write while an operation runs is a 409."""
    running = cloud.world.running_operation(resource_id)
    if running is not None:
        raise arm_errors.another_operation_in_progress(resource_id, cloud.status_url(req, running))


def accepted_put(
    cloud: Cloud,
    req: Request,
    stored: Json,
    created: bool,
    *,
    duration: float | None = None,
    answer_only: Json | None = None,
) -> Response:
    """Store ``stored`` as Updating, start its operation, answer 201/200 + ``Azure-AsyncOperation``
    (``answer_only``: properties the first answer shows but the resource does not keep)."""
    cloud.world.put(stored)
    op = cloud.begin(req, stored["id"], "put", duration=duration)
    headers = cloud.lro_headers(req, op, notification=_top_level(stored["id"]))
    view = render(cloud.world, stored)
    view["properties"].update(answer_only or {})
    return json_response(201 if created else 200, view, headers)


def accepted_delete(cloud: Cloud, req: Request, resource_id: str, *, duration: float | None = None) -> Response:
    stored = cloud.world.get(resource_id)
    assert stored is not None
    stored["properties"]["provisioningState"] = "Deleting"
    op = cloud.begin(req, resource_id, "delete", duration=duration)
    return Response(202, b"", cloud.lro_headers(req, op, location=True, notification=_top_level(resource_id)))


def _top_level(resource_id: str) -> bool:
    """The recordings show ``Azure-AsyncNotification`` on top-level resources' writes, not on subnets'."""
    parsed = ids.parse(resource_id)
    return parsed is not None and len(parsed.types) == 1


# --- views ---------------------------------------------------------------------------------------------


def render(world: SandboxState, stored: Json) -> Json:
    """The JSON a GET returns: the stored resource plus what ARM computes from its neighbours."""
    kind = stored.get("type", "").lower()
    view = public(stored)
    if kind == VNET_TYPE.lower():
        view["properties"]["subnets"] = [render(world, s) for s in world.children(stored["id"], "subnets")]
        view["properties"]["virtualNetworkPeerings"] = [
            render(world, p) for p in world.children(stored["id"], "virtualNetworkPeerings")
        ]
    elif kind == PEERING_TYPE.lower():
        view["properties"].update(peering_view(world, stored))
    elif kind == SUBNET_TYPE.lower():
        # read-only in azure-rest-api-specs' virtualNetwork.json (SubnetPropertiesFormat): ``ipConfigurations``, "the
        # network interface IP configurations using subnet", and ``privateEndpoints``, "references to private
        # endpoints" (a private endpoint's NIC is one of those interfaces)
        nics = nics_on_subnet(world, stored["id"])
        ip_configs = [{"id": c} for c in gateway_ip_configs_on(world, stored["id"])]
        ip_configs += [{"id": c["id"]} for nic in nics for c in nic["properties"]["ipConfigurations"]]
        if ip_configs:
            view["properties"]["ipConfigurations"] = ip_configs
        endpoints = [
            {"id": nic["properties"]["privateEndpoint"]["id"]}
            for nic in nics
            if nic["properties"].get("privateEndpoint")
        ]
        if endpoints:
            view["properties"]["privateEndpoints"] = endpoints
        links = [
            {
                "name": "AppServiceLink",
                "properties": {"linkedResourceType": WEB_DELEGATION, "link": site["properties"]["serverFarmId"]},
            }
            for site in sites_on_subnet(world, stored["id"])
        ]
        if links:
            view["properties"]["serviceAssociationLinks"] = links
    elif kind == PIP_TYPE.lower():
        for gw in world.of_type(GW_TYPE):
            for cfg in gw["properties"]["ipConfigurations"]:
                if ids.key(cfg["properties"]["publicIPAddress"]["id"]) == ids.key(stored["id"]):
                    view["properties"]["ipConfiguration"] = {"id": cfg["id"]}
    return view


def gateway_ip_configs_on(world: SandboxState, subnet_id: str) -> list[str]:
    return [
        cfg["id"]
        for gw in world.of_type(GW_TYPE)
        for cfg in gw["properties"]["ipConfigurations"]
        if ids.key(cfg["properties"]["subnet"]["id"]) == ids.key(subnet_id)
    ]


def sites_on_subnet(world: SandboxState, subnet_id: str) -> list[Json]:
    """Web apps with regional VNet integration into ``subnet_id``."""
    return [
        site
        for site in world.of_type(SITE_TYPE)
        if ids.key(site["properties"].get("virtualNetworkSubnetId") or "") == ids.key(subnet_id)
    ]


def subnet_users(world: SandboxState, subnet_id: str) -> list[str]:
    """Ids of what occupies addresses in a subnet (gateway IP configs, apps, internal load balancer IPs)."""
    users = gateway_ip_configs_on(world, subnet_id) + [s["id"] for s in sites_on_subnet(world, subnet_id)]
    allocations = world.extra.get("ilb", {}).get("allocations", {})
    users += [
        f"{a['namespace']}/{a['service']}" for a in allocations.values() if ids.key(a["subnetId"]) == ids.key(subnet_id)
    ]
    users += [nic["id"] for nic in nics_on_subnet(world, subnet_id)]
    return users


def nics_on_subnet(world: SandboxState, subnet_id: str) -> list[Json]:
    """Network interfaces with an IP configuration in ``subnet_id`` (a private endpoint's, here)."""
    return [
        nic
        for nic in world.of_type("Microsoft.Network/networkInterfaces")
        if any(
            ids.key(c["properties"]["subnet"]["id"]) == ids.key(subnet_id)
            for c in nic["properties"]["ipConfigurations"]
        )
    ]


def address_space(vnet: Json) -> list[ipam.IPv4Net]:
    return [ipam.parse_cidr(p) for p in vnet["properties"]["addressSpace"]["addressPrefixes"]]


def subnet_prefixes(subnet: Json) -> list[ipam.IPv4Net]:
    props = subnet["properties"]
    prefixes = props.get("addressPrefixes") or [props["addressPrefix"]]
    return [ipam.parse_cidr(p) for p in prefixes]


# --- virtual networks ----------------------------------------------------------------------------------


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})")
def get_vnet(cloud: Cloud, req: Request) -> Response:
    return json_response(200, render(cloud.world, _vnet(cloud, req)))


def _vnet(cloud: Cloud, req: Request) -> Json:
    rg, name = req.params["rg"], req.params["vnet"]
    cloud.require_group(rg)
    vnet = cloud.world.get(network_id(cloud, rg, "virtualNetworks", name))
    if vnet is None:
        raise arm_errors.resource_not_found(VNET_TYPE, name, rg)
    return vnet


@router.route("PUT", NET + rf"/virtualNetworks/(?P<vnet>{NAME})")
def put_vnet(cloud: Cloud, req: Request) -> Response:
    rg, name = req.params["rg"], req.params["vnet"]
    cloud.require_group(rg)
    check_name(name)
    body = req.json_object()
    location = require_location(body)
    props = body.get("properties") or {}
    vnet_id = network_id(cloud, rg, "virtualNetworks", name)
    ensure_idle(cloud, req, vnet_id)
    prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or []
    if not prefixes:
        raise bad_request("VirtualNetworkAddressSpaceCannotBeEmpty", f"Virtual network {vnet_id} has no address space.")
    space = []
    for prefix in prefixes:
        space.append(_cidr(prefix, vnet_id))
    existing = cloud.world.get(vnet_id)
    wanted = {s.get("name", "").lower(): s for s in props.get("subnets") or []}
    old_subnets = {s["name"].lower(): s for s in cloud.world.children(vnet_id, "subnets")}
    for old in old_subnets.values():
        users = subnet_users(cloud.world, old["id"])
        if old["name"].lower() not in wanted and users:
            raise bad_request(
                "InUseSubnetCannotBeDeleted",
                f"Subnet {old['name']} is in use by {users[0]} and cannot be deleted. In order to delete the subnet, "
                "delete all the resources within the subnet. See aka.ms/deletesubnet.",
            )
    subnets: list[Json] = []
    for spec in wanted.values():
        subnet_name = spec.get("name") or ""
        check_name(subnet_name)
        subnet_id = f"{vnet_id}/subnets/{subnet_name}"
        subnet = _subnet_resource(subnet_id, subnet_name, spec.get("properties") or {}, name)
        _validate_subnet_placement(subnet, name, space, subnets)
        if subnet_name.lower() in old_subnets:
            _check_in_use_update(cloud.world, old_subnets[subnet_name.lower()], subnet)
        subnets.append(subnet)
    stored: Json = {
        "name": name,
        "id": vnet_id,
        "etag": etag(),
        "type": VNET_TYPE,
        "location": location,
        **sent_tags(body),
        "properties": {
            "provisioningState": "Updating",
            "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
            "addressSpace": {"addressPrefixes": [str(p) for p in space]},
            "virtualNetworkPeerings": [],
            "enableDdosProtection": bool(props.get("enableDdosProtection", False)),
        },
    }
    if isinstance(props.get("dhcpOptions"), dict):
        # az CLI sends ``"dhcpOptions": {}``; the recorded answer is ``{"dnsServers": []}``
        stored["properties"]["dhcpOptions"] = {"dnsServers": [], **props["dhcpOptions"]}
    for passthrough in ("enableVmProtection", "encryption", "privateEndpointVNetPolicies", "ddosProtectionPlan"):
        if passthrough in props:
            stored["properties"][passthrough] = props[passthrough]
    peerings = cloud.world.children(vnet_id, "virtualNetworkPeerings")
    cloud.world.remove(vnet_id)
    for child in [*subnets, *peerings]:
        cloud.world.put(child)
    return accepted_put(cloud, req, stored, existing is None)


@router.route("GET", NET + "/virtualNetworks")
@router.route("GET", SUB + r"/providers/Microsoft\.Network/virtualNetworks")
def list_vnets(cloud: Cloud, req: Request) -> Response:
    """Resource-group and subscription lists (azure-mgmt-network 19.0.0's test_virtual_networks), paged."""
    return _list(cloud, req, VNET_TYPE)


@router.route("GET", NET + "/publicIPAddresses")
@router.route("GET", SUB + r"/providers/Microsoft\.Network/publicIPAddresses")
def list_pips(cloud: Cloud, req: Request) -> Response:
    return _list(cloud, req, PIP_TYPE)


def _list(cloud: Cloud, req: Request, full_type: str) -> Response:
    rg = req.params.get("rg")
    if rg:
        cloud.require_group(rg)
    found = [render(cloud.world, r) for r in listing.in_scope(cloud.world, full_type, rg)]
    return listing.page(req, found, cloud.settings.list_page_size)


@router.route("PATCH", NET + rf"/virtualNetworks/(?P<vnet>{NAME})")
def update_vnet_tags(cloud: Cloud, req: Request) -> Response:
    """``VirtualNetworks_UpdateTags``: synchronous, the whole VNet back (REST spec: 200 only)."""
    vnet = _vnet(cloud, req)
    ensure_idle(cloud, req, vnet["id"])
    _replace_tags(vnet, req)
    return json_response(200, render(cloud.world, vnet))


def _replace_tags(resource: Json, req: Request) -> None:
    tags = req.json_object().get("tags")
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise bad_request("InvalidRequestFormat", "Cannot parse the request: tags must be an object of strings.")
    resource["tags"] = dict(tags)
    resource["etag"] = etag()


@router.route("DELETE", NET + rf"/virtualNetworks/(?P<vnet>{NAME})")
def delete_vnet(cloud: Cloud, req: Request) -> Response:
    """202 + both URLs (the recorded VNet DELETE); refused while a subnet is in use."""
    rg, name = req.params["rg"], req.params["vnet"]
    cloud.require_group(rg)
    vnet_id = network_id(cloud, rg, "virtualNetworks", name)
    if cloud.world.get(vnet_id) is None:
        return Response(204)
    ensure_idle(cloud, req, vnet_id)
    for subnet in cloud.world.children(vnet_id, "subnets"):
        users = subnet_users(cloud.world, subnet["id"])
        if users:
            raise bad_request(
                "InUseSubnetCannotBeDeleted",
                f"Subnet {subnet['name']} is in use by {users[0]} and cannot be deleted. In order to delete the "
                "subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.",
            )
    return accepted_delete(cloud, req, vnet_id)


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/CheckIPAddressAvailability")
def check_ip_address_availability(cloud: Cloud, req: Request) -> Response:
    """``{"available", "isPlatformReserved"}`` (recorded), plus up to five free neighbours when taken."""
    vnet = _vnet(cloud, req)
    address = req.query.get("ipAddress", "")
    if not ipam.is_ipv4(address):
        raise bad_request("InvalidIPAddressFormat", f"The IP address {address} is not formatted correctly.")
    for subnet in cloud.world.children(vnet["id"], "subnets"):
        for prefix in subnet_prefixes(subnet):
            if ipaddress.IPv4Address(address) not in prefix:
                continue
            taken = _taken_addresses(cloud.world, subnet["id"])
            if not ipam.is_usable(prefix, address):
                return json_response(200, {"available": False, "isPlatformReserved": True})
            if address not in taken:
                return json_response(200, {"available": True, "isPlatformReserved": False})
            free = [str(ip) for ip in ipam.usable_hosts(prefix) if str(ip) not in taken][:5]
            return json_response(200, {"available": False, "availableIPAddresses": free, "isPlatformReserved": False})
    raise bad_request(
        "PrivateIPAddressNotInAnySubnet",
        f"Private static IP address {address} does not belong to the range of any subnet in virtual network "
        f"{vnet['id']}.",
    )


def _taken_addresses(world: SandboxState, subnet_id: str) -> set[str]:
    """Addresses in use in a subnet that the sandbox knows: internal load balancer IPs."""
    allocations = world.extra.get("ilb", {}).get("allocations", {})
    return {a["ip"] for a in allocations.values() if ids.key(a["subnetId"]) == ids.key(subnet_id)}


# --- subnets -------------------------------------------------------------------------------------------


def _subnet_ids(cloud: Cloud, req: Request) -> tuple[Json, str]:
    vnet = _vnet_parent(cloud, req)
    return vnet, f"{vnet['id']}/subnets/{req.params['subnet']}"


def _vnet_parent(cloud: Cloud, req: Request) -> Json:
    rg, name = req.params["rg"], req.params["vnet"]
    cloud.require_group(rg)
    vnet = cloud.world.get(network_id(cloud, rg, "virtualNetworks", name))
    if vnet is None:
        raise arm_errors.parent_not_found(name)
    return vnet


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/subnets")
def list_subnets(cloud: Cloud, req: Request) -> Response:
    vnet = _vnet_parent(cloud, req)
    return json_response(200, {"value": [render(cloud.world, s) for s in cloud.world.children(vnet["id"], "subnets")]})


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/subnets/(?P<subnet>{NAME})")
def get_subnet(cloud: Cloud, req: Request) -> Response:
    _, subnet_id = _subnet_ids(cloud, req)
    subnet = cloud.world.get(subnet_id)
    if subnet is None:
        raise arm_errors.child_not_found(subnet_id)
    return json_response(200, render(cloud.world, subnet))


@router.route("PUT", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/subnets/(?P<subnet>{NAME})")
def put_subnet(cloud: Cloud, req: Request) -> Response:
    vnet, subnet_id = _subnet_ids(cloud, req)
    name = req.params["subnet"]
    check_name(name)
    props = req.json_object().get("properties") or {}
    ensure_idle(cloud, req, subnet_id)
    ensure_idle(cloud, req, vnet["id"])
    existing = cloud.world.get(subnet_id)
    if existing is not None:
        name = existing["name"]
    subnet = _subnet_resource(subnet_id, name, props, vnet["name"])
    siblings = [s for s in cloud.world.children(vnet["id"], "subnets") if ids.key(s["id"]) != ids.key(subnet_id)]
    _validate_subnet_placement(subnet, vnet["name"], address_space(vnet), siblings)
    if existing is not None:
        _check_in_use_update(cloud.world, existing, subnet)
    return accepted_put(cloud, req, subnet, existing is None)


def _subnet_resource(subnet_id: str, name: str, props: Json, vnet_name: str) -> Json:
    """A subnet as stored, from the PUT's properties (a PUT replaces the whole subnet)."""
    given = props.get("addressPrefixes") or ([props["addressPrefix"]] if props.get("addressPrefix") else [])
    if not given:
        raise bad_request("NetcfgInvalidSubnet", f"Subnet '{name}' is not valid in virtual network '{vnet_name}'.")
    prefixes = [str(_cidr(p, subnet_id)) for p in given]
    delegations = []
    for item in props.get("delegations") or []:
        service = ((item or {}).get("properties") or {}).get("serviceName") or item.get("serviceName")
        delegation_name = item.get("name") or "delegation"
        if not service:
            raise bad_request("InvalidServiceNameOnDelegation", f"Delegation {delegation_name} has no service name.")
        delegations.append(
            {
                "name": delegation_name,
                "id": f"{subnet_id}/delegations/{delegation_name}",
                "etag": etag(),
                "properties": {
                    "provisioningState": "Updating",
                    "serviceName": service,
                    "actions": _delegation_actions(service),
                },
                "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
            }
        )
    if delegations and name.lower() == GATEWAY_SUBNET.lower():
        raise bad_request(
            "SubnetWithDelegationCannotBeGatewaySubnet", "GatewaySubnet cannot be delegated to a service."
        )
    properties: Json = {"provisioningState": "Updating"}
    if len(prefixes) == 1 and not props.get("addressPrefixes"):
        properties["addressPrefix"] = prefixes[0]
    else:
        properties["addressPrefixes"] = prefixes
    properties["delegations"] = delegations
    properties["privateEndpointNetworkPolicies"] = props.get("privateEndpointNetworkPolicies", "Disabled")
    properties["privateLinkServiceNetworkPolicies"] = props.get("privateLinkServiceNetworkPolicies", "Enabled")
    for passthrough in (
        "networkSecurityGroup",
        "routeTable",
        "serviceEndpoints",
        "natGateway",
        "defaultOutboundAccess",
    ):
        if passthrough in props:
            properties[passthrough] = props[passthrough]
    return {"name": name, "id": subnet_id, "etag": etag(), "properties": properties, "type": SUBNET_TYPE}


def _delegation_actions(service: str) -> list[str]:
    if service.lower() == WEB_DELEGATION.lower():
        return ["Microsoft.Network/virtualNetworks/subnets/action"]
    return []


def _cidr(text: Any, resource_id: str) -> ipam.IPv4Net:
    if not isinstance(text, str):
        raise bad_request(
            "InvalidAddressPrefixFormat", f"Address prefix {text} of resource {resource_id} is not formatted correctly."
        )
    try:
        return ipam.parse_cidr(text)
    except ValueError:
        canonical = ipam.canonical_cidr(text)
        if canonical is None:
            raise bad_request(
                "InvalidAddressPrefixFormat",
                f"Address prefix {text} of resource {resource_id} is not formatted correctly.",
            ) from None
        raise bad_request(
            "InvalidCIDRNotation",
            f"The address prefix {text} in resource {resource_id} has an invalid CIDR notation. For the given prefix "
            f"length, the address prefix should be {canonical}.",
        ) from None


def _validate_subnet_placement(subnet: Json, vnet_name: str, space: list[ipam.IPv4Net], siblings: list[Json]) -> None:
    name = subnet["name"]
    for prefix in subnet_prefixes(subnet):
        if not ipam.within_any(prefix, space):
            raise bad_request(
                "NetcfgSubnetRangeOutsideVnet",
                f"Subnet '{name}' is not valid because its IP address range is outside the IP address range of "
                f"virtual network '{vnet_name}'.",
            )
        for sibling in siblings:
            if ipam.overlaps([prefix], subnet_prefixes(sibling)):
                raise bad_request(
                    "NetcfgSubnetRangesOverlap",
                    f"Subnet '{name}' is not valid because its IP address range overlaps with that of an existing "
                    f"subnet in virtual network '{vnet_name}'.",
                )


def _check_in_use_update(world: SandboxState, old: Json, new: Json) -> None:
    users = subnet_users(world, old["id"])
    if not users:
        return
    if subnet_prefixes(old) != subnet_prefixes(new):
        raise bad_request(
            "InUseSubnetCannotBeUpdated",
            f"Subnet {old['name']} is in use by {users[0]} and cannot be updated. Its address prefix cannot change "
            "while resources use addresses in it.",
        )
    kept = {d["properties"]["serviceName"].lower() for d in new["properties"]["delegations"]}
    if sites_on_subnet(world, old["id"]) and WEB_DELEGATION.lower() not in kept:
        raise bad_request(
            "SubnetMissingRequiredDelegation",
            f"Subnet {old['name']} requires any of the following delegation(s) [{WEB_DELEGATION}] to reference "
            "service association link /AppServiceLink.",
        )


@router.route("DELETE", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/subnets/(?P<subnet>{NAME})")
def delete_subnet(cloud: Cloud, req: Request) -> Response:
    _, subnet_id = _subnet_ids(cloud, req)
    subnet = cloud.world.get(subnet_id)
    if subnet is None:
        return Response(204)
    ensure_idle(cloud, req, subnet_id)
    users = subnet_users(cloud.world, subnet_id)
    if users:
        raise bad_request(
            "InUseSubnetCannotBeDeleted",
            f"Subnet {subnet['name']} is in use by {users[0]} and cannot be deleted. In order to delete the subnet, "
            "delete all the resources within the subnet. See aka.ms/deletesubnet.",
        )
    return accepted_delete(cloud, req, subnet_id)


# --- virtual network peerings --------------------------------------------------------------------------
#
# Bodies follow azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/Network/stable/
# 2025-05-01/examples/VirtualNetworkPeeringCreate.json and VirtualNetworkPeeringList.json. A peering is
# ``Initiated`` until the remote VNet has one back, then both are ``Connected``; when one side is deleted the other
# turns ``Disconnected`` and stays so (it has to be deleted and created again) — the states and sync levels az CLI
# shows (``Initiated``/``RemoteNotInSync``, then ``Connected``/``FullyInSync``). Overlapping address spaces are ARM's
# 400 ``VnetAddressSpacesOverlap`` with the recorded message (az CLI output on subnet peering; the status code as
# in microsoft/AzureTRE#4641 for its sibling ``VnetAddressSpaceOverlapsWithAlreadyPeeredVnet``).


def _peering_id(cloud: Cloud, req: Request) -> tuple[Json, str]:
    vnet = _vnet_parent(cloud, req)
    return vnet, f"{vnet['id']}/virtualNetworkPeerings/{req.params['peering']}"


def peering_view(world: SandboxState, peering: Json) -> Json:
    """What ARM computes for a peering: its state and the remote VNet's address space as it is now."""
    state = peering_state(world, peering)
    remote = world.get((peering["properties"].get("remoteVirtualNetwork") or {}).get("id") or "")
    space = {"addressPrefixes": list(remote["properties"]["addressSpace"]["addressPrefixes"])} if remote else None
    view: Json = {
        "peeringState": state,
        "peeringSyncLevel": "FullyInSync" if state == "Connected" else "RemoteNotInSync",
    }
    if space is not None:
        view["remoteAddressSpace"] = space
        view["remoteVirtualNetworkAddressSpace"] = space
    return view


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/virtualNetworkPeerings")
def list_peerings(cloud: Cloud, req: Request) -> Response:
    vnet = _vnet_parent(cloud, req)
    found = [render(cloud.world, p) for p in cloud.world.children(vnet["id"], "virtualNetworkPeerings")]
    return json_response(200, {"value": found})


@router.route("GET", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/virtualNetworkPeerings/(?P<peering>{NAME})")
def get_peering(cloud: Cloud, req: Request) -> Response:
    _, peering_id = _peering_id(cloud, req)
    peering = cloud.world.get(peering_id)
    if peering is None:
        raise arm_errors.child_not_found(peering_id)
    return json_response(200, render(cloud.world, peering))


@router.route("PUT", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/virtualNetworkPeerings/(?P<peering>{NAME})")
def put_peering(cloud: Cloud, req: Request) -> Response:
    vnet, peering_id = _peering_id(cloud, req)
    name = req.params["peering"]
    check_name(name)
    props = req.json_object().get("properties") or {}
    ensure_idle(cloud, req, peering_id)
    remote_id = str((props.get("remoteVirtualNetwork") or {}).get("id") or "")
    remote = cloud.world.get(remote_id) if remote_id else None
    if remote is None or ids.key(remote["type"]) != ids.key(VNET_TYPE):
        raise _invalid_reference(remote_id or "(remoteVirtualNetwork)", peering_id)
    if ids.key(remote_id) == ids.key(vnet["id"]):
        raise bad_request(
            "CannotPeerVirtualNetworkWithItself", f"Virtual network {vnet['id']} cannot peer with itself."
        )
    clash = ipam.overlaps(address_space(vnet), address_space(remote))
    if clash:
        raise bad_request(
            "VnetAddressSpacesOverlap",
            f"Cannot create or update peering {peering_id}. Virtual networks {vnet['id']} and {remote['id']} cannot "
            f"be peered because their address spaces overlap. Overlapping address prefixes: {clash[0]}, {clash[1]}",
        )
    existing = cloud.world.get(peering_id)
    if existing is not None and ids.key(existing["properties"]["remoteVirtualNetwork"]["id"]) != ids.key(remote_id):
        raise bad_request(
            "CannotChangeRemoteVirtualNetworkOfPeering",
            f"Peering {peering_id} cannot change its remote virtual network; delete it and create it again.",
        )
    stored: Json = {
        "name": existing["name"] if existing else name,
        "id": peering_id,
        "etag": etag(),
        "type": PEERING_TYPE,
        "properties": {
            "provisioningState": "Updating",
            "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
            "allowVirtualNetworkAccess": bool(props.get("allowVirtualNetworkAccess", True)),
            "allowForwardedTraffic": bool(props.get("allowForwardedTraffic", False)),
            "allowGatewayTransit": bool(props.get("allowGatewayTransit", False)),
            "useRemoteGateways": bool(props.get("useRemoteGateways", False)),
            "doNotVerifyRemoteGateways": bool(props.get("doNotVerifyRemoteGateways", False)),
            "peerCompleteVnets": True,
            "enableOnlyIPv6Peering": False,
            "remoteVirtualNetwork": {"id": remote["id"]},
        },
    }
    if existing is not None and existing.get("_pairedWith"):
        stored["_pairedWith"] = existing["_pairedWith"]
    back = reverse_peering(cloud.world, stored)
    if existing is None and back is not None and not back.get("_pairedWith"):
        stored["_pairedWith"] = back["properties"]["resourceGuid"]
        back["_pairedWith"] = stored["properties"]["resourceGuid"]
    return accepted_put(cloud, req, stored, existing is None)


@router.route("DELETE", NET + rf"/virtualNetworks/(?P<vnet>{NAME})/virtualNetworkPeerings/(?P<peering>{NAME})")
def delete_peering(cloud: Cloud, req: Request) -> Response:
    _, peering_id = _peering_id(cloud, req)
    if cloud.world.get(peering_id) is None:
        return Response(204)
    ensure_idle(cloud, req, peering_id)
    return accepted_delete(cloud, req, peering_id)


# --- public IP addresses -------------------------------------------------------------------------------


def _pip_id(cloud: Cloud, req: Request) -> str:
    cloud.require_group(req.params["rg"])
    return network_id(cloud, req.params["rg"], "publicIPAddresses", req.params["pip"])


@router.route("GET", NET + rf"/publicIPAddresses/(?P<pip>{NAME})")
def get_pip(cloud: Cloud, req: Request) -> Response:
    pip = cloud.world.get(_pip_id(cloud, req))
    if pip is None:
        raise arm_errors.resource_not_found(PIP_TYPE, req.params["pip"], req.params["rg"])
    return json_response(200, render(cloud.world, pip))


@router.route("PUT", NET + rf"/publicIPAddresses/(?P<pip>{NAME})")
def put_pip(cloud: Cloud, req: Request) -> Response:
    pip_id = _pip_id(cloud, req)
    name = req.params["pip"]
    check_name(name)
    body = req.json_object()
    location = require_location(body)
    props = body.get("properties") or {}
    ensure_idle(cloud, req, pip_id)
    existing = cloud.world.get(pip_id)
    sku = body.get("sku") or {"name": "Standard"}
    sku_name = str(sku.get("name", "Standard"))
    method = props.get("publicIPAllocationMethod") or ("Dynamic" if sku_name.lower() == "basic" else "Static")
    if sku_name.lower() != "basic" and method.lower() != "static":
        raise bad_request(
            "StandardSkuPublicIPAddressesMustBeStatic",
            f"Standard sku publicIp {pip_id} must have AllocationMethod set to Static.",
        )
    if (
        existing is not None
        and existing["sku"]["name"].lower() != sku_name.lower()
        and _pip_in_use(cloud.world, pip_id)
    ):
        raise bad_request(
            "PublicIPAddressInUseCannotChangeSku", f"Public IP {pip_id} is in use; its SKU cannot change."
        )
    properties: Json = {
        "provisioningState": "Updating",
        "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
        "publicIPAddressVersion": props.get("publicIPAddressVersion", "IPv4"),
        "publicIPAllocationMethod": method[0].upper() + method[1:].lower(),
        "idleTimeoutInMinutes": props.get("idleTimeoutInMinutes", 4),
        "ipTags": props.get("ipTags") or [],
    }
    address = existing["properties"].get("ipAddress") if existing else None
    if address is None and properties["publicIPAllocationMethod"] == "Static":
        address = _next_public_ip(cloud.world)
    if address is not None:
        properties["ipAddress"] = address
    if props.get("dnsSettings"):
        properties["dnsSettings"] = props["dnsSettings"]
    stored: Json = {
        "name": name,
        "id": pip_id,
        "etag": etag(),
        "location": location,
        **sent_tags(body),
        "properties": properties,
        "type": PIP_TYPE,
        "sku": {"name": sku_name, "tier": sku.get("tier", "Regional")},
    }
    if body.get("zones"):
        _check_zones(cloud.world, name, location, body["zones"])
        stored["zones"] = body["zones"]
    return accepted_put(cloud, req, stored, existing is None)


def _check_zones(world: SandboxState, name: str, location: str, zones: Any) -> None:
    """Zones exist only in regions that have them (400 ``LocationNotSupportAvailabilityZones``, as recorded in
    Azure/Azure-Landing-Zones#425 and aztfmod/terraform-azurerm-caf#1744 for ukwest), and only those zones
    (``InvalidAvailabilityZone``, hashicorp/terraform-provider-azurerm#6296)."""
    region = world.extra.get("regions", {}).get(location.replace(" ", "").lower()) or {"zones": []}
    resource = f"Microsoft.Network/publicIPAddresses/{name}"
    if not region["zones"]:
        raise bad_request(
            "LocationNotSupportAvailabilityZones",
            f"The resource '{resource}' does not support availability zones at location '{location}'.",
        )
    unknown = [str(z) for z in zones if str(z) not in region["zones"]]
    if unknown:
        raise bad_request(
            "InvalidAvailabilityZone",
            f"The zone(s) '{','.join(unknown)}' for resource '{resource}' is not supported. The supported zones for "
            f"location '{location}' are '{','.join(region['zones'])}'",
        )


def _next_public_ip(world: SandboxState) -> str:
    n = world.extra.get("publicIpCounter", 0) + 1
    world.extra["publicIpCounter"] = n
    return f"20.23.{n // 250}.{n % 250 + 4}"


def _pip_in_use(world: SandboxState, pip_id: str) -> str | None:
    for gw in world.of_type(GW_TYPE):
        for cfg in gw["properties"]["ipConfigurations"]:
            if ids.key(cfg["properties"]["publicIPAddress"]["id"]) == ids.key(pip_id):
                return str(cfg["id"])
    return None


@router.route("DELETE", NET + rf"/publicIPAddresses/(?P<pip>{NAME})")
def delete_pip(cloud: Cloud, req: Request) -> Response:
    pip_id = _pip_id(cloud, req)
    if cloud.world.get(pip_id) is None:
        return Response(204)
    ensure_idle(cloud, req, pip_id)
    user = _pip_in_use(cloud.world, pip_id)
    if user:
        raise bad_request(
            "PublicIPAddressCannotBeDeleted",
            f"Public IP address {pip_id} can not be deleted since it is still allocated to resource {user}. In order "
            "to delete the public IP, disassociate/detach the Public IP address from the resource.",
        )
    return accepted_delete(cloud, req, pip_id)


# --- virtual network gateways --------------------------------------------------------------------------


def _gw_id(cloud: Cloud, req: Request) -> str:
    cloud.require_group(req.params["rg"])
    return network_id(cloud, req.params["rg"], "virtualNetworkGateways", req.params["gw"])


def _gateway(cloud: Cloud, req: Request) -> Json:
    gw = cloud.world.get(_gw_id(cloud, req))
    if gw is None:
        raise arm_errors.resource_not_found(GW_TYPE, req.params["gw"], req.params["rg"])
    return gw


@router.route("GET", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})")
def get_gateway(cloud: Cloud, req: Request) -> Response:
    return json_response(200, render(cloud.world, _gateway(cloud, req)))


@router.route("GET", NET + "/virtualNetworkGateways")
def list_gateways(cloud: Cloud, req: Request) -> Response:
    cloud.require_group(req.params["rg"])
    prefix = ids.key(ids.rg_id(cloud.subscription_id, req.params["rg"]))
    found = [render(cloud.world, g) for g in cloud.world.of_type(GW_TYPE) if ids.key(g["id"]).startswith(prefix + "/")]
    return json_response(200, {"value": found})


@router.route("PATCH", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})")
def update_gateway_tags(cloud: Cloud, req: Request) -> Response:
    """``VirtualNetworkGateways_UpdateTags`` is long-running in the REST spec (200/202): it answers like a PUT."""
    gw = _gateway(cloud, req)
    ensure_idle(cloud, req, gw["id"])
    _replace_tags(gw, req)
    gw["properties"]["provisioningState"] = "Updating"
    op = cloud.begin(req, gw["id"], "put")
    return json_response(200, render(cloud.world, gw), cloud.lro_headers(req, op, notification=True))


@router.route("PUT", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})")
def put_gateway(cloud: Cloud, req: Request) -> Response:
    gw_id = _gw_id(cloud, req)
    name = req.params["gw"]
    check_name(name)
    body = req.json_object()
    location = require_location(body)
    props = body.get("properties") or {}
    ensure_idle(cloud, req, gw_id)
    existing = cloud.world.get(gw_id)
    sku = _gateway_sku(gw_id, props, existing)
    ip_configs, vnet = _gateway_ip_configs(cloud, gw_id, props, sku["name"])
    for config in ip_configs:
        linked = config["properties"]
        cloud.require_linked(req, "Microsoft.Network/virtualNetworks/subnets/join/action", linked["subnet"]["id"])
        public_ip = (linked.get("publicIPAddress") or {}).get("id")
        cloud.require_linked(req, "Microsoft.Network/publicIPAddresses/join/action", public_ip)
    gateway_type = str(props.get("gatewayType", "Vpn"))
    vpn_type = str(props.get("vpnType", "RouteBased"))
    properties: Json = {
        "provisioningState": "Updating",
        "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
        "packetCaptureDiagnosticState": "None",
        "enablePrivateIpAddress": bool(props.get("enablePrivateIpAddress", False)),
        "ipConfigurations": ip_configs,
        "sku": sku,
        "gatewayType": "Vpn" if gateway_type.lower() == "vpn" else gateway_type,
        "vpnType": "RouteBased" if vpn_type.lower() == "routebased" else "PolicyBased",
        "enableBgp": bool(props.get("enableBgp", False)),
        "activeActive": bool(props.get("activeActive", False)),
        "vpnGatewayGeneration": props.get("vpnGatewayGeneration") or "Generation1",
    }
    if props.get("vpnClientConfiguration") is not None:
        properties["vpnClientConfiguration"] = _vpn_client_configuration(
            gw_id, props["vpnClientConfiguration"], vnet, sku["name"]
        )
    if existing is not None and existing["properties"].get("bgpSettings"):
        properties["bgpSettings"] = existing["properties"]["bgpSettings"]
    else:  # until it is up, as recorded: ASN 0 and no addresses yet
        properties["bgpSettings"] = {
            "asn": 0,
            "peerWeight": 0,
            "bgpPeeringAddresses": [
                {"ipconfigurationId": c["id"], "defaultBgpIpAddresses": [], "customBgpIpAddresses": []}
                for c in ip_configs
            ],
        }
    # Properties the sandbox does not model come back as sent (customRoutes, enableDnsForwarding, natRules, …).
    for name, value in props.items():
        if name not in _GATEWAY_COMPUTED:
            properties[name] = value
    stored = {
        "name": name,
        "id": gw_id,
        "etag": etag(),
        "type": GW_TYPE,
        "location": location,
        **sent_tags(body),
        "properties": properties,
    }
    answer_only: Json = {}
    if "vpnClientConfiguration" not in properties:
        # recorded: the PUT's answer shows an empty point-to-site configuration the gateway's GET then omits
        answer_only["vpnClientConfiguration"] = {
            "vpnClientProtocols": ["IkeV2"] if sku["name"] == "Basic" else ["OpenVPN", "IkeV2"],
            "vpnClientRootCertificates": [],
            "vpnClientRevokedCertificates": [],
            "radiusServers": [],
            "vpnClientIpsecPolicies": [],
        }
    return accepted_put(
        cloud, req, stored, existing is None, duration=cloud.settings.gateway_seconds, answer_only=answer_only
    )


def _gateway_sku(gw_id: str, props: Json, existing: Json | None) -> Json:
    sku = props.get("sku") or {}
    name = str(sku.get("name") or "")
    allowed = [*sorted(_AZ_SKUS), "Basic"]
    canonical = {s.lower(): s for s in [*allowed, *_LEGACY_SKUS]}.get(name.lower())
    unchanged_legacy = existing is not None and existing["properties"]["sku"]["name"].lower() == name.lower()
    if canonical is None or (canonical in _LEGACY_SKUS and not unchanged_legacy):
        raise bad_request(
            "InvalidGatewaySkuSpecifiedForGatewayDeploymentType",
            f"Virtual network gateway Sku specified is not valid for gateway {gw_id} with DeploymentType VMScaleSet. "
            f"The allowed Skus are {','.join(allowed)}.",
        )
    return {"name": canonical, "tier": canonical, "capacity": 2}


def _gateway_ip_configs(cloud: Cloud, gw_id: str, props: Json, sku: str) -> tuple[list[Json], Json]:
    configs = props.get("ipConfigurations") or []
    if not configs:
        raise bad_request(
            "VirtualNetworkGatewayMustHaveIpConfiguration",
            f"Virtual network gateway {gw_id} must have one IP configuration.",
        )
    result: list[Json] = []
    vnet: Json | None = None
    for config in configs:
        cfg_props = config.get("properties") or {}
        cfg_name = config.get("name") or "default"
        subnet_ref = (cfg_props.get("subnet") or {}).get("id") or ""
        pip_ref = (cfg_props.get("publicIPAddress") or {}).get("id") or ""
        if not subnet_ref:
            raise bad_request(
                "SubnetReferenceRequired",
                f"Subnet reference is required for ipconfiguration {gw_id}/ipConfigurations/{cfg_name}.",
            )
        subnet = cloud.world.get(subnet_ref)
        if subnet is None:
            raise _invalid_reference(subnet_ref, gw_id)
        if subnet["name"] != GATEWAY_SUBNET:
            raise bad_request(
                "InvalidGatewaySubnet",
                f"Subnet {subnet_ref} referenced by {gw_id} must be named '{GATEWAY_SUBNET}' to host a virtual "
                "network gateway.",
            )
        if any(p.prefixlen > 29 for p in subnet_prefixes(subnet)):
            raise bad_request(
                "GatewaySubnetIsTooSmall",
                f"Subnet {subnet_ref} is too small for a virtual network gateway; it must be /29 or larger "
                "(/27 recommended).",
            )
        pip = cloud.world.get(pip_ref) if pip_ref else None
        if pip is None:
            raise _invalid_reference(pip_ref or "(publicIPAddress)", gw_id)
        if pip["sku"]["name"].lower() == "basic" and sku != "Basic":
            raise bad_request(
                "PublicIpWithBasicSkuNotAllowedOnVPNGateways",
                f"Basic IP configuration for VPN Virtual Network Gateways is not supported. Follow the link for more "
                f"details : https://go.microsoft.com/fwlink/?linkid=2241350 {gw_id}/ipConfigurations/{cfg_name}",
            )
        other = _pip_in_use(cloud.world, pip["id"])
        if other and not ids.key(other).startswith(ids.key(gw_id) + "/"):
            raise bad_request("PublicIPAddressInUse", f"Public IP address {pip['id']} is already used by {other}.")
        for ref in (subnet, pip):
            state = ref["properties"]["provisioningState"]
            if state != "Succeeded":
                raise bad_request(
                    "ReferencedResourceNotProvisioned",
                    f"Cannot proceed with operation because resource {ref['id']} used by resource {gw_id} is not in "
                    f"Succeeded state. Resource is in {state} state and the last operation that updated/is updating "
                    "the resource is PutOperation.",
                )
        vnet = cloud.world.get(ids.parse(subnet["id"]).parent())  # type: ignore[union-attr]
        result.append(
            {
                "name": cfg_name,
                "id": f"{gw_id}/ipConfigurations/{cfg_name}",
                "etag": etag(),
                "type": "Microsoft.Network/virtualNetworkGateways/ipConfigurations",
                "properties": {
                    "provisioningState": "Updating",
                    "privateIPAllocationMethod": cfg_props.get("privateIPAllocationMethod", "Dynamic"),
                    "publicIPAddress": {"id": pip["id"]},
                    "subnet": {"id": subnet["id"]},
                },
            }
        )
    assert vnet is not None
    return result, vnet


def _invalid_reference(ref: str, gw_id: str) -> ArmError:
    return bad_request(
        "InvalidResourceReference",
        f"Resource {ref} referenced by resource {gw_id} was not found. Please make sure that the referenced resource "
        "exists, and that both resources are in the same region.",
    )


def _vpn_client_configuration(gw_id: str, given: Json, vnet: Json, sku: str) -> Json:
    pool = (given.get("vpnClientAddressPool") or {}).get("addressPrefixes") or []
    pool_nets = [_cidr(p, gw_id) for p in pool]
    clash = ipam.overlaps(address_space(vnet), pool_nets)
    if clash:
        raise bad_request(
            "VpnClientAddressPoolOverlapsWithVnetAddressSpace",
            "The virtual network gateway's VPN client address pool overlaps with the virtual network's address "
            f"space. The overlapping address space prefixes are {clash[0]} and {clash[1]}.",
        )
    raw_protocols = given.get("vpnClientProtocols")
    protocols = ["IkeV2"] if sku == "Basic" else ["OpenVPN", "IkeV2"]
    if raw_protocols:
        protocols = []
        for p in raw_protocols:
            canonical = _PROTOCOLS.get(str(p).lower())
            if canonical is None:
                raise bad_request(
                    "InvalidVpnClientProtocol", f"VPN client protocol {p} is not valid for gateway {gw_id}."
                )
            protocols.append(canonical)
    if "SSTP" in protocols and "OpenVPN" in protocols:
        raise bad_request(
            "VpnClientProtocolsSstpAndOpenVpnCannotCoexist",
            f"Gateway {gw_id}: SSTP and OpenVPN cannot be enabled together for point-to-site clients.",
        )
    roots = []
    for cert in given.get("vpnClientRootCertificates") or []:
        cert_name = cert.get("name") or ""
        data = "".join(
            str((cert.get("properties") or {}).get("publicCertData") or cert.get("publicCertData") or "").split()
        )
        if not cert_name or not is_certificate_data(data):
            raise bad_request(
                "InvalidVpnClientRootCertificate",
                f"The root certificate '{cert_name}' of gateway {gw_id} must have a name and base64-encoded DER "
                "certificate data (publicCertData).",
            )
        roots.append(
            {
                "name": cert_name,
                "id": f"{gw_id}/vpnClientRootCertificates/{cert_name}",
                "etag": etag(),
                "properties": {"provisioningState": "Updating", "publicCertData": data},
            }
        )
    config: Json = {
        "vpnClientProtocols": protocols,
        "vpnAuthenticationTypes": given.get("vpnAuthenticationTypes") or [],
        "vpnClientRootCertificates": roots,
        "vpnClientRevokedCertificates": given.get("vpnClientRevokedCertificates") or [],
        "radiusServers": given.get("radiusServers") or [],
        "vpnClientIpsecPolicies": given.get("vpnClientIpsecPolicies") or [],
    }
    if pool:
        config["vpnClientAddressPool"] = {"addressPrefixes": [str(p) for p in pool_nets]}
    return config


def _gateway_provisioned(world: SandboxState, gw: Json, op: Operation) -> None:
    """A gateway that came up gets its BGP settings and a dynamic public IP its address, as Azure's do."""
    if op.outcome != "Succeeded":
        return
    cfg = gw["properties"]["ipConfigurations"][0]
    subnet = world.get(cfg["properties"]["subnet"]["id"])
    pip = world.get(cfg["properties"]["publicIPAddress"]["id"])
    if subnet is None or pip is None:
        return
    if "ipAddress" not in pip["properties"]:
        pip["properties"]["ipAddress"] = _next_public_ip(world)
    peering = str(subnet_prefixes(subnet)[0].broadcast_address - 1)
    gw["properties"]["bgpSettings"] = {
        "asn": 65515,
        "bgpPeeringAddress": peering,
        "peerWeight": 0,
        "bgpPeeringAddresses": [
            {
                "ipconfigurationId": cfg["id"],
                "defaultBgpIpAddresses": [peering],
                "customBgpIpAddresses": [],
                "tunnelIpAddresses": [pip["properties"]["ipAddress"]],
            }
        ],
    }


@router.route("DELETE", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})")
def delete_gateway(cloud: Cloud, req: Request) -> Response:
    gw_id = _gw_id(cloud, req)
    if cloud.world.get(gw_id) is None:
        return Response(204)
    ensure_idle(cloud, req, gw_id)
    return accepted_delete(cloud, req, gw_id, duration=cloud.settings.gateway_seconds)


@router.route("POST", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})/generatevpnclientpackage")
def generate_vpn_client_package(cloud: Cloud, req: Request) -> Response:
    gw = _gateway(cloud, req)
    ensure_idle(cloud, req, gw["id"])
    params = req.body if isinstance(req.body, dict) else {}
    arch = params.get("processorArchitecture", "Amd64")
    if arch not in ("Amd64", "X86"):
        raise bad_request("InvalidProcessorArchitecture", f"Processor architecture {arch} is not valid.")
    if gw["properties"]["provisioningState"] != "Succeeded":
        raise bad_request(
            "VirtualNetworkGatewayNotProvisioned",
            f"Virtual network gateway {gw['id']} is in {gw['properties']['provisioningState']} state.",
        )
    config = gw["properties"].get("vpnClientConfiguration") or {}
    if not (config.get("vpnClientAddressPool") or {}).get("addressPrefixes"):
        raise bad_request(
            "VpnClientConfigurationNotSet",
            f"Point-to-site VPN is not configured on gateway {gw['id']}: it has no VPN client address pool.",
        )
    package_id = uuid.uuid4().hex
    signature = base64.urlsafe_b64encode(hashlib.sha256(package_id.encode()).digest()).decode().rstrip("=")
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    url = (
        f"https://sandboxvpnpackages.blob.core.windows.net/vpnclientpackages/{package_id}/VpnClientPackage.zip"
        f"?sv=2020-04-08&sr=b&se={expiry}&sp=r&sig={signature}"
    )
    cloud.world.extra.setdefault("vpnPackages", {})[package_id] = {
        "url": url,
        "gatewayId": gw["id"],
        "gatewayGuid": gw["properties"]["resourceGuid"],
        "addressPool": list(config["vpnClientAddressPool"]["addressPrefixes"]),
        "protocols": list(config.get("vpnClientProtocols") or []),
        "rootCertificates": [c["properties"]["publicCertData"] for c in config.get("vpnClientRootCertificates") or []],
        "created": time.time(),
    }
    op = cloud.begin(req, gw["id"], "action", result=url)
    return Response(202, b"", cloud.lro_headers(req, op, location=True))


@router.route("POST", NET + rf"/virtualNetworkGateways/(?P<gw>{NAME})/getvpnclientconnectionhealth")
def get_vpn_client_connection_health(cloud: Cloud, req: Request) -> Response:
    gw = _gateway(cloud, req)
    op = cloud.begin(req, gw["id"], "action", result={"value": vpn_sessions(cloud.world, gw)})
    return Response(202, b"", cloud.lro_headers(req, op, async_operation=False, location=True))


# --- operation status ----------------------------------------------------------------------------------


@router.route("GET", SUB + rf"/providers/Microsoft\.Network/locations/(?P<loc>{NAME})/operations/(?P<op>{NAME})")
@router.route("GET", RG + rf"/providers/Microsoft\.Network/privateDnsOperationStatuses/(?P<op>{NAME})")
def operation_status(cloud: Cloud, req: Request) -> Response:
    """A running operation's poll carries ``Retry-After`` (azure-powershell's recordings keep it, e.g. 10 s; the
    Python SDK and az CLI recorders filter it out). Private DNS answers 202 with both URLs while running
    (the az CLI private DNS link recording), network 200."""
    op = _operation(cloud, req)
    if op.status != "InProgress":
        return json_response(200, op.status_body())
    headers = {"Retry-After": str(cloud.retry_after(op))}
    if op.style == "network":
        return json_response(200, op.status_body(), headers)
    headers.update({"Azure-AsyncOperation": cloud.status_url(req, op), "Location": cloud.result_url(req, op)})
    return json_response(202, op.status_body(), headers)


@router.route("GET", SUB + rf"/providers/Microsoft\.Network/locations/(?P<loc>{NAME})/operationResults/(?P<op>{NAME})")
@router.route("GET", RG + rf"/providers/Microsoft\.Network/privateDnsOperationResults/(?P<op>{NAME})")
def operation_result(cloud: Cloud, req: Request) -> Response:
    op = _operation(cloud, req)
    if op.status == "InProgress":
        return Response(202, b"", {"Location": cloud.result_url(req, op), "Retry-After": str(cloud.retry_after(op))})
    if op.status == "Failed":
        error = op.error or {"code": "InternalServerError", "message": "The operation failed."}
        raise ArmError(500 if "internal" in error["code"].lower() else 400, error["code"], error["message"])
    if op.kind == "action":
        return json_response(200, op.result)
    resource = cloud.world.get(op.resource_id)
    if op.kind == "put" and resource is not None:
        return json_response(200, render(cloud.world, resource))
    return Response(204)


def _operation(cloud: Cloud, req: Request) -> Operation:
    op = cloud.world.operations.get(req.params["op"])
    if op is None:
        raise ArmError(404, "OperationNotFound", f"Operation {req.params['op']} was not found.")
    return op


hooks: dict[str, CompletionHook] = {GW_TYPE.lower(): _gateway_provisioned}
