"""The gateway with point-to-site, and the app's side of the handshake, against the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.mgmt.network.models import VirtualNetworkGateway

from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.preflight import preflight
from activities.vnet_integration import connect_app_gateway, ensure_app_vnet_connection
from adapters.clients import network_client, web_client
from kubelink.desired.gateway import RootCertificate
from tests.activities.helpers import Arm, root_certificate, settle
from tests.activities.specs import SUBSCRIPTION, payload
from tests.snapshots import without_etags

GATEWAY_PATH = "/virtualNetworkGateways/kube-vnet-gw"
OTHER_ROOT = root_certificate("ops-root")


@pytest.fixture
def link(arm: Arm) -> dict[str, Any]:
    """GatewaySubnet and public IP provisioned, the VNet declared on the app: ready for ensure_gateway."""
    link = payload()
    for ensure, resource in ((ensure_gateway_subnet, "gatewaySubnet"), (ensure_public_ip, "publicIp")):
        assert ensure(link)["ok"]
        settle(link, resource)
    declared = ensure_app_vnet_connection(link)
    assert declared["ok"], declared
    arm.reset_requests()
    return link


def app_cert_blob() -> str:
    connection = web_client(SUBSCRIPTION).web_apps.get_vnet_connection("apps-rg", "kubelink-demo", "kube-vnet")
    blob: str = connection.as_dict()["properties"]["certBlob"]
    return blob


def gateway_puts(arm: Arm) -> list[dict[str, Any]]:
    return [w for w in arm.arm_writes() if w["method"] == "PUT" and w["path"].endswith(GATEWAY_PATH)]


def test_declaring_the_vnet_outputs_the_thumbprint_only_and_is_idempotent(arm: Arm):
    link = payload()
    declared = ensure_app_vnet_connection(link)
    assert declared["ok"], declared
    assert declared["result"] == "created"
    assert declared["certThumbprint"]
    blob = app_cert_blob()
    assert blob not in json.dumps(declared)
    assert declared["certThumbprint"] == RootCertificate("app", blob).thumbprint, "Azure's thumbprint is kubelink's"
    arm.reset_requests()
    again = ensure_app_vnet_connection(link)
    assert (again["result"], again["certThumbprint"]) == ("unchanged", declared["certThumbprint"])
    assert arm.arm_writes() == []


def test_fresh_gateway_is_one_put_carrying_point_to_site_and_the_app_root_certificate(arm: Arm, link: dict):
    started = ensure_gateway(link)
    assert started["ok"], started
    assert (started["result"], started["pointToSite"], started["provisioningState"]) == (
        "created",
        "created",
        "Updating",
    )
    blob = app_cert_blob()
    assert blob not in json.dumps(started)
    (put,) = gateway_puts(arm)
    props = put["requestBody"]["properties"]
    assert (props["gatewayType"], props["vpnType"], props["sku"]["name"]) == ("Vpn", "RouteBased", "VpnGw1AZ")
    assert props["ipConfigurations"][0]["properties"]["subnet"]["id"].endswith("/subnets/GatewaySubnet")
    p2s = props["vpnClientConfiguration"]
    assert p2s["vpnClientAddressPool"] == {"addressPrefixes": ["172.16.100.0/24"]}
    assert (p2s["vpnClientProtocols"], p2s["vpnAuthenticationTypes"]) == (["SSTP"], ["Certificate"])
    assert p2s["vpnClientRootCertificates"] == [
        {"name": "kubelink-kubelink-demo", "properties": {"publicCertData": blob}}
    ]
    assert settle(link, "gateway")["provisioningState"] == "Succeeded"

    arm.reset_requests()
    again = ensure_gateway(link)
    assert (again["result"], again["pointToSite"], again["changes"]) == ("unchanged", "unchanged", [])
    assert again["provisioningState"] == "Succeeded"
    assert arm.arm_writes() == []


def test_a_busy_gateway_is_never_written(arm: Arm, link: dict):
    arm.inject(pathPattern=GATEWAY_PATH + "$", lroSeconds=30)
    assert ensure_gateway(link)["provisioningState"] == "Updating"
    arm.reset_requests()
    busy = ensure_gateway(link)
    assert busy == {
        "ok": True,
        "result": "busy",
        "pointToSite": "unchanged",
        "changes": [],
        "provisioningState": "Updating",
    }
    assert arm.arm_writes() == []


def someone_elses_gateway(sku: str, protocols: list[str], pool: str) -> dict[str, Any]:
    """A gateway another team made: their tags, IP configuration name, pool, protocols and root certificate."""
    rg_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.Network"
    existing: dict[str, Any] = {
        "location": "westeurope",
        "tags": {"owner": "ops"},
        "properties": {
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "sku": {"name": sku, "tier": sku},
            "ipConfigurations": [
                {
                    "name": "ops-config",
                    "properties": {
                        "subnet": {"id": f"{rg_id}/virtualNetworks/kube-vnet/subnets/GatewaySubnet"},
                        "publicIPAddress": {"id": f"{rg_id}/publicIPAddresses/kube-vnet-gw-pip"},
                    },
                }
            ],
            "vpnClientConfiguration": {
                "vpnClientAddressPool": {"addressPrefixes": [pool]},
                "vpnClientProtocols": protocols,
                "vpnAuthenticationTypes": ["Certificate"],
                "vpnClientRootCertificates": [{"name": "ops-root", "properties": {"publicCertData": OTHER_ROOT}}],
            },
        },
    }
    gateways = network_client(SUBSCRIPTION).virtual_network_gateways
    gateways.begin_create_or_update(
        "kube-rg", "kube-vnet-gw", VirtualNetworkGateway(existing), polling_interval=0.1
    ).result()
    return gateways.get("kube-rg", "kube-vnet-gw").as_dict()


def test_an_adopted_basic_gateway_keeps_ikev2_beside_sstp_its_pool_and_root(arm: Arm, link: dict):
    someone_elses_gateway("Basic", ["IkeV2", "SSTP"], "192.168.50.0/24")
    arm.reset_requests()
    basic = payload(gateway={"sku": "Basic", "allowNewSstp": None})  # SSTP is there already: no opt-in needed
    checked = preflight(basic)
    assert checked["ok"], checked
    adopted = ensure_gateway(basic)
    assert adopted["ok"], adopted
    assert (adopted["result"], adopted["pointToSite"]) == ("unchanged", "updated")
    assert {c["field"].rsplit(".", 1)[-1] for c in adopted["changes"]} == {
        "addressPrefixes",
        "vpnClientRootCertificates[kubelink-kubelink-demo]",
    }
    (put,) = gateway_puts(arm)
    body = put["requestBody"]
    assert body["tags"] == {"owner": "ops"}
    assert body["properties"]["ipConfigurations"][0]["name"] == "ops-config"
    p2s = body["properties"]["vpnClientConfiguration"]
    assert [r["name"] for r in p2s["vpnClientRootCertificates"]] == ["ops-root", "kubelink-kubelink-demo"]
    assert p2s["vpnClientProtocols"] == ["IkeV2", "SSTP"]
    assert p2s["vpnClientAddressPool"]["addressPrefixes"] == ["192.168.50.0/24", "172.16.100.0/24"]
    settle(basic, "gateway")
    arm.reset_requests()
    assert ensure_gateway(basic)["pointToSite"] == "unchanged"  # converged with both protocols and both pools
    assert gateway_puts(arm) == []


def test_a_gateway_others_would_lose_is_refused_with_zero_writes_and_unchanged(arm: Arm, link: dict):
    before = without_etags(someone_elses_gateway("VpnGw1AZ", ["IkeV2", "OpenVPN"], "192.168.60.0/24"))
    arm.reset_requests()
    refused = preflight(link)
    assert refused["ok"] is False and refused["error"]["code"] == "PreflightFailed"
    (detail,) = [d for d in refused["error"]["details"] if d["field"] == "gateway.allowPointToSiteTakeover"]
    for named in ("IKEv2 clients", "OpenVPN clients", "root certificate ops-root", "client pool 192.168.60.0/24"):
        assert named in detail["message"]
    again = ensure_gateway(link)  # the gateway activity refuses on its own too
    assert again["ok"] is False and again["error"]["code"] == "PointToSiteInUse"
    assert arm.arm_writes() == []
    now = network_client(SUBSCRIPTION).virtual_network_gateways.get("kube-rg", "kube-vnet-gw").as_dict()
    assert without_etags(now) == before


def test_with_the_takeover_opt_in_only_what_blocks_the_app_goes(arm: Arm, link: dict):
    someone_elses_gateway("VpnGw1AZ", ["IkeV2"], "192.168.60.0/24")
    arm.reset_requests()
    taken_over = payload(gateway={"allowPointToSiteTakeover": True})
    assert ensure_gateway(taken_over)["ok"]
    (put,) = gateway_puts(arm)
    p2s = put["requestBody"]["properties"]["vpnClientConfiguration"]
    assert p2s["vpnClientProtocols"] == ["SSTP"]
    assert p2s["vpnClientAddressPool"]["addressPrefixes"] == ["192.168.60.0/24", "172.16.100.0/24"]
    assert [r["name"] for r in p2s["vpnClientRootCertificates"]] == ["ops-root", "kubelink-kubelink-demo"]


def test_a_failed_gateway_reports_azure_code_and_message(arm: Arm, link: dict):
    arm.inject(pathPattern=GATEWAY_PATH + "$", lroOutcome="Failed", code="GatewayAllocationFailed", message="no room")
    started = ensure_gateway(link)
    observed = settle({**link, "operation": started["operation"]}, "gateway")
    assert (observed["provisioningState"], observed["error"]) == (
        "Failed",
        {"code": "GatewayAllocationFailed", "message": "no room"},
    )


def test_the_app_gets_the_vpn_package_once_and_again_only_when_it_needs_a_resync(arm: Arm, link: dict):
    ensure_gateway(link)
    settle(link, "gateway")
    arm.reset_requests()

    connected = connect_app_gateway(link)
    assert connected["ok"], connected
    assert connected["result"] == "created"
    assert "sig=" not in json.dumps(connected)
    writes = [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in arm.arm_writes()]
    assert writes == [("POST", "generatevpnclientpackage"), ("PUT", "primary")]
    package_uri = arm.arm_requests()[-1]["requestBody"]["properties"]["vpnPackageUri"]
    assert package_uri.startswith("https://") and '"' not in package_uri

    arm.reset_requests()
    again = connect_app_gateway(link)
    assert (again["result"], again["changes"]) == ("unchanged", [])
    assert arm.arm_writes() == []

    moved = payload(gateway={"clientAddressPool": "172.16.200.0/24"})
    assert ensure_gateway(moved)["pointToSite"] == "updated"
    settle(moved, "gateway")
    resync = connect_app_gateway(moved)
    assert resync["result"] == "updated"
    assert {c["field"] for c in resync["changes"]} == {"properties.resyncRequired"}
    assert connect_app_gateway(moved)["result"] == "unchanged"


def test_connecting_before_the_vnet_is_declared_is_permanent(arm: Arm):
    refused = connect_app_gateway(payload())
    assert refused["ok"] is False
    assert (refused["error"]["code"], refused["error"]["transient"]) == ("VnetConnectionMissing", False)


def test_a_refused_gateway_write_keeps_azures_words_and_points_to_regional(arm: Arm, link: dict):
    refusal = {"error": {"code": "VpnClientProtocolNotSupported", "message": "SSTP can no longer be enabled."}}
    arm.inject(method="PUT", pathPattern=GATEWAY_PATH + "$", status=400, times=1, body=refusal)
    refused = ensure_gateway(link)
    assert refused["ok"] is False
    error = refused["error"]
    assert (error["code"], error["transient"]) == ("VpnClientProtocolNotSupported", False)
    assert error["message"].startswith("SSTP can no longer be enabled. (kubelink: ")
    assert "integration: regional needs no gateway" in error["message"]
