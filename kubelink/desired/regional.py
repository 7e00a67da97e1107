"""Regional ("swift") VNet integration (docs/azure.md §10), and what moving off gateway-required integration removes.

Pure: states are built from ARM REST JSON, bodies are ARM REST JSON.

Ownership: of the app's subnet kubelink owns only the ``Microsoft.Web/serverFarms`` delegation (and the prefix of
a subnet it creates); an adopted subnet keeps its NSG, route table, service endpoints and other delegations, since
a subnet PUT replaces the whole subnet. Of the app it owns the regional connection's subnet. When a link moves
from the gateway path, the app's gateway-required connection to the same VNet and kubelink's own root
certificate for the app (``kubelink-{app}``) are removed; the gateway and everyone else's certificates stay.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.desired.gateway import GatewayState, RootCertificate, repair, root_certificate_name
from kubelink.diff import DiffItem, diff_fields, path
from kubelink.ownership import created_by, tagged_links, with_links

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

WEB_DELEGATION = "Microsoft.Web/serverFarms"
#: Flex Consumption apps integrate through a subnet delegated here instead (azure-functions/flex-consumption-plan.md)
FLEX_DELEGATION = "Microsoft.App/environments"
APP_SERVICE_DELEGATIONS = (WEB_DELEGATION, FLEX_DELEGATION)
DELEGATIONS = "properties.delegations"
#: the name of kubelink's delegation on a subnet that already has one called ``delegation``
_SECOND_NAME = {WEB_DELEGATION: "webServerFarms", FLEX_DELEGATION: "appEnvironments"}


def delegation_for(plan_tier: str | None) -> str:
    """The service an app's integration subnet must be delegated to, by its plan's tier (FC1 is ``FlexConsumption``)."""
    return FLEX_DELEGATION if str(plan_tier or "").lower() == "flexconsumption" else WEB_DELEGATION


# --- the app's delegated subnet -----------------------------------------------------------------------


@dataclass(frozen=True)
class AppSubnetState(ArmState):
    """The subnet named ``app.subnet.name``, and the delegation the app needs on it (``service``)."""

    service: str = WEB_DELEGATION

    @property
    def delegations(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(dig(self.body, "properties", "delegations") or ())

    @property
    def delegated(self) -> bool:
        return any(_service_name(d).lower() == self.service.lower() for d in self.delegations)


def _service_name(delegation: Mapping[str, Any]) -> str:
    """ARM nests it under ``properties``; some tools send it flattened."""
    return str(dig(delegation, "properties", "serviceName") or delegation.get("serviceName") or "")


def diff_app_subnet(spec: LinkSpec, state: AppSubnetState) -> tuple[DiffItem, ...]:
    """A missing subnet differs in prefix and delegation; an existing one only in a missing delegation (its prefix
    is checked by pre-flight: a subnet in use cannot be resized), or in a failed last operation (re-sent to repair)."""
    delegation = DiffItem("add", (*path(DELEGATIONS), state.service), None, state.service)
    if not state.exists:
        assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
        return (*diff_fields({"properties.addressPrefix": spec.app.subnet.prefix}, None), delegation)
    return (() if state.delegated else (delegation,)) + repair(state.provisioning_state)


def app_subnet_body(spec: LinkSpec, state: AppSubnetState) -> dict[str, Any]:
    """The subnet PUT: a fresh delegated subnet, or the observed one with the delegation added and nothing dropped."""
    assert spec.app.subnet is not None, "regional integration needs app.subnet (validated)"
    if state.body is None:
        body: dict[str, Any] = {"name": spec.app.subnet.name, "properties": {"addressPrefix": spec.app.subnet.prefix}}
    else:
        body = copy.deepcopy(dict(state.body))
    props = body.setdefault("properties", {})
    if not state.delegated:
        taken = {str(d.get("name")) for d in state.delegations}
        name = "delegation" if "delegation" not in taken else _SECOND_NAME.get(state.service, "appService")
        props["delegations"] = [
            *state.delegations,
            {"name": name, "properties": {"serviceName": state.service}},
        ]
    return body


# --- the app's regional connection --------------------------------------------------------------------


@dataclass(frozen=True)
class RegionalState:
    """The app's side: its regional subnet (``networkConfig/virtualNetwork``) and whether it still has a
    gateway-required connection to the link's VNet (which Azure requires to be removed first)."""

    subnet_id: str | None
    gateway_connection: bool

    @staticmethod
    def from_arm(
        network_config: Mapping[str, Any] | None, gateway_connection: Mapping[str, Any] | None
    ) -> RegionalState:
        return RegionalState(
            subnet_id=dig(network_config, "properties", "subnetResourceId") or None,
            gateway_connection=gateway_connection is not None,
        )


def regional_connection_body(spec: LinkSpec) -> dict[str, Any]:
    return {"properties": {"subnetResourceId": spec.app_subnet_id}}


def diff_regional_connection(spec: LinkSpec, state: RegionalState) -> tuple[DiffItem, ...]:
    """The subnet the app is connected through, and a gateway-required connection to the same VNet that must go."""
    items = diff_fields(
        {"properties.subnetResourceId": spec.app_subnet_id}, {"properties.subnetResourceId": state.subnet_id}
    )
    if state.gateway_connection:
        field = ("virtualNetworkConnections", spec.network.virtual_network)
        items += (DiffItem("remove", field, "gateway-required", None),)
    return items


# --- outbound routing: what enters the VNet ------------------------------------------------------------

