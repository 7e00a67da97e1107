"""Microsoft.Web through azure-mgmt-web 11.0.1: sites, settings, config, and both kinds of VNet integration."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web import models as wm
from cryptography import x509

from . import builders
from .builders import GW, RG, VNET
from .conftest import POLL, code_of, rid

APPS = "apps-rg"
APP = "kubelink-demo"
VNET_ID = rid(RG, "Microsoft.Network", "virtualNetworks", VNET)


def app_service_message(error: HttpResponseError) -> str:
    """App Service's PascalCase error body: azure-core leaves ``e.error`` None, the text is in the body."""
    assert error.error is None
    assert error.response is not None
    body = json.loads(error.response.text())
    assert body["Code"] == "BadRequest"
    return str(body["Message"])


def connect(web: WebSiteManagementClient, app: str = APP, vnet_id: str = VNET_ID) -> wm.VnetInfoResource:
    return web.web_apps.create_or_update_vnet_connection(
        APPS, app, vnet_id.rsplit("/", 1)[-1], wm.VnetInfoResource({"properties": {"vnetResourceId": vnet_id}})
    )


# --- sites, plans, settings, config ----------------------------------------------------------------------


def test_seeded_sites_and_plans(web: WebSiteManagementClient) -> None:
    demo = web.web_apps.get(APPS, APP)
    assert (demo.kind, demo.reserved, demo.state) == ("app", False, "Running")
    assert demo.server_farm_id == rid(APPS, "Microsoft.Web", "serverfarms", "apps-plan")
    assert demo.default_host_name
    assert demo.virtual_network_subnet_id is None
    linux = web.web_apps.get(APPS, "kubelink-linux")
    assert (linux.kind, linux.reserved) == ("app,linux", True)
    plans = {name: web.app_service_plans.get(APPS, name) for name in ("apps-plan", "linux-plan", "free-plan")}
    assert {n: (p.as_dict()["sku"]["tier"], p.as_dict()["sku"]["name"], p.reserved) for n, p in plans.items()} == {
        "apps-plan": ("Standard", "S1", False),
        "linux-plan": ("PremiumV3", "P1v3", True),
        "free-plan": ("Free", "F1", False),
    }


def test_unknown_site_is_resource_not_found(web: WebSiteManagementClient) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        web.web_apps.get(APPS, "nope")
    assert code_of(caught) == "ResourceNotFound"


def test_app_settings_list_and_put_replaces_all(web: WebSiteManagementClient) -> None:
    settings = web.web_apps.list_application_settings(APPS, APP)
    assert settings.properties == {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}
    merged = {**settings.properties, "PrivateAddress": "10.240.16.25"}
    web.web_apps.update_application_settings(APPS, APP, wm.StringDictionary({"properties": merged}))
    assert web.web_apps.list_application_settings(APPS, APP).properties == merged
    web.web_apps.update_application_settings(APPS, APP, wm.StringDictionary({"properties": {"Only": "this"}}))
    assert web.web_apps.list_application_settings(APPS, APP).properties == {"Only": "this"}


def test_app_settings_must_be_strings(web: WebSiteManagementClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.update_application_settings(APPS, APP, wm.StringDictionary({"properties": {"n": 1}}))
    assert caught.value.status_code == 400
    assert "string" in app_service_message(caught.value)


def test_site_config_get_and_patch(web: WebSiteManagementClient) -> None:
    config = web.web_apps.get_configuration(APPS, APP)
    assert (config.vnet_name, config.vnet_route_all_enabled) == ("", False)
    updated = web.web_apps.update_configuration(
        APPS, APP, wm.SiteConfigResource({"properties": {"vnetRouteAllEnabled": True, "vnetName": "forged"}})
    )
    assert (updated.vnet_route_all_enabled, updated.vnet_name) == (True, "")
    assert web.web_apps.get_configuration(APPS, APP).vnet_route_all_enabled is True


# --- gateway-required integration ------------------------------------------------------------------------


def test_vnet_connection_issues_a_real_certificate(web: WebSiteManagementClient) -> None:
    assert web.web_apps.list_vnet_connections(APPS, APP) == []
    info = connect(web)
    der = base64.b64decode(info.cert_blob)
    x509.load_der_x509_certificate(der)
    assert info.cert_thumbprint == hashlib.sha1(der).hexdigest().upper()
    assert (info.name, info.vnet_resource_id, info.is_swift, info.resync_required) == (VNET, VNET_ID, False, False)
    listed = web.web_apps.list_vnet_connections(APPS, APP)
    assert [c.cert_thumbprint for c in listed] == [info.cert_thumbprint]
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).cert_blob == info.cert_blob
    assert connect(web).cert_blob == info.cert_blob  # idempotent: the same certificate


