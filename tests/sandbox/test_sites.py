"""The seeded web apps over HTTPS: ``/api/privatestuff`` answers only through a consistent private path.

The ILB controller's part (a Service with a live internal IP) is played here by ``ilb.publish``, exactly what
the controller records; tests/sandbox/test_ilb.py covers the controller against a real apiserver.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.privatedns import models as pm
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web import models as wm

from local.sandbox import SandboxServer, ilb

from . import builders
from .builders import GW, RG, VNET
from .conftest import POLL, rid
from .test_web import APP, APPS, connect, integration_subnet

IP = "10.240.16.25"
ILB_SUBNET = rid(RG, "Microsoft.Network", "virtualNetworks", VNET, "subnets", "ilb-subnet")


def probe(sandbox: SandboxServer, app: str = APP) -> requests.Response:
    return requests.get(f"{sandbox.site_urls[app]}/api/privatestuff", verify=str(sandbox.ca_bundle), timeout=5)


def serve(sandbox: SandboxServer, ip: str = IP, name: str = "orders-internal") -> None:
    with sandbox.world.lock:
        ilb.publish(sandbox.world, "default", name, "uid-1", ip, ILB_SUBNET)


def set_private_address(web: WebSiteManagementClient, value: str, app: str = APP) -> None:
    settings = web.web_apps.list_application_settings(APPS, app).properties or {}
    web.web_apps.update_application_settings(
        APPS, app, wm.StringDictionary({"properties": {**settings, "PrivateAddress": value}})
    )


def hand_off_package(net: NetworkManagementClient, web: WebSiteManagementClient) -> None:
    url = net.virtual_network_gateways.begin_generatevpnclientpackage(
        RG, GW, nm.VpnClientParameters({"processorArchitecture": "Amd64"}), polling_interval=POLL
    ).result()
    web.web_apps.create_or_update_vnet_connection_gateway(
        APPS, APP, VNET, "primary", wm.VnetGateway({"properties": {"vnetName": VNET, "vpnPackageUri": url}})
    )


def update_gateway(net: NetworkManagementClient, **changes: Any) -> None:
    """Read-modify-write of the gateway's point-to-site configuration, as kubelink (or a careless script) does."""
    gw = net.virtual_network_gateways.get(RG, GW).as_dict()
    gw["properties"]["vpnClientConfiguration"].update(changes)
    net.virtual_network_gateways.begin_create_or_update(
        RG, GW, nm.VirtualNetworkGateway(gw), polling_interval=POLL
    ).result()


def assert_broken(response: requests.Response, reason: str) -> None:
    assert response.status_code == 500
    assert "SocketException" in response.text or "InvalidOperationException" in response.text
    assert reason in response.headers["X-Sandbox-Reason"]


def test_every_seeded_app_serves_https_on_its_default_host(
    sandbox: SandboxServer, web: WebSiteManagementClient
) -> None:
    ready = json.loads((sandbox.state_dir / "sandbox.json").read_text())
    assert set(ready["sites"]) == {
        "kubelink-demo",
        "kubelink-reports",
        "kubelink-linux",
        "kubelink-free",
        "kubelink-flex",
    }
    for name, url in ready["sites"].items():
        host = web.web_apps.get(APPS, name).default_host_name
        assert url == f"https://{host}" and host.startswith("127.0.0.1:")
        home = requests.get(url, verify=str(sandbox.ca_bundle), timeout=5)
        assert home.status_code == 200 and name in home.text
    assert requests.get(f"{ready['sites'][APP]}/nope", verify=str(sandbox.ca_bundle), timeout=5).status_code == 404


def test_probe_fails_until_the_whole_gateway_path_is_in_place_then_rotates_pods(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient
) -> None:
    assert_broken(probe(sandbox), "setting is empty")
    serve(sandbox)
    set_private_address(web, IP)
    assert_broken(probe(sandbox), "not integrated")
    info = connect(web)
    assert_broken(probe(sandbox), "no virtual network gateway")
    builders.gateway(net, root_certs={"AppServiceCertificate.cer": info.cert_blob})
    assert_broken(probe(sandbox), "never given a VPN client package")
    hand_off_package(net, web)
    answers = [probe(sandbox) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.json()["pod"] for a in answers] == [
        "orders-internal-0",
        "orders-internal-1",
        "orders-internal-2",
        "orders-internal-0",
    ]
    assert answers[0].json()["address"] == IP
    health = net.virtual_network_gateways.begin_get_vpnclient_connection_health(RG, GW, polling_interval=POLL).result()
    assert [s.vpn_user_name for s in health.value or []] == [info.cert_thumbprint]


