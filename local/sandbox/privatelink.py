"""Microsoft.Network Private Link: the Private Link Services AKS's cloud provider makes from Service annotations,
private endpoints (an LRO, with a NIC holding the private IP), network interfaces, and the PLS owner's approval.

Bodies follow azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/Network/stable/
2025-05-01/examples/PrivateLinkServiceGet.json and PrivateEndpointCreate.json (api-version of azure-mgmt-network
33.x's models). A connection is ``Approved`` ("Auto-Approved") when the endpoint's subscription is in the service's
``autoApproval`` list, else ``Pending`` until the owner approves it through the service's
``privateEndpointConnections/{name}`` (cloud-provider-azure "Azure Private Link Service integration"; Private Link
docs' approval workflow).
"""

from __future__ import annotations

import uuid

from . import arm_errors, ids, ipam
from .arm_errors import bad_request
from .cloud import Cloud
from .network import accepted_delete, accepted_put, check_name, ensure_idle, etag, network_id, require_location
from .routing import NAME, Request, Response, Router, json_response, provider
from .state import Json, SandboxState, public

NET = provider("Microsoft.Network")
PLS_TYPE = "Microsoft.Network/privateLinkServices"
PE_TYPE = "Microsoft.Network/privateEndpoints"
NIC_TYPE = "Microsoft.Network/networkInterfaces"

CREATE = "service.beta.kubernetes.io/azure-pls-create"
NAME_ANNOTATION = "service.beta.kubernetes.io/azure-pls-name"
IP_SUBNET = "service.beta.kubernetes.io/azure-pls-ip-configuration-subnet"
VISIBILITY = "service.beta.kubernetes.io/azure-pls-visibility"
AUTO_APPROVAL = "service.beta.kubernetes.io/azure-pls-auto-approval"

router = Router()


# --- the cloud provider's side: a PLS per annotated internal Service -------------------------------------


def _subscriptions(text: str | None) -> list[str]:
    """Annotation lists are space- or comma-separated subscription ids (or ``*`` for visibility)."""
    return [s for s in (text or "").replace(",", " ").split() if s]


def desired_service(
    world: SandboxState,
    namespace: str,
    service: str,
    annotations: dict[str, str],
    node_group: str,
    vnet: Json,
    ilb_subnet_id: str,
) -> Json | str:
    """The PLS a Service's annotations ask for, or why it cannot be made (a Warning event's text)."""
    name = annotations.get(NAME_ANNOTATION) or f"pls-{namespace}-{service}"
    if world.group(node_group) is None:
        return f"node resource group {node_group} not found"
    subnet_id = ilb_subnet_id
    if annotations.get(IP_SUBNET):
        subnet_id = f"{vnet['id']}/subnets/{annotations[IP_SUBNET]}"
        if world.get(subnet_id) is None:
            return f"subnet {annotations[IP_SUBNET]} for the private link service was not found in {vnet['name']}"
    pls_id = ids.provider_id(world.subscription_id, node_group, "Microsoft.Network", "privateLinkServices", name)
    existing = world.get(pls_id)
    if existing is not None and existing.get("_target") != {"namespace": namespace, "service": service}:
        return f"private link service {name} already exists for another service"
    frontend = ids.provider_id(
        world.subscription_id,
        node_group,
        "Microsoft.Network",
        "loadBalancers",
        "kubernetes-internal",
        "frontendIPConfigurations",
        f"{namespace}-{service}",
    )
    return {
        "name": name,
        "id": pls_id,
        "etag": existing["etag"] if existing else etag(),
        "type": PLS_TYPE,
        "location": vnet["location"],
        "tags": {"k8s-azure-owner-service": f"{namespace}/{service}", "k8s-azure-created-by": "kubernetes-azure-dns"},
        "properties": {
            "provisioningState": "Succeeded",
            "visibility": {"subscriptions": _subscriptions(annotations.get(VISIBILITY)) or ["*"]},
            "autoApproval": {"subscriptions": _subscriptions(annotations.get(AUTO_APPROVAL))},
            "fqdns": [],
            "alias": f"{name}.{uuid.uuid5(uuid.NAMESPACE_URL, pls_id)}.{vnet['location']}.azure.privatelinkservice",
            "loadBalancerFrontendIpConfigurations": [{"id": frontend}],
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "id": f"{pls_id}/ipConfigurations/ipconfig1",
                    "properties": {
                        "privateIPAllocationMethod": "Dynamic",
                        "privateIPAddressVersion": "IPv4",
                        "primary": True,
                        "subnet": {"id": subnet_id},
                    },
                }
            ],
            "privateEndpointConnections": (existing or {}).get("properties", {}).get("privateEndpointConnections", []),
            "enableProxyProtocol": False,
        },
        "_target": {"namespace": namespace, "service": service},
    }