def test_vnet_connection_delete_and_reconnect_renews_the_certificate(web: WebSiteManagementClient) -> None:
    first = connect(web)
    web.web_apps.delete_vnet_connection(APPS, APP, VNET)
    assert web.web_apps.list_vnet_connections(APPS, APP) == []
    with pytest.raises(ResourceNotFoundError):
        web.web_apps.get_vnet_connection(APPS, APP, VNET)
    assert connect(web).cert_thumbprint != first.cert_thumbprint


@pytest.mark.parametrize(
    ("app", "vnet_id", "needle"),
    [
        ("kubelink-linux", VNET_ID, "Linux"),
        ("kubelink-free", VNET_ID, "Free"),
        (APP, VNET_ID + "/subnets/aks-subnet", "not a virtual network"),
        (APP, rid(RG, "Microsoft.Network", "virtualNetworks", "ghost"), "Cannot find"),
    ],
)
def test_gateway_integration_rules(web: WebSiteManagementClient, app: str, vnet_id: str, needle: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        connect(web, app, vnet_id)
    assert caught.value.status_code == 400
    assert needle in app_service_message(caught.value)


def test_one_vnet_per_app(web: WebSiteManagementClient, net: NetworkManagementClient) -> None:
    other = nm.VirtualNetwork(
        {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.60.0.0/16"]}}}
    )
    other_id = (
        net.virtual_networks.begin_create_or_update("spare-rg", "other", other, polling_interval=POLL).result().id
    )
    connect(web)
    with pytest.raises(HttpResponseError) as caught:
        connect(web, APP, str(other_id))
    assert "one VNet" in app_service_message(caught.value)


def test_package_hand_off_sets_vnet_name_and_resync_tracks_the_gateway(
    web: WebSiteManagementClient, net: NetworkManagementClient
) -> None:
    info = connect(web)
    gw = builders.gateway(net, root_certs={"AppServiceCertificate.cer": info.cert_blob})
    url = net.virtual_network_gateways.begin_generatevpnclientpackage(
        RG, GW, nm.VpnClientParameters({"processorArchitecture": "Amd64"}), polling_interval=POLL
    ).result()
    handed = web.web_apps.create_or_update_vnet_connection_gateway(
        APPS, APP, VNET, "primary", wm.VnetGateway({"properties": {"vnetName": VNET, "vpnPackageUri": url}})
    )
    assert (handed.name, handed.vnet_name) == ("primary", VNET)
    assert "vpnPackageUri" not in handed.as_dict().get("properties", {})  # write-only
    assert web.web_apps.get_configuration(APPS, APP).vnet_name == VNET
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).resync_required is False
    gw.vpn_client_configuration.vpn_client_root_certificates = []
    net.virtual_network_gateways.begin_create_or_update(RG, GW, gw, polling_interval=POLL).result()
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).resync_required is True


def test_gateway_name_must_be_primary(web: WebSiteManagementClient) -> None:
    connect(web)
    envelope = wm.VnetGateway({"properties": {"vnetName": VNET, "vpnPackageUri": "https://x/y"}})
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.create_or_update_vnet_connection_gateway(APPS, APP, VNET, "secondary", envelope)
    assert "primary" in app_service_message(caught.value)


