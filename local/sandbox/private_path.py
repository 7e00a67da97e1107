"""Whether a web app can really reach a private Service: the rule behind ``/api/privatestuff``.

``evaluate`` is pure: it judges ``PathFacts`` (what the world looks like from one app) and names the first
broken part, the way a network that is not wired up fails somewhere specific. ``gather`` reads those facts
from the sandbox's world. The gateway-required path needs every handshake step of docs/azure.md §9
to have happened in order; the regional path needs a subnet delegated to ``Microsoft.Web/serverFarms``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import ids, ipam
from .state import Json, SandboxState


@dataclass(frozen=True)
class Service:
    """An internal load-balancer Service with a live private IP."""

    namespace: str
    name: str
    ip: str


@dataclass(frozen=True)
class Package:
    """What a VPN client package captured when ``generatevpnclientpackage`` ran."""

    gateway_guid: str
    address_pool: tuple[str, ...]
    protocols: tuple[str, ...]
    root_certificates: frozenset[str]


@dataclass(frozen=True)
class Gateway:
    guid: str
    provisioning_state: str
    vpn_type: str
    address_pool: tuple[str, ...]
    protocols: tuple[str, ...]
    root_certificates: frozenset[str]
    sku: str = "VpnGw1AZ"


@dataclass(frozen=True)
class Peering:
    """One of a VNet's peerings: where it goes, its state, and whether both sides allow VNet access."""

    remote_id: str
    state: str
    allows_access: bool


@dataclass(frozen=True)
class Network:
    """One VNet as the app sees it."""

    id: str
    address_space: tuple[str, ...]
    peerings: tuple[Peering, ...] = ()
    #: name → IPv4 from private DNS zones linked to this VNet.
    dns: Mapping[str, str] = field(default_factory=dict)
    #: Custom DNS servers (dhcpOptions): the only way private zones resolve over point-to-site.
    custom_dns: bool = False
    gateway: Gateway | None = None


@dataclass(frozen=True)
class Connection:
    """A gateway-required ``virtualNetworkConnections`` entry of the app."""

    vnet_id: str
    cert_blob: str
    package: Package | None


@dataclass(frozen=True)
class Endpoint:
    """A private endpoint: its NIC's IP in a VNet, its connection's state, and the live Service behind its Private
    Link Service (None when the service's load balancer has none)."""

    ip: str
    vnet_id: str
    status: str
    service: Service | None


@dataclass(frozen=True)
class PathFacts:
    setting: str | None
    networks: Mapping[str, Network]  # by lower-cased VNet id
    services: tuple[Service, ...]
    connections: tuple[Connection, ...] = ()
    #: The VNet id and delegation state of the app's regional-integration subnet, when it has one.
    regional_vnet: str | None = None
    regional_delegated: bool = False
    #: The delegation the app's plan needs (Flex Consumption: Microsoft.App/environments).
    regional_delegation: str = ids.WEB_DELEGATION
    #: Route all (``outboundVnetRouting.applicationTraffic``): without it only RFC 1918 traffic enters the VNet.
    route_all: bool = False
    endpoints: tuple[Endpoint, ...] = ()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    service: Service | None = None
    ip: str | None = None


def package_is_current(connection: Connection, gateway: Gateway | None) -> bool:
    """True when the app's VPN package still matches the gateway (else the app needs a resync)."""
    package = connection.package
    if package is None or gateway is None:
        return False
    return (
        package.gateway_guid == gateway.guid
        and package.address_pool == gateway.address_pool
        and connection.cert_blob in package.root_certificates
        and connection.cert_blob in gateway.root_certificates
    )