def remove_services_of(world: SandboxState, namespace: str, service: str) -> None:
    """The cloud provider deletes the PLS with its Service (or the annotation)."""
    for pls in list(world.of_type(PLS_TYPE)):
        if pls.get("_target") == {"namespace": namespace, "service": service}:
            world.remove(pls["id"])


# --- ARM: private link services ----------------------------------------------------------------------------


def _pls(cloud: Cloud, req: Request) -> Json:
    cloud.require_group(req.params["rg"])
    found = cloud.world.get(network_id(cloud, req.params["rg"], "privateLinkServices", req.params["pls"]))
    if found is None:
        raise arm_errors.resource_not_found(PLS_TYPE, req.params["pls"], req.params["rg"])
    return found


@router.route("GET", NET + rf"/privateLinkServices/(?P<pls>{NAME})")
def get_pls(cloud: Cloud, req: Request) -> Response:
    return json_response(200, public(_pls(cloud, req)))


@router.route("GET", NET + "/privateLinkServices")
def list_pls(cloud: Cloud, req: Request) -> Response:
    cloud.require_group(req.params["rg"])
    prefix = ids.key(ids.rg_id(cloud.subscription_id, req.params["rg"])) + "/"
    found = [public(p) for p in cloud.world.of_type(PLS_TYPE) if ids.key(p["id"]).startswith(prefix)]
    return json_response(200, {"value": found})


@router.route("PUT", NET + rf"/privateLinkServices/(?P<pls>{NAME})/privateEndpointConnections/(?P<conn>{NAME})")
def put_connection(cloud: Cloud, req: Request) -> Response:
    """The service owner approves or rejects a connection (PrivateLinkServiceUpdatePrivateEndpointConnection)."""
    pls = _pls(cloud, req)
    wanted = (req.json_object().get("properties") or {}).get("privateLinkServiceConnectionState") or {}
    status = str(wanted.get("status") or "")
    if status not in ("Approved", "Rejected", "Pending"):
        raise bad_request("InvalidPrivateLinkServiceConnectionState", f"Status {status!r} is not valid.")
    for connection in pls["properties"]["privateEndpointConnections"]:
        if connection["name"].lower() == req.params["conn"].lower():
            state = {"status": status, "description": wanted.get("description") or "", "actionsRequired": "None"}
            connection["properties"]["privateLinkServiceConnectionState"] = state
            endpoint = cloud.world.get(connection["properties"]["privateEndpoint"]["id"])
            if endpoint is not None:
                for plsc in _connections(endpoint):
                    plsc["properties"]["privateLinkServiceConnectionState"] = dict(state)
            return json_response(200, connection)
    raise arm_errors.child_not_found(f"{pls['id']}/privateEndpointConnections/{req.params['conn']}")


# --- ARM: private endpoints and their NICs -----------------------------------------------------------------


def _connections(endpoint: Json) -> list[Json]:
    props = endpoint["properties"]
    return [*props.get("privateLinkServiceConnections", []), *props.get("manualPrivateLinkServiceConnections", [])]


def _pe_id(cloud: Cloud, req: Request) -> str:
    cloud.require_group(req.params["rg"])
    return network_id(cloud, req.params["rg"], "privateEndpoints", req.params["pe"])


@router.route("GET", NET + rf"/privateEndpoints/(?P<pe>{NAME})")
def get_endpoint(cloud: Cloud, req: Request) -> Response:
    found = cloud.world.get(_pe_id(cloud, req))
    if found is None:
        raise arm_errors.resource_not_found(PE_TYPE, req.params["pe"], req.params["rg"])
    return json_response(200, public(found))