@pytest.fixture
def connected(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient
) -> wm.VnetInfoResource:
    """The app fully connected through the gateway and answering."""
    serve(sandbox)
    set_private_address(web, IP)
    info = connect(web)
    builders.gateway(net, root_certs={"AppServiceCertificate.cer": info.cert_blob})
    hand_off_package(net, web)
    assert probe(sandbox).status_code == 200
    return info


def test_a_later_gateway_put_without_the_app_cert_breaks_the_path(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient, connected: wm.VnetInfoResource
) -> None:
    update_gateway(net, vpnClientRootCertificates=[])
    assert_broken(probe(sandbox), "certificate is not a root certificate")
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).resync_required is True


def test_a_pool_change_needs_a_new_package(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient, connected: wm.VnetInfoResource
) -> None:
    update_gateway(net, vpnClientAddressPool={"addressPrefixes": ["172.16.200.0/24"]})
    assert_broken(probe(sandbox), "stale")
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).resync_required is True
    hand_off_package(net, web)
    assert probe(sandbox).status_code == 200
    assert web.web_apps.get_vnet_connection(APPS, APP, VNET).resync_required is False


def test_dropping_sstp_or_the_service_or_the_setting_breaks_the_path(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient, connected: wm.VnetInfoResource
) -> None:
    set_private_address(web, "10.240.16.26")
    assert_broken(probe(sandbox), "no internal load balancer answers on 10.240.16.26")
    set_private_address(web, IP)
    with sandbox.world.lock:
        ilb.release(sandbox.world, "default", "orders-internal")
    assert_broken(probe(sandbox), "no internal load balancer")
    serve(sandbox)
    update_gateway(net, vpnClientProtocols=["IkeV2"])
    assert_broken(probe(sandbox), "SSTP is not enabled")


def test_deleting_the_vnet_connection_breaks_the_path(
    sandbox: SandboxServer, web: WebSiteManagementClient, connected: wm.VnetInfoResource
) -> None:
    web.web_apps.delete_vnet_connection(APPS, APP, VNET)
    assert_broken(probe(sandbox), "not integrated")


def test_regional_integration_with_private_dns(
    sandbox: SandboxServer, net: NetworkManagementClient, web: WebSiteManagementClient, dns: PrivateDnsManagementClient
) -> None:
    serve(sandbox)
    set_private_address(web, "orders.kubelink.internal", app="kubelink-linux")
    subnet_id = integration_subnet(net)
    web.web_apps.update(
        APPS, "kubelink-linux", wm.SitePatchResource({"properties": {"virtualNetworkSubnetId": subnet_id}})
    )
    assert_broken(probe(sandbox, "kubelink-linux"), "does not resolve")
    dns.private_zones.begin_create_or_update(
        RG, "kubelink.internal", pm.PrivateZone({"location": "global"}), polling_interval=POLL
    ).result()
    record = pm.RecordSet({"properties": {"ttl": 300, "aRecords": [{"ipv4Address": IP}]}})
    dns.record_sets.create_or_update(RG, "kubelink.internal", "A", "orders", record)
    assert_broken(probe(sandbox, "kubelink-linux"), "does not resolve")  # the zone is not linked yet
    link = pm.VirtualNetworkLink(
        {
            "location": "global",
            "properties": {"virtualNetwork": {"id": rid(RG, "Microsoft.Network", "virtualNetworks", VNET)}},
        }
    )
    dns.virtual_network_links.begin_create_or_update(
        RG, "kubelink.internal", "link", link, polling_interval=POLL
    ).result()
    answer = probe(sandbox, "kubelink-linux")
    assert answer.status_code == 200
    assert answer.json()["address"] == IP
    web.web_apps.delete_swift_virtual_network(APPS, "kubelink-linux")
    assert_broken(probe(sandbox, "kubelink-linux"), "not integrated")