def _gateway_problem(connection: Connection | None, network: Network) -> str | None:
    gw = network.gateway
    if connection is None:
        return f"the app has no virtual network connection to {network.id}"
    if gw is None:
        return f"{network.id} has no virtual network gateway"
    if gw.provisioning_state != "Succeeded":
        return f"the gateway is {gw.provisioning_state}"
    if gw.vpn_type != "RouteBased":
        return "the gateway is not route-based"
    if not gw.address_pool:
        return "the gateway has no point-to-site address pool"
    space = [ipam.parse_cidr(p) for p in network.address_space]
    if ipam.overlaps(space, [ipam.parse_cidr(p) for p in gw.address_pool]):
        return "the point-to-site address pool overlaps the VNet"
    if "SSTP" not in gw.protocols:
        return "SSTP is not enabled on the gateway"
    if "IkeV2" in gw.protocols and gw.sku != "Basic":
        # configure-gateway-required-vnet-integration.md: on non-Basic SKUs "IKEV2 must be disabled"
        return f"IKEv2 is enabled on the {gw.sku} gateway (gateway-required integration needs it off on non-Basic SKUs)"
    if connection.cert_blob not in gw.root_certificates:
        return "the app's certificate is not a root certificate of the gateway"
    if connection.package is None:
        return "the app was never given a VPN client package (gateways/primary)"
    if not package_is_current(connection, gw) or "SSTP" not in connection.package.protocols:
        return "the app's VPN client package is stale (generated before the gateway's current certificates/pool)"
    return None


def evaluate(facts: PathFacts) -> Verdict:
    """Judge the whole private path from the app to the Service named by its setting."""
    if not facts.setting:
        return Verdict(False, "the private address setting is empty")
    candidates = [n for n in facts.networks.values() if _attached(facts, n)]
    if not candidates:
        return Verdict(False, "the app is not integrated with any virtual network")
    problems: list[str] = []
    for network in candidates:
        ip = _resolve(facts, network, facts.setting)
        if ip is None:
            problems.append(f"{facts.setting} does not resolve from {network.id}")
            continue
        regional = facts.regional_vnet is not None and ids.key(facts.regional_vnet) == ids.key(network.id)
        address = ipaddress.IPv4Address(ip)
        via = "regional VNet integration"
        endpoint = next((e for e in facts.endpoints if e.ip == ip and ids.key(e.vnet_id) == ids.key(network.id)), None)
        if regional and endpoint is not None:
            if endpoint.status != "Approved":
                problems.append(f"the private endpoint on {ip} has a {endpoint.status} connection")
            elif endpoint.service is None:
                problems.append(f"the Private Link Service behind {ip} has no live internal load balancer")
            elif not facts.regional_delegated:
                problems.append(f"the integration subnet is not delegated to {facts.regional_delegation}")
            else:
                reason = "connected through regional VNet integration, a private endpoint and a Private Link Service"
                return Verdict(True, reason, endpoint.service, ip)
            continue
        if not _contains(network, address):
            peered = _peer_holding(facts, network, address) if regional else None
            if peered is None:
                problems.append(f"{ip} is outside the address space of {network.id}")
                continue
            if peered.state != "Connected" or not peered.allows_access:
                problems.append(
                    f"the peering from {network.id} to {peered.remote_id} is {peered.state}"
                    + ("" if peered.allows_access else " without virtual network access on both sides")
                )
                continue
            via = f"regional VNet integration and the peering to {peered.remote_id}"
        service = next((s for s in facts.services if s.ip == ip), None)
        if service is None:
            problems.append(f"no internal load balancer answers on {ip}")
            continue
        if regional and not facts.route_all and not _rfc1918(address):
            problems.append(f"{ip} is not an RFC 1918 address and the app does not route all traffic into the VNet")
            continue
        if regional:
            if facts.regional_delegated:
                return Verdict(True, f"connected through {via}", service, ip)
            problems.append(f"the integration subnet is not delegated to {facts.regional_delegation}")
            continue
        connection = _connection(facts, network)
        problem = _gateway_problem(connection, network)
        if problem is None:
            return Verdict(True, "connected through the VNet gateway (point-to-site)", service, ip)
        problems.append(problem)
    return Verdict(False, "; ".join(problems))