@router.route("PUT", NET + rf"/privateEndpoints/(?P<pe>{NAME})")
def put_endpoint(cloud: Cloud, req: Request) -> Response:
    pe_id = _pe_id(cloud, req)
    name = req.params["pe"]
    check_name(name)
    body = req.json_object()
    location = require_location(body)
    props = body.get("properties") or {}
    ensure_idle(cloud, req, pe_id)
    existing = cloud.world.get(pe_id)
    subnet_id = str((props.get("subnet") or {}).get("id") or "")
    subnet = cloud.world.get(subnet_id) if subnet_id else None
    if subnet is None:
        raise bad_request(
            "InvalidResourceReference",
            f"Resource {subnet_id or '(subnet)'} referenced by resource {pe_id} was not found.",
        )
    # "Azure RBAC permissions for Azure Private Link" (learn.microsoft.com/azure/private-link/rbac-permissions):
    # a private endpoint needs Microsoft.Network/virtualNetworks/subnets/join/action on its subnet
    cloud.require_linked(req, "Microsoft.Network/virtualNetworks/subnets/join/action", subnet["id"])
    if subnet["properties"].get("delegations"):
        raise bad_request(
            "PrivateEndpointCannotBeCreatedInSubnetThatHasDelegations",
            f"Private endpoint {pe_id} cannot be created in a subnet {subnet_id} since it has delegations.",
        )
    auto = [(c, False) for c in props.get("privateLinkServiceConnections") or []]
    manual = [(c, True) for c in props.get("manualPrivateLinkServiceConnections") or []]
    if len(auto) + len(manual) != 1:
        raise bad_request(
            "InvalidPrivateEndpointConnections", f"Private endpoint {pe_id} needs exactly one connection."
        )
    given, is_manual = (auto + manual)[0]
    connection = _connection(cloud.world, pe_id, given, is_manual, existing)
    nic = _nic(cloud.world, pe_id, name, subnet, existing)
    stored: Json = {
        "name": name,
        "id": pe_id,
        "etag": etag(),
        "type": PE_TYPE,
        "location": location,
        "tags": body.get("tags") or {},
        "properties": {
            "provisioningState": "Updating",
            "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
            "privateLinkServiceConnections": [] if is_manual else [connection],
            "manualPrivateLinkServiceConnections": [connection] if is_manual else [],
            "subnet": {"id": subnet["id"]},
            "networkInterfaces": [{"id": nic["id"]}],
            "customDnsConfigs": [],
            "applicationSecurityGroups": [],
            "ipConfigurations": [],
        },
    }
    return accepted_put(cloud, req, stored, existing is None)