# --- regional integration --------------------------------------------------------------------------------


def integration_subnet(net: NetworkManagementClient, delegated: bool = True) -> str:
    body = builders.subnet("10.240.254.0/26", "Microsoft.Web/serverFarms" if delegated else None)
    return str(net.subnets.begin_create_or_update(RG, VNET, "apps-subnet", body, polling_interval=POLL).result().id)


def test_regional_integration_needs_a_delegated_subnet(
    web: WebSiteManagementClient, net: NetworkManagementClient
) -> None:
    subnet_id = integration_subnet(net, delegated=False)
    envelope = wm.SwiftVirtualNetwork({"properties": {"subnetResourceId": subnet_id, "swiftSupported": True}})
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.create_or_update_swift_virtual_network_connection_with_check(APPS, APP, envelope)
    assert "delegated" in app_service_message(caught.value)


def test_regional_integration_round_trip(web: WebSiteManagementClient, net: NetworkManagementClient) -> None:
    subnet_id = integration_subnet(net)
    assert web.web_apps.get_swift_virtual_network_connection(APPS, APP).subnet_resource_id is None
    envelope = wm.SwiftVirtualNetwork({"properties": {"subnetResourceId": subnet_id, "swiftSupported": True}})
    swift = web.web_apps.create_or_update_swift_virtual_network_connection_with_check(APPS, APP, envelope)
    assert (swift.subnet_resource_id, swift.swift_supported) == (subnet_id, True)
    assert web.web_apps.get(APPS, APP).virtual_network_subnet_id == subnet_id
    [entry] = web.web_apps.list_vnet_connections(APPS, APP)
    assert (entry.is_swift, entry.vnet_resource_id, entry.cert_blob) == (True, subnet_id, None)
    links = net.subnets.get(RG, VNET, "apps-subnet").service_association_links
    assert links[0].link == rid(APPS, "Microsoft.Web", "serverfarms", "apps-plan")
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_delete(RG, VNET, "apps-subnet")
    assert code_of(caught) == "InUseSubnetCannotBeDeleted"
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_create_or_update(RG, VNET, "apps-subnet", builders.subnet("10.240.254.0/26"))
    assert code_of(caught) == "SubnetMissingRequiredDelegation"
    web.web_apps.delete_swift_virtual_network(APPS, APP)
    assert web.web_apps.list_vnet_connections(APPS, APP) == []
    assert web.web_apps.get(APPS, APP).virtual_network_subnet_id is None


def test_regional_integration_through_site_patch(web: WebSiteManagementClient, net: NetworkManagementClient) -> None:
    subnet_id = integration_subnet(net)
    patched = web.web_apps.update(
        APPS, "kubelink-linux", wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet_id}})
    )
    assert patched.virtual_network_subnet_id == subnet_id
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.update(
            APPS, "kubelink-free", wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet_id}})
        )
    assert "Free" in app_service_message(caught.value)
    assert web.web_apps.get_swift_virtual_network_connection(APPS, "kubelink-free").swift_supported is False


def test_gateway_and_regional_integration_exclude_each_other(
    web: WebSiteManagementClient, net: NetworkManagementClient
) -> None:
    subnet_id = integration_subnet(net)
    connect(web)
    envelope = wm.SwiftVirtualNetwork({"properties": {"subnetResourceId": subnet_id}})
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.create_or_update_swift_virtual_network_connection_with_check(APPS, APP, envelope)
    assert "gateway-required" in app_service_message(caught.value)


def test_site_tags_are_echoed_once_set(web: WebSiteManagementClient) -> None:
    untagged = web.web_apps.get(APPS, APP)
    assert not untagged.tags
    site = wm.Site({"location": "West Europe", "tags": {"team": "orders"}})  # the CLI's GET-modify-PUT
    web.web_apps.begin_create_or_update(APPS, APP, site, polling_interval=0.1).result()
    assert web.web_apps.get(APPS, APP).tags == {"team": "orders"}