#: Without "route all" only these (RFC 1918) destinations enter the integration VNet (overview-vnet-integration.md)
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
ROUTE_ALL = "properties.outboundVnetRouting.applicationTraffic"


def needs_route_all(address: str | None) -> bool:
    """True for an IPv4 address outside RFC 1918 (a VNet may use any space); False for a name or a private IP."""
    try:
        ip = ipaddress.IPv4Address(str(address))
    except ValueError:
        return False
    return not any(ip in network for network in RFC1918)


@dataclass(frozen=True)
class RoutingState:
    """Whether the app routes its application traffic into the VNet: ``outboundVnetRouting.applicationTraffic``
    ("previously called VnetRouteAllEnabled", azure-mgmt-web 11 models), ``allTraffic``, or site config's
    ``vnetRouteAllEnabled``."""

    route_all: bool

    @staticmethod
    def from_arm(site: Mapping[str, Any] | None, site_config: Mapping[str, Any] | None) -> RoutingState:
        routing = dig(site, "properties", "outboundVnetRouting") or {}
        legacy = dig(site_config, "properties", "vnetRouteAllEnabled")
        return RoutingState(bool(routing.get("applicationTraffic") or routing.get("allTraffic") or legacy))


def diff_app_routing(address: str | None, state: RoutingState) -> tuple[DiffItem, ...]:
    """Route all is kubelink's to turn on only when the private address is not RFC 1918; otherwise the app's
    routing is left as it is (never turned off)."""
    if not needs_route_all(address) or state.route_all:
        return ()
    return diff_fields({ROUTE_ALL: True}, {ROUTE_ALL: False})


def route_all_config() -> dict[str, Any]:
    """The one-field ``PATCH config/web``: ``SitePatchResource`` has no ``outboundVnetRouting`` in 2025-05-01 and a
    site PUT would rewrite the whole app, so kubelink sets the legacy name of the same switch."""
    return {"properties": {"vnetRouteAllEnabled": True}}


# --- leaving the gateway: kubelink's root certificate for the app -------------------------------------


def releases_gateway(spec: LinkSpec, app_gateway_connection: bool) -> bool:
    """Whether a regional link cleans up after the gateway path: the app is still connected through the gateway,
    or the spec keeps its gateway section (how a re-submitted gateway link says which gateway it leaves, and what
    lets a failed or interrupted move finish on the next run). A fresh regional link touches no gateway."""
    return spec.integration == "regional" and (app_gateway_connection or spec.gateway.client_address_pool is not None)


def released_certificates(
    spec: LinkSpec, gateway: GatewayState, thumbprint: str | None = None
) -> list[RootCertificate]:
    """Kubelink's root certificates for the app while the gateway still has them: ``kubelink-{app}``, and, when the
    app's certificate ``thumbprint`` is known, any other ``kubelink-*`` entry holding that same data (another link's
    app of the subscription and VNet got the same certificate, and the gateway trusted it under that name)."""
    name = root_certificate_name(spec)
    wanted = (thumbprint or "").upper()
    return [
        c
        for c in gateway.root_certificates
        if c.name == name or (wanted and c.name.startswith("kubelink-") and c.thumbprint == wanted)
    ]


def certificate_users(spec: LinkSpec, thumbprint: str, connections: Iterable[Mapping[str, Any]]) -> list[str]:
    """The other apps whose gateway-required connection to the link's VNet trusts ``thumbprint``: App Service issues
    one certificate per subscription and VNet, so another app may depend on the data kubelink added for this one.
    ``connections`` are ``virtualNetworkConnections`` bodies of the subscription's apps (ids name the app)."""
    users = []
    for connection in connections:
        app_id = str(connection.get("id") or "").split("/virtualNetworkConnections/")[0]
        same_vnet = str(dig(connection, "properties", "vnetResourceId") or "").lower() == spec.vnet_id.lower()
        same_data = str(dig(connection, "properties", "certThumbprint") or "").upper() == thumbprint.upper()
        if same_vnet and same_data and app_id.lower() != spec.app_id.lower():
            users.append(app_id)
    return users


def diff_released_certificate(
    spec: LinkSpec, gateway: GatewayState, users: Iterable[str] = (), thumbprint: str | None = None
) -> tuple[DiffItem, ...]:
    """Kubelink's root certificates for the app, to remove, unless another app still trusts that data (``users``)."""
    if list(users):
        return ()
    field = ("properties", "vpnClientConfiguration", "vpnClientRootCertificates")
    return tuple(
        DiffItem("remove", (*field, c.name), c.thumbprint, None)
        for c in released_certificates(spec, gateway, thumbprint)
    )


def gateway_without_certificate(spec: LinkSpec, gateway: GatewayState, thumbprint: str | None = None) -> dict[str, Any]:
    """The observed gateway (read-modify-write) without kubelink's root certificates for the app."""
    assert gateway.body is not None, "only an existing gateway holds certificates"
    body = copy.deepcopy(dict(gateway.body))
    p2s = dig(body, "properties", "vpnClientConfiguration") or {}
    names = {c.name for c in released_certificates(spec, gateway, thumbprint)}
    p2s["vpnClientRootCertificates"] = [
        c for c in p2s.get("vpnClientRootCertificates") or [] if c.get("name") not in names
    ]
    if created_by(body.get("tags")):  # the link leaves the gateway: it is no longer among its users
        body["tags"] = with_links(body.get("tags"), set(tagged_links(body.get("tags"))) - {spec.name})
    return body