def _connection(world: SandboxState, pe_id: str, given: Json, manual: bool, existing: Json | None) -> Json:
    cprops = given.get("properties") or {}
    pls_id = str(cprops.get("privateLinkServiceId") or "")
    pls = world.get(pls_id) if pls_id else None
    if pls is None:
        raise bad_request(
            "PrivateLinkServiceNotFound",
            f"Private link service {pls_id or '(none)'} referenced by {pe_id} was not found.",
        )
    visible = pls["properties"]["visibility"]["subscriptions"]
    if "*" not in visible and world.subscription_id not in visible:
        raise bad_request(
            "PrivateLinkServiceNotVisible",
            f"Private link service {pls_id} is not visible to subscription {world.subscription_id}.",
        )
    name = given.get("name") or "kubelink"
    kept = next((c for c in _connections(existing) if c["name"] == name), None) if existing else None
    if kept is not None and ids.key(kept["properties"]["privateLinkServiceId"]) == ids.key(pls_id):
        state = kept["properties"]["privateLinkServiceConnectionState"]
    elif not manual and world.subscription_id in pls["properties"]["autoApproval"]["subscriptions"]:
        state = {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"}
    else:
        state = {"status": "Pending", "description": "Awaiting approval", "actionsRequired": "None"}
    connection = {
        "name": name,
        "id": f"{pe_id}/{'manualPrivateLinkServiceConnections' if manual else 'privateLinkServiceConnections'}/{name}",
        "etag": etag(),
        "type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
        "properties": {
            "provisioningState": "Succeeded",
            "privateLinkServiceId": pls["id"],
            "groupIds": cprops.get("groupIds") or [],
            "requestMessage": cprops.get("requestMessage") or "",
            "privateLinkServiceConnectionState": dict(state),
        },
    }
    pec_name = f"{pe_id.rsplit('/', 1)[-1]}.{uuid.uuid5(uuid.NAMESPACE_URL, pe_id).hex[:8]}"
    pls_connections = [c for c in pls["properties"]["privateEndpointConnections"] if c["name"] != pec_name]
    pls_connections.append(
        {
            "name": pec_name,
            "id": f"{pls['id']}/privateEndpointConnections/{pec_name}",
            "properties": {
                "provisioningState": "Succeeded",
                "privateEndpoint": {"id": pe_id},
                "privateLinkServiceConnectionState": dict(state),
                "linkIdentifier": str(uuid.uuid5(uuid.NAMESPACE_URL, pe_id + "#link")),
            },
        }
    )
    pls["properties"]["privateEndpointConnections"] = pls_connections
    return connection


def _nic(world: SandboxState, pe_id: str, name: str, subnet: Json, existing: Json | None) -> Json:
    """The endpoint's NIC, with the first free address of its subnet (kept across updates)."""
    if existing is not None:
        kept = world.get(existing["properties"]["networkInterfaces"][0]["id"])
        if kept is not None and ids.key(
            kept["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
        ) == ids.key(subnet["id"]):
            return kept
    parsed = ids.parse(pe_id)
    assert parsed is not None
    nic_name = f"{name}.nic.{uuid.uuid4()}"
    nic_id = ids.provider_id(
        world.subscription_id, parsed.resource_group, "Microsoft.Network", "networkInterfaces", nic_name
    )
    taken = {
        n["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
        for n in world.of_type(NIC_TYPE)
        if ids.key(n["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]) == ids.key(subnet["id"])
    }
    prefix = ipam.parse_cidr(subnet["properties"].get("addressPrefix") or subnet["properties"]["addressPrefixes"][0])
    address = next((str(a) for a in ipam.usable_hosts(prefix) if str(a) not in taken), None)
    if address is None:
        raise bad_request("SubnetIsFull", f"Subnet {subnet['id']} has no free address for private endpoint {pe_id}.")
    nic = {
        "name": nic_name,
        "id": nic_id,
        "etag": etag(),
        "type": NIC_TYPE,
        "location": "westeurope",
        "properties": {
            "provisioningState": "Succeeded",
            "ipConfigurations": [
                {
                    "name": "privateEndpointIpConfig",
                    "id": f"{nic_id}/ipConfigurations/privateEndpointIpConfig",
                    "properties": {
                        "privateIPAddress": address,
                        "privateIPAllocationMethod": "Dynamic",
                        "privateIPAddressVersion": "IPv4",
                        "primary": True,
                        "subnet": {"id": subnet["id"]},
                    },
                }
            ],
            "privateEndpoint": {"id": pe_id},
        },
    }
    world.put(nic)
    return nic


@router.route("DELETE", NET + rf"/privateEndpoints/(?P<pe>{NAME})")
def delete_endpoint(cloud: Cloud, req: Request) -> Response:
    pe_id = _pe_id(cloud, req)
    endpoint = cloud.world.get(pe_id)
    if endpoint is None:
        return Response(204)
    ensure_idle(cloud, req, pe_id)
    for nic in endpoint["properties"]["networkInterfaces"]:
        cloud.world.remove(nic["id"])
    for pls in cloud.world.of_type(PLS_TYPE):
        connections = pls["properties"]["privateEndpointConnections"]
        pls["properties"]["privateEndpointConnections"] = [
            c for c in connections if ids.key(c["properties"]["privateEndpoint"]["id"]) != ids.key(pe_id)
        ]
    return accepted_delete(cloud, req, pe_id)


@router.route("GET", NET + rf"/networkInterfaces/(?P<nic>{NAME})")
def get_nic(cloud: Cloud, req: Request) -> Response:
    cloud.require_group(req.params["rg"])
    found = cloud.world.get(network_id(cloud, req.params["rg"], "networkInterfaces", req.params["nic"]))
    if found is None:
        raise arm_errors.resource_not_found(NIC_TYPE, req.params["nic"], req.params["rg"])
    return json_response(200, public(found))


def endpoint_ip(world: SandboxState, endpoint: Json) -> str | None:
    nic = world.get(endpoint["properties"]["networkInterfaces"][0]["id"])
    return nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] if nic else None


def connection_status(endpoint: Json) -> str:
    return str(_connections(endpoint)[0]["properties"]["privateLinkServiceConnectionState"]["status"])