def _rfc1918(address: ipaddress.IPv4Address) -> bool:
    """Without route all, regional integration sends only RFC 1918 destinations into the VNet
    (overview-vnet-integration.md: "your app only routes private traffic into your virtual network")."""
    return any(address in ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _contains(network: Network, address: ipaddress.IPv4Address) -> bool:
    return any(address in ipam.parse_cidr(p) for p in network.address_space)


def _peer_holding(facts: PathFacts, network: Network, address: ipaddress.IPv4Address) -> Peering | None:
    """The peering of ``network`` to a VNet whose address space holds ``address`` (regional integration reaches
    peered VNets, global peering included: reference in local/sandbox/README.md)."""
    for peering in network.peerings:
        remote = facts.networks.get(ids.key(peering.remote_id))
        if remote is not None and _contains(remote, address):
            return peering
    return None


def _attached(facts: PathFacts, network: Network) -> bool:
    regional = facts.regional_vnet is not None and ids.key(facts.regional_vnet) == ids.key(network.id)
    return regional or _connection(facts, network) is not None


def _connection(facts: PathFacts, network: Network) -> Connection | None:
    return next((c for c in facts.connections if ids.key(c.vnet_id) == ids.key(network.id)), None)


def _resolve(facts: PathFacts, network: Network, setting: str) -> str | None:
    if ipam.is_ipv4(setting):
        return setting
    name = setting.lower().rstrip(".")
    regional = facts.regional_vnet is not None and ids.key(facts.regional_vnet) == ids.key(network.id)
    if not regional and not network.custom_dns:
        return None  # Azure DNS (168.63.129.16) is not reachable over point-to-site
    return network.dns.get(name)


# --- reading the facts from the world ------------------------------------------------------------------


def gather(world: SandboxState, site: Json, setting_name: str) -> PathFacts:
    """The facts ``evaluate`` needs about one web app."""
    connections = tuple(connection_facts(world, c) for c in world.children(site["id"], "virtualNetworkConnections"))
    regional_subnet = world.get(site["properties"].get("virtualNetworkSubnetId") or "")
    vnet_ids = {ids.key(c.vnet_id) for c in connections}
    regional_vnet = None
    delegated = False
    delegation = required_delegation(world, site)
    if regional_subnet is not None:
        regional_vnet = ids.parse(regional_subnet["id"]).parent()  # type: ignore[union-attr]
        vnet_ids.add(ids.key(regional_vnet))
        delegated = any(
            d["properties"]["serviceName"].lower() == delegation.lower()
            and d["properties"]["provisioningState"] == "Succeeded"
            for d in regional_subnet["properties"].get("delegations") or []
        )
    networks = {}
    for vnet_id in sorted(vnet_ids):
        vnet = world.get(vnet_id)
        if vnet is not None:
            networks[vnet_id] = network_facts(world, vnet)
            for peering in networks[vnet_id].peerings:
                remote = world.get(peering.remote_id)
                if remote is not None:
                    networks.setdefault(ids.key(remote["id"]), network_facts(world, remote))
    return PathFacts(
        setting=site.get("_appSettings", {}).get(setting_name),
        networks=networks,
        services=live_services(world),
        connections=connections,
        regional_vnet=regional_vnet,
        regional_delegated=delegated,
        regional_delegation=delegation,
        route_all=bool((site["properties"].get("outboundVnetRouting") or {}).get("applicationTraffic")),
        endpoints=endpoint_facts(world),
    )


def endpoint_facts(world: SandboxState) -> tuple[Endpoint, ...]:
    """Every private endpoint with a NIC, and the live Service its Private Link Service fronts."""
    live = {(s.namespace, s.name): s for s in live_services(world)}
    found = []
    for endpoint in world.of_type("Microsoft.Network/privateEndpoints"):
        props = endpoint["properties"]
        nic = world.get(props["networkInterfaces"][0]["id"]) if props.get("networkInterfaces") else None
        connections = [
            *props.get("privateLinkServiceConnections", []),
            *props.get("manualPrivateLinkServiceConnections", []),
        ]
        if nic is None or not connections or props["provisioningState"] != "Succeeded":
            continue
        connection = connections[0]["properties"]
        pls = world.get(connection["privateLinkServiceId"])
        target = (pls or {}).get("_target") or {}
        subnet_id = props["subnet"]["id"]
        found.append(
            Endpoint(
                ip=nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
                vnet_id=ids.parse(subnet_id).parent(),  # type: ignore[union-attr]
                status=connection["privateLinkServiceConnectionState"]["status"],
                service=live.get((str(target.get("namespace")), str(target.get("service")))),
            )
        )
    return tuple(found)


def required_delegation(world: SandboxState, site: Json) -> str:
    """The service a site's integration subnet must be delegated to: Flex Consumption (FC1) apps need
    ``Microsoft.App/environments``, every other plan ``Microsoft.Web/serverFarms`` (flex-consumption-plan.md)."""
    plan = world.get(site["properties"].get("serverFarmId") or "")
    tier = ((plan or {}).get("sku") or {}).get("tier", "")
    return ids.FLEX_DELEGATION if str(tier).lower() == "flexconsumption" else ids.WEB_DELEGATION


def live_services(world: SandboxState) -> tuple[Service, ...]:
    allocations = world.extra.get("ilb", {}).get("allocations", {})
    return tuple(Service(a["namespace"], a["service"], a["ip"]) for a in allocations.values() if a.get("published"))


def gateway_of(world: SandboxState, vnet_id: str) -> Json | None:
    """The VPN gateway whose IP configuration sits in ``vnet_id``'s GatewaySubnet."""
    prefix = ids.key(vnet_id) + "/subnets/"
    for gw in world.of_type(ids.GATEWAY_TYPE):
        for cfg in gw["properties"]["ipConfigurations"]:
            if ids.key(cfg["properties"]["subnet"]["id"]).startswith(prefix):
                return gw
    return None


def gateway_facts(gw: Json) -> Gateway:
    props = gw["properties"]
    config = props.get("vpnClientConfiguration") or {}
    return Gateway(
        guid=props["resourceGuid"],
        provisioning_state=props["provisioningState"],
        vpn_type=props["vpnType"],
        address_pool=tuple((config.get("vpnClientAddressPool") or {}).get("addressPrefixes") or ()),
        protocols=tuple(config.get("vpnClientProtocols") or ()),
        sku=str((props.get("sku") or {}).get("name") or "VpnGw1AZ"),
        root_certificates=frozenset(
            c["properties"]["publicCertData"] for c in config.get("vpnClientRootCertificates") or []
        ),
    )


def reverse_peering(world: SandboxState, peering: Json) -> Json | None:
    """The remote VNet's peering back to this peering's VNet, if there is one."""
    local = ids.parse(peering["id"]).parent()  # type: ignore[union-attr]
    remote = (peering["properties"].get("remoteVirtualNetwork") or {}).get("id") or ""
    return next(
        (
            p
            for p in world.children(remote, "virtualNetworkPeerings")
            if ids.key((p["properties"].get("remoteVirtualNetwork") or {}).get("id") or "") == ids.key(local)
        ),
        None,
    )


def peering_state(world: SandboxState, peering: Json) -> str:
    paired = peering.get("_pairedWith")
    if not paired:
        return "Initiated"
    back = reverse_peering(world, peering)
    if back is None or back["properties"]["resourceGuid"] != paired:
        return "Disconnected"
    both_up = all(p["properties"]["provisioningState"] == "Succeeded" for p in (peering, back))
    return "Connected" if both_up else "Initiated"


def peering_facts(world: SandboxState, vnet: Json) -> tuple[Peering, ...]:
    """Each peering of ``vnet``, with access allowed only when both its side and the remote's allow it."""
    found = []
    for peering in world.children(vnet["id"], "virtualNetworkPeerings"):
        back = reverse_peering(world, peering)
        allowed = bool(peering["properties"].get("allowVirtualNetworkAccess")) and bool(
            back is not None and back["properties"].get("allowVirtualNetworkAccess")
        )
        remote = peering["properties"]["remoteVirtualNetwork"]["id"]
        found.append(Peering(remote, peering_state(world, peering), allowed))
    return tuple(found)


def network_facts(world: SandboxState, vnet: Json) -> Network:
    gw = gateway_of(world, vnet["id"])
    return Network(
        id=vnet["id"],
        address_space=tuple(vnet["properties"]["addressSpace"]["addressPrefixes"]),
        peerings=peering_facts(world, vnet),
        dns=private_dns_names(world, vnet["id"]),
        custom_dns=bool((vnet["properties"].get("dhcpOptions") or {}).get("dnsServers")),
        gateway=gateway_facts(gw) if gw is not None else None,
    )


def connection_facts(world: SandboxState, connection: Json) -> Connection:
    handoff = connection.get("_gateway") or {}
    package_json = world.extra.get("vpnPackages", {}).get(handoff.get("packageId", ""))
    package = None
    if package_json is not None:
        package = Package(
            gateway_guid=package_json["gatewayGuid"],
            address_pool=tuple(package_json["addressPool"]),
            protocols=tuple(package_json["protocols"]),
            root_certificates=frozenset(package_json["rootCertificates"]),
        )
    return Connection(connection["properties"]["vnetResourceId"], connection["properties"]["certBlob"] or "", package)


def private_dns_names(world: SandboxState, vnet_id: str) -> dict[str, str]:
    """Every A record name resolvable from ``vnet_id`` through linked private DNS zones."""
    names: dict[str, str] = {}
    for zone in world.of_type(ids.ZONE_TYPE):
        linked = any(
            ids.key((link["properties"].get("virtualNetwork") or {}).get("id", "")) == ids.key(vnet_id)
            and link["properties"]["provisioningState"] == "Succeeded"
            for link in world.children(zone["id"], "virtualNetworkLinks")
        )
        if not linked:
            continue
        for record in world.children(zone["id"], "A"):
            records = record["properties"].get("aRecords") or []
            if records:
                label = record["name"]
                fqdn = zone["name"] if label == "@" else f"{label}.{zone['name']}"
                names[fqdn.lower()] = records[0]["ipv4Address"]
    return names


def resync_required(world: SandboxState, connection: Json) -> bool:
    """App Service's ``resyncRequired``: the handed-off package no longer matches the gateway."""
    if not connection.get("_gateway"):
        return False
    gw = gateway_of(world, connection["properties"]["vnetResourceId"])
    return not package_is_current(connection_facts(world, connection), gateway_facts(gw) if gw else None)


def vpn_sessions(world: SandboxState, gw: Json) -> list[Json]:
    """Point-to-site sessions the gateway reports: one per app whose package is current for it."""
    facts = gateway_facts(gw)
    sessions = []
    pool = [ipaddress.IPv4Network(p) for p in facts.address_pool]
    for index, connection in enumerate(world.of_type(ids.VNET_CONNECTION_TYPE)):
        fact = connection_facts(world, connection)
        if not pool or not package_is_current(fact, facts):
            continue
        started = connection["_gateway"]["handedOff"]
        sessions.append(
            {
                "vpnConnectionId": f"{connection['_gateway']['packageId'][:8]}-{index}",
                "vpnConnectionDuration": 0,
                "vpnConnectionTime": started,
                "publicIpAddress": f"20.50.2.10:5{index:04d}",
                "privateIpAddress": str(pool[0].network_address + 2 + index),
                "vpnUserName": connection["properties"]["certThumbprint"],
                "maxBandwidth": 0,
                "egressPacketsTransferred": 0,
                "egressBytesTransferred": 0,
                "ingressPacketsTransferred": 0,
                "ingressBytesTransferred": 0,
                "maxPacketsPerSecond": 0,
            }
        )
    return sessions
