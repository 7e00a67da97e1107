"""Microsoft.Web: sites, plans, app settings, site config, and both kinds of VNet integration.

App Service answers synchronously (200) for everything kubelink calls. Its own validation errors use the
PascalCase body (see ``arm_errors``); ARM-level 404s use the ordinary one. Gateway-required integration
(``virtualNetworkConnections``) issues a certificate per app and VNet and takes the VPN package at
``…/gateways/primary``; regional integration (``networkConfig/virtualNetwork`` or ``virtualNetworkSubnetId``)
needs a subnet delegated to ``Microsoft.Web/serverFarms``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from . import arm_errors, ids, listing
from .arm_errors import ArmError, app_service_bad_request
from .cloud import Cloud
from .private_path import required_delegation, resync_required
from .routing import NAME, SUB, Request, Response, Router, json_response, provider
from .seed import add_plan
from .state import Json, SandboxState, public
from .tls import app_certificate

WEB = provider("Microsoft.Web")
SITE = WEB + rf"/sites/(?P<site>{NAME})"
CONNECTION = SITE + rf"/virtualNetworkConnections/(?P<vnet>{NAME})"
_PACKAGE_RE = re.compile(r"/vpnclientpackages/([0-9a-f]{32})/")
#: Tiers without VNet integration of either kind.
_NO_VNET_TIERS = {"free", "shared"}

router = Router()

#: Properties real answers carry besides the ones the sandbox models (web_shapes.json says where they are from).
SHAPES: Json = json.loads(Path(__file__).with_name("web_shapes.json").read_text())


def _site(cloud: Cloud, req: Request) -> Json:
    rg, name = req.params["rg"], req.params["site"]
    cloud.require_group(rg)
    site = cloud.world.get(ids.provider_id(cloud.subscription_id, rg, "Microsoft.Web", "sites", name))
    if site is None:
        raise arm_errors.resource_not_found(ids.SITE_TYPE, name, rg)
    return site


def _plan_of(world: SandboxState, site: Json) -> Json:
    plan = world.get(site["properties"]["serverFarmId"])
    assert plan is not None, f"site {site['id']} has no plan"
    return plan


def render_site(site: Json) -> Json:
    """The site as App Service answers: the recorded property set, the sandbox's values over it.

    ``siteConfig`` inside a site is an object of nulls (the real config is read from ``config/web``)."""
    view = public(site)
    props = view["properties"]
    hosts = props.get("enabledHostNames") or []
    ssl_states = [
        {
            "name": host,
            "sslState": "Disabled",
            "ipBasedSslResult": None,
            "virtualIP": None,
            "thumbprint": None,
            "toUpdate": None,
            "toUpdateIpBasedSsl": None,
            "ipBasedSslState": "NotConfigured",
            "hostType": "Repository" if ".scm." in host else "Standard",
        }
        for host in hosts
    ]
    view["properties"] = {
        **SHAPES["site"],
        **_stamp_properties(site),
        "hostNameSslStates": ssl_states,
        "repositorySiteName": site["name"],
        "kind": site.get("kind"),
        "tags": site.get("tags"),
        **props,
        "outboundVnetRouting": dict(props.get("outboundVnetRouting") or {}),
        "siteConfig": dict(SHAPES["siteConfigInSite"]),
    }
    return view


#: The scale unit ("stamp") the sandbox's apps live on; its name is the sandbox's own, shaped like Azure's.
STAMP = "waws-prod-am2-001"


def _web_space(resource: Json) -> str:
    return f"{resource['properties']['resourceGroup']}-WestEuropewebspace"


def _stamp_properties(site: Json) -> Json:
    """What App Service derives from where the app runs (loopback here: the apps' servers are local)."""
    name, sub = site["name"], site["id"].split("/")[2]
    return {
        "webSpace": _web_space(site),
        "selfLink": f"https://{STAMP}.api.azurewebsites.windows.net:454/subscriptions/{sub}/webspaces/"
        f"{_web_space(site)}/sites/{name}",
        "deploymentId": name,
        "homeStamp": STAMP,
        "ftpUsername": f"{name}\\${name}",
        "ftpsHostName": f"ftps://{STAMP}.ftp.azurewebsites.windows.net/site/wwwroot",
        "inProgressOperationId": None,
        "inboundIpAddress": "127.0.0.1",
        "possibleInboundIpAddresses": "127.0.0.1",
        "outboundIpAddresses": "127.0.0.1",
        "possibleOutboundIpAddresses": "127.0.0.1",
        "lastModifiedTimeUtc": site.get("_modified", "2026-01-01T00:00:00"),
        "customDomainVerificationId": hashlib.sha256(site["id"].lower().encode()).hexdigest().upper(),
    }


def _config_resource(site: Json, name: str, properties: Json) -> Json:
    return {
        "id": f"{site['id']}/config/{name}",
        "name": name,
        "type": "Microsoft.Web/sites/config",
        "location": "West Europe",
        "properties": properties,
    }


def _site_config_view(site: Json, *, written: bool) -> Json:
    """``config/web``: GET answers ``…/config/web`` named after the app, type ``sites/config``; a PUT or PATCH
    answers with the *site's* id and type (azure-mgmt-web 2.0.0 recording, tests/data/recordings)."""
    properties = {**SHAPES["siteConfig"], "publishingUsername": f"${site['name']}", **site["_siteConfig"]}
    return {
        "id": site["id"] if written else f"{site['id']}/config/web",
        "name": site["name"],
        "type": ids.SITE_TYPE if written else "Microsoft.Web/sites/config",
        "location": "West Europe",
        "properties": properties,
    }


# --- sites and plans -----------------------------------------------------------------------------------


@router.route("GET", SITE)
def get_site(cloud: Cloud, req: Request) -> Response:
    return json_response(200, render_site(_site(cloud, req)))


@router.route("GET", SUB + r"/providers/Microsoft\.Web/sites")
def list_sites(cloud: Cloud, req: Request) -> Response:
    """Every app of the subscription (``web_apps.list()``), paged like every list (``listing.page``)."""
    return listing.page(
        req, [render_site(s) for s in cloud.world.of_type(ids.SITE_TYPE)], cloud.settings.list_page_size
    )


@router.route("PATCH", SITE)
@router.route("PUT", SITE)
def update_site(cloud: Cloud, req: Request) -> Response:
    """Update an existing app's mutable properties (what ``web_apps.update`` and the CLI's GET-modify-PUT send)."""
    site = _site(cloud, req)
    body = req.json_object()
    props = body.get("properties") or {}
    if isinstance(body.get("tags"), dict):  # echoed from then on, as ARM echoes a resource's tags
        site["tags"] = {str(k): str(v) for k, v in body["tags"].items()}
    if "virtualNetworkSubnetId" in props:
        subnet_id = props["virtualNetworkSubnetId"] or None
        if subnet_id:
            _check_regional(cloud.world, site, subnet_id)
        _set_regional(site, subnet_id, cloud.world)
    for name in ("httpsOnly", "clientAffinityEnabled"):
        if name in props:
            site["properties"][name] = bool(props[name])
    if "vnetRouteAllEnabled" in props:
        _set_route_all(site, bool(props["vnetRouteAllEnabled"]))
    if isinstance(props.get("outboundVnetRouting"), dict):
        site["properties"]["outboundVnetRouting"].update(props["outboundVnetRouting"])
        if "applicationTraffic" in props["outboundVnetRouting"]:
            _set_route_all(site, bool(props["outboundVnetRouting"]["applicationTraffic"]))
    return json_response(200, render_site(site))


@router.route("GET", WEB + rf"/serverfarms/(?P<plan>{NAME})")
def get_plan(cloud: Cloud, req: Request) -> Response:
    rg, name = req.params["rg"], req.params["plan"]
    cloud.require_group(rg)
    plan = cloud.world.get(ids.provider_id(cloud.subscription_id, rg, "Microsoft.Web", "serverfarms", name))
    if plan is None:
        raise arm_errors.resource_not_found(ids.PLAN_TYPE, name, rg)
    return json_response(200, render_plan(plan))


def render_plan(plan: Json, *, written: str | None = None) -> Json:
    """The plan as App Service answers; a PUT's and PATCH's answer also carry ``properties.sku``, and a PATCH's
    has no ``location`` (azure-mgmt-web 2.0.0's plan recording)."""
    view = public(plan)
    farm = int(hashlib.sha256(plan["id"].lower().encode()).hexdigest()[:5], 16)
    view["properties"] = {
        **SHAPES["plan"],
        "serverFarmId": farm,
        "name": plan["name"],
        "kind": plan.get("kind"),
        "subscription": plan["id"].split("/")[2],
        "webSpace": _web_space(plan),
        "mdmId": f"{STAMP}_{farm}",
        "tags": plan.get("tags"),
        **view["properties"],
    }
    if written:
        view["properties"]["sku"] = dict(plan["sku"])
    if written == "PATCH":
        view.pop("location", None)
    return view


@router.route("PUT", WEB + rf"/serverfarms/(?P<plan>{NAME})")
@router.route("PATCH", WEB + rf"/serverfarms/(?P<plan>{NAME})")
def put_plan(cloud: Cloud, req: Request) -> Response:
    """Create a plan, or change an existing one's SKU and tags: synchronous 200 either way (recorded)."""
    rg, name = req.params["rg"], req.params["plan"]
    cloud.require_group(rg)
    body = req.json_object()
    existing = cloud.world.get(ids.provider_id(cloud.subscription_id, rg, "Microsoft.Web", "serverfarms", name))
    sku = body.get("sku") or (existing["sku"] if existing else None)
    if not isinstance(sku, dict) or not sku.get("name"):
        raise app_service_bad_request("The parameter sku has an invalid value: a plan needs a SKU name.")
    tier = str(sku.get("tier") or sku["name"])
    reserved = bool(
        (body.get("properties") or {}).get("reserved", existing["properties"]["reserved"] if existing else False)
    )
    plan = add_plan(
        cloud.world,
        {
            "resourceGroup": rg,
            "name": existing["name"] if existing else name,
            "sku": {"name": sku["name"], "tier": tier},
            "reserved": reserved,
        },
    )
    if existing is not None:
        plan["properties"]["numberOfSites"] = existing["properties"]["numberOfSites"]
    if "tags" in body or (existing and "tags" in existing):
        plan["tags"] = dict(body.get("tags") or (existing or {}).get("tags") or {})
    return json_response(200, render_plan(plan, written=req.method))


@router.route("DELETE", WEB + rf"/serverfarms/(?P<plan>{NAME})")
def delete_plan(cloud: Cloud, req: Request) -> Response:
    """200 (azure-mgmt-web 2.0.0's recording); refused while apps are on the plan, 204 when there is none."""
    rg, name = req.params["rg"], req.params["plan"]
    cloud.require_group(rg)
    plan_id = ids.provider_id(cloud.subscription_id, rg, "Microsoft.Web", "serverfarms", name)
    if cloud.world.get(plan_id) is None:
        return Response(204)
    apps = [
        s["name"]
        for s in cloud.world.of_type(ids.SITE_TYPE)
        if ids.key(s["properties"]["serverFarmId"]) == ids.key(plan_id)
    ]
    if apps:
        raise ArmError(
            409,
            "Conflict",
            f"Server farm '{name}' cannot be deleted because it has web app(s) {', '.join(apps)} assigned to it.",
            app_service=True,
        )
    cloud.world.remove(plan_id)
    return Response(200)


# --- app settings and site config ----------------------------------------------------------------------


def _slot_config_names(site: Json) -> Json:
    """``SlotConfigNamesResource`` (Microsoft.Web REST spec): the setting names that stay with a slot."""
    names = site.get("_slotConfigNames") or {}
    return _config_resource(
        site,
        "slotConfigNames",
        {key: names.get(key) for key in ("connectionStringNames", "appSettingNames", "azureStorageConfigNames")},
    )


@router.route("GET", SITE + "/config/slotConfigNames")
def get_slot_config_names(cloud: Cloud, req: Request) -> Response:
    """Read by ``az webapp config appsettings set`` before it writes."""
    return json_response(200, _slot_config_names(_site(cloud, req)))


@router.route("PUT", SITE + "/config/slotConfigNames")
def put_slot_config_names(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    props = req.json_object().get("properties") or {}
    for key, value in props.items():
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise app_service_bad_request(f"The parameter {key} has an invalid value: a list of names.")
    site["_slotConfigNames"] = {k: v for k, v in props.items() if v is not None}
    return json_response(200, _slot_config_names(site))


@router.route("POST", SITE + "/config/appsettings/list")
def list_app_settings(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    return json_response(200, _config_resource(site, "appsettings", dict(site["_appSettings"])))


@router.route("PUT", SITE + "/config/appsettings")
def put_app_settings(cloud: Cloud, req: Request) -> Response:
    """Replace every app setting (App Service's PUT is not a merge: what is left out is deleted)."""
    site = _site(cloud, req)
    props = req.json_object().get("properties")
    if not isinstance(props, dict) or not all(isinstance(v, str) for v in props.values()):
        raise app_service_bad_request("The parameter properties has an invalid value: app settings are string pairs.")
    site["_appSettings"] = dict(props)
    return json_response(200, _config_resource(site, "appsettings", dict(props)))


@router.route("GET", SITE + "/config/web")
def get_site_config(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    return json_response(200, _site_config_view(site, written=False))


#: Site config fields a client may set (``vnetName`` is App Service's to set, after a VPN package hand-off).
_READ_ONLY_CONFIG = {"vnetName", "vnetPrivatePortsCount", "machineKey"}


@router.route("PATCH", SITE + "/config/web")
@router.route("PUT", SITE + "/config/web")
def update_site_config(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    props = req.json_object().get("properties") or {}
    if not isinstance(props, dict):
        raise app_service_bad_request("The parameter properties has an invalid value.")
    for name, value in props.items():
        if name not in _READ_ONLY_CONFIG and value is not None:
            site["_siteConfig"][name] = value
    if "vnetRouteAllEnabled" in props:
        _set_route_all(site, bool(props["vnetRouteAllEnabled"]))
    return json_response(200, _site_config_view(site, written=True))


def _set_route_all(site: Json, enabled: bool) -> None:
    """One switch under two names: ``outboundVnetRouting.applicationTraffic`` is "previously called
    VnetRouteAllEnabled" (azure-mgmt-web 11.0.1 models, api-version 2025-05-01)."""
    site["properties"]["vnetRouteAllEnabled"] = enabled
    site["properties"].setdefault("outboundVnetRouting", {})["applicationTraffic"] = enabled
    site["_siteConfig"]["vnetRouteAllEnabled"] = enabled


# --- gateway-required VNet integration -----------------------------------------------------------------


def render_connection(world: SandboxState, connection: Json) -> Json:
    view = public(connection)
    view["properties"]["resyncRequired"] = resync_required(world, connection)
    return view


def _swift_entry(world: SandboxState, site: Json) -> Json | None:
    """The list entry App Service shows for regional integration (``isSwift: true``)."""
    subnet_id = site["properties"].get("virtualNetworkSubnetId")
    subnet = world.get(subnet_id) if subnet_id else None
    if subnet is None:
        return None
    vnet = world.get(ids.parse(subnet["id"]).parent())  # type: ignore[union-attr]
    name = f"{vnet['properties']['resourceGuid'] if vnet else ''}_{subnet['name']}"
    return {
        "id": f"{site['id']}/virtualNetworkConnections/{name}",
        "name": name,
        "type": ids.VNET_CONNECTION_TYPE,
        "location": "West Europe",
        "properties": {
            "vnetResourceId": subnet["id"],
            "certThumbprint": None,
            "certBlob": None,
            "routes": [],
            "resyncRequired": False,
            "dnsServers": None,
            "isSwift": True,
        },
    }


@router.route("GET", SITE + "/virtualNetworkConnections")
def list_connections(cloud: Cloud, req: Request) -> Response:
    """A bare JSON array, not ``{"value": [...]}`` (App Service's own quirk, recorded by azure-cli)."""
    site = _site(cloud, req)
    found = [render_connection(cloud.world, c) for c in cloud.world.children(site["id"], "virtualNetworkConnections")]
    swift = _swift_entry(cloud.world, site)
    return json_response(200, found + ([swift] if swift else []))


def _connection(cloud: Cloud, req: Request, site: Json) -> Json:
    connection = cloud.world.get(f"{site['id']}/virtualNetworkConnections/{req.params['vnet']}")
    if connection is None:
        raise ArmError(
            404, "NotFound", f"Cannot find Virtual Network connection {req.params['vnet']} on site {site['name']}."
        )
    return connection


@router.route("GET", CONNECTION)
def get_connection(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    return json_response(200, render_connection(cloud.world, _connection(cloud, req, site)))


@router.route("PUT", CONNECTION)
@router.route("PATCH", CONNECTION)
def put_connection(cloud: Cloud, req: Request) -> Response:
    """Declare the VNet on the app; App Service answers with the certificate the gateway must trust."""
    site = _site(cloud, req)
    vnet_name = req.params["vnet"]
    connection_id = f"{site['id']}/virtualNetworkConnections/{vnet_name}"
    existing = cloud.world.get(connection_id)
    props = req.json_object().get("properties") or {}
    vnet_id = props.get("vnetResourceId") or (existing["properties"]["vnetResourceId"] if existing else "")
    _check_gateway_integration(cloud.world, site, vnet_name, vnet_id)
    if existing is not None:
        return json_response(200, render_connection(cloud.world, existing))
    vnet = cloud.world.get(vnet_id)
    assert vnet is not None
    blob, thumbprint = _vnet_certificate(cloud.world, vnet)
    connection = {
        "id": connection_id,
        "name": vnet["name"],
        "type": ids.VNET_CONNECTION_TYPE,
        "location": "West Europe",
        "properties": {
            "vnetResourceId": vnet["id"],
            "certThumbprint": thumbprint,
            "certBlob": blob,
            "routes": [],
            "resyncRequired": False,
            "dnsServers": ",".join((vnet["properties"].get("dhcpOptions") or {}).get("dnsServers") or []) or None,
            "isSwift": False,
        },
    }
    cloud.world.put(connection)
    return json_response(200, render_connection(cloud.world, connection))


def _vnet_certificate(world: SandboxState, vnet: Json) -> tuple[str, str]:
    """App Service issues one certificate per subscription and VNet (docs/azure.md §9.1: "two apps of one
    subscription on one VNet trust the same data"): an app joining a VNet another app of the subscription is
    connected to gets the same data; once no app is connected, the next connection gets a new one."""
    for site in world.of_type(ids.SITE_TYPE):
        for other in world.children(site["id"], "virtualNetworkConnections"):
            if ids.key(other["properties"]["vnetResourceId"]) == ids.key(vnet["id"]):
                return other["properties"]["certBlob"], other["properties"]["certThumbprint"]
    cert = app_certificate(vnet["name"], vnet["properties"]["resourceGuid"][:8])
    return cert.blob, cert.thumbprint


def _check_gateway_integration(world: SandboxState, site: Json, vnet_name: str, vnet_id: str) -> None:
    """App Service's rules for gateway-required integration (docs/azure.md §9.6)."""
    parsed = ids.parse(vnet_id) if vnet_id else None
    if parsed is None or parsed.full_type.lower() != ids.VNET_TYPE.lower():
        raise app_service_bad_request(f"The vnetResourceId '{vnet_id}' is not a virtual network resource id.")
    if parsed.name.lower() != vnet_name.lower():
        raise app_service_bad_request(
            f"The virtual network name '{vnet_name}' does not match vnetResourceId '{vnet_id}'."
        )
    if world.get(vnet_id) is None:
        raise app_service_bad_request(f"Cannot find the virtual network '{vnet_id}'.")
    if site["properties"]["reserved"] or "linux" in site["kind"] or "container" in site["kind"]:
        raise app_service_bad_request(
            "Gateway-required virtual network integration is not supported for Linux apps or Windows containers."
        )
    tier = _plan_of(world, site)["sku"]["tier"]
    if tier.lower() in _NO_VNET_TIERS:
        raise app_service_bad_request(f"Virtual network integration is not available in the {tier} tier.")
    for other in world.children(site["id"], "virtualNetworkConnections"):
        if other["name"].lower() != vnet_name.lower():
            raise app_service_bad_request(
                f"The app is already connected to virtual network '{other['name']}'; an app connects to one VNet."
            )


@router.route("DELETE", CONNECTION)
def delete_connection(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    connection = _connection(cloud, req, site)
    cloud.world.remove(connection["id"])
    if site["_siteConfig"].get("vnetName", "").lower() == connection["name"].lower():
        site["_siteConfig"]["vnetName"] = ""
    return Response(200)


def _gateway_resource(connection: Json) -> Json:
    return {
        "id": f"{connection['id']}/gateways/primary",
        "name": "primary",
        "type": "Microsoft.Web/sites/virtualNetworkConnections/gateways",
        "location": "West Europe",
        "properties": {"vnetName": connection["name"]},
    }


@router.route("GET", CONNECTION + rf"/gateways/(?P<gateway>{NAME})")
def get_connection_gateway(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    connection = _connection(cloud, req, site)
    if req.params["gateway"] != "primary" or not connection.get("_gateway"):
        raise ArmError(
            404, "NotFound", f"Cannot find gateway {req.params['gateway']} of connection {connection['name']}."
        )
    return json_response(200, _gateway_resource(connection))


@router.route("PUT", CONNECTION + rf"/gateways/(?P<gateway>{NAME})")
@router.route("PATCH", CONNECTION + rf"/gateways/(?P<gateway>{NAME})")
def put_connection_gateway(cloud: Cloud, req: Request) -> Response:
    """Hand the VPN client package to the app: the last step of the gateway-required handshake.

    The URI is taken as given (App Service saved even a quoted or blank one); whether it names a package
    this sandbox generated, and when, decides later whether traffic flows.
    """
    site = _site(cloud, req)
    connection = _connection(cloud, req, site)
    if req.params["gateway"] != "primary":
        raise app_service_bad_request("The only supported gateway name is 'primary'.")
    props = req.json_object().get("properties") or {}
    uri = props.get("vpnPackageUri")
    if not isinstance(uri, str) or not uri:
        raise app_service_bad_request("The parameter vpnPackageUri has an invalid value.")
    found = _PACKAGE_RE.search(uri)
    package_id = found.group(1) if found and not uri.startswith('"') else None
    connection["_gateway"] = {
        "vpnPackageUri": uri,
        "packageId": package_id,
        "handedOff": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    site["_siteConfig"]["vnetName"] = connection["name"]
    return json_response(200, _gateway_resource(connection))


# --- regional ("swift") VNet integration ---------------------------------------------------------------


def _check_regional(world: SandboxState, site: Json, subnet_id: str) -> None:
    subnet = world.get(subnet_id)
    parsed = ids.parse(subnet_id)
    if subnet is None or parsed is None or parsed.full_type.lower() != ids.SUBNET_TYPE.lower():
        raise app_service_bad_request(f"Subnet '{subnet_id}' does not exist.")
    tier = _plan_of(world, site)["sku"]["tier"]
    if tier.lower() in _NO_VNET_TIERS:
        raise app_service_bad_request(f"Virtual network integration is not available in the {tier} tier.")
    delegations = {d["properties"]["serviceName"].lower() for d in subnet["properties"].get("delegations") or []}
    needed = required_delegation(world, site)
    if needed.lower() not in delegations:
        raise app_service_bad_request(
            f"Subnet '{subnet['name']}' must be delegated to {needed} before it can be used for "
            "virtual network integration."
        )
    if world.children(site["id"], "virtualNetworkConnections"):
        raise app_service_bad_request(
            "The app has a gateway-required virtual network integration; remove it before adding regional integration."
        )
    plan_id = ids.key(site["properties"]["serverFarmId"])
    for other in world.of_type(ids.SITE_TYPE):
        same_subnet = ids.key(other["properties"].get("virtualNetworkSubnetId") or "") == ids.key(subnet_id)
        if same_subnet and ids.key(other["properties"]["serverFarmId"]) != plan_id:
            raise app_service_bad_request(f"Subnet '{subnet['name']}' is already in use by another App Service plan.")


def _set_regional(site: Json, subnet_id: str | None, world: SandboxState) -> None:
    site["properties"]["virtualNetworkSubnetId"] = subnet_id
    swift = _swift_entry(world, site) if subnet_id else None
    site["_siteConfig"]["vnetName"] = swift["name"] if swift else ""


def _swift_resource(world: SandboxState, site: Json) -> Json:
    """Answered under ``…/config/virtualNetwork`` with type ``sites/config``, whatever path was called
    (the az CLI recording of ``webapp vnet-integration add``: local/sandbox/README.md, "Recorded answers")."""
    tier = _plan_of(world, site)["sku"]["tier"]
    return {
        "id": f"{site['id']}/config/virtualNetwork",
        "name": "virtualNetwork",
        "type": "Microsoft.Web/sites/config",
        "location": "West Europe",
        "properties": {
            "subnetResourceId": site["properties"].get("virtualNetworkSubnetId"),
            "swiftSupported": tier.lower() not in _NO_VNET_TIERS,
        },
    }


@router.route("GET", SITE + "/networkConfig/virtualNetwork")
def get_swift(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    return json_response(200, _swift_resource(cloud.world, site))


@router.route("PUT", SITE + "/networkConfig/virtualNetwork")
@router.route("PATCH", SITE + "/networkConfig/virtualNetwork")
def put_swift(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    props: dict[str, Any] = req.json_object().get("properties") or {}
    subnet_id = props.get("subnetResourceId")
    if not isinstance(subnet_id, str) or not subnet_id:
        raise app_service_bad_request("The parameter subnetResourceId has an invalid value.")
    _check_regional(cloud.world, site, subnet_id)
    cloud.require_linked(req, "Microsoft.Network/virtualNetworks/subnets/join/action", subnet_id)
    _set_regional(site, subnet_id, cloud.world)
    return json_response(200, _swift_resource(cloud.world, site))


@router.route("DELETE", SITE + "/networkConfig/virtualNetwork")
def delete_swift(cloud: Cloud, req: Request) -> Response:
    site = _site(cloud, req)
    _set_regional(site, None, cloud.world)
    return Response(200)


# --- seeding for benchmarks (control API) ---------------------------------------------------------------


def copy_site(world: SandboxState, group: str, name: str, count: int) -> list[str]:
    """``count`` copies of a site with everything under it (config, settings, VNet connections), named
    ``{name}-0000``…, as if each had been set up the same way. Control API only: many apps for a benchmark
    without an HTTPS server each (the copies keep the original's ``defaultHostName``)."""
    source_id = ids.provider_id(world.subscription_id, group, "Microsoft.Web", "sites", name)
    prefix = ids.key(source_id)
    originals = [r for k, r in world.resources.items() if k == prefix or k.startswith(prefix + "/")]
    if not originals:
        raise arm_errors.resource_not_found(ids.SITE_TYPE, name, group)
    names = [f"{name}-{index:04d}" for index in range(count)]
    for copy_name in names:
        copy_id = source_id.rsplit("/", 1)[0] + "/" + copy_name
        for original in originals:
            copied = json.loads(json.dumps(original).replace(source_id, copy_id))
            if ids.key(original["id"]) == prefix:
                copied["name"] = copy_name
            world.put(copied)
    return names
