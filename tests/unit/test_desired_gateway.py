"""GatewaySubnet, public IP, gateway and point-to-site: desired bodies and diffs (pure)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from kubelink.desired.gateway import (
    GatewayState,
    PublicIpState,
    RootCertificate,
    SubnetState,
    desired_gateway_subnet,
    diff_gateway,
    diff_gateway_subnet,
    diff_point_to_site,
    diff_public_ip,
    gateway_body,
    merge_point_to_site,
    point_to_site_refusal,
    public_ip_body,
)
from tests.activities.specs import link_spec

APP_DER = b"0\x82app-certificate-der"
OTHER_DER = b"0\x82someone-elses-root"
APP_CERT = RootCertificate("kubelink-kubelink-demo", base64.b64encode(APP_DER).decode())
NO_GATEWAY = GatewayState.from_arm(None)


def root(name: str, der: bytes) -> dict:
    return {"name": name, "properties": {"publicCertData": base64.b64encode(der).decode()}}


def existing_gateway(**p2s: object) -> dict:
    """A gateway someone else created: BGP on, their own root certificate, OpenVPN."""
    return {
        "id": "/subscriptions/x/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworkGateways/kube-vnet-gw",
        "location": "westeurope",
        "properties": {
            "provisioningState": "Succeeded",
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": True,
            "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ", "capacity": 2},
            "ipConfigurations": [{"name": "theirs", "properties": {"publicIPAddress": {"id": "their-pip"}}}],
            "vpnClientConfiguration": {
                "vpnClientAddressPool": {"addressPrefixes": ["172.16.100.0/24"]},
                "vpnClientProtocols": ["OpenVPN"],
                "vpnAuthenticationTypes": ["Certificate", "AAD"],
                "vpnClientRootCertificates": [root("ops-root", OTHER_DER)],
                **p2s,
            },
        },
    }


def test_missing_gateway_subnet_is_created_with_the_spec_prefix():
    spec = link_spec()
    (change,) = diff_gateway_subnet(spec, SubnetState.from_arm(None))
    assert (change.op, change.field_text, change.new) == ("add", "properties.addressPrefix", "10.240.255.0/27")
    assert desired_gateway_subnet(spec) == {"name": "GatewaySubnet", "properties": {"addressPrefix": "10.240.255.0/27"}}


def test_existing_gateway_subnet_is_kept_whatever_its_prefix():
    state = SubnetState.from_arm({"name": "GatewaySubnet", "properties": {"addressPrefixes": ["10.240.254.0/26"]}})
    assert state.address_prefixes == ("10.240.254.0/26",)
    assert diff_gateway_subnet(link_spec(), state) == ()


def test_public_ip_is_standard_static_ipv4_and_zone_redundant_for_az_skus():
    spec = link_spec()
    missing = PublicIpState.from_arm(None)
    assert {c.field_text for c in diff_public_ip(spec, missing, NO_GATEWAY)} == {
        "sku.name",
        "properties.publicIPAllocationMethod",
        "properties.publicIPAddressVersion",
    }
    assert public_ip_body(spec, missing, "westeurope", ("1", "2", "3")) == {
        "location": "westeurope",
        "tags": {"kubelink-created-by": spec.name},
        "sku": {"name": "Standard", "tier": "Regional"},
        "zones": ["1", "2", "3"],
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
    }
    assert "zones" not in public_ip_body(link_spec(gateway={"sku": "Basic"}), missing, "westeurope", ("1", "2", "3"))
    assert public_ip_body(spec, missing, "westeurope", ("1", "2"))["zones"] == ["1", "2"]
    assert "zones" not in public_ip_body(spec, missing, "ukwest", ())


def test_existing_public_ip_is_compared_case_insensitively_and_fixed_in_place():
    body: dict[str, Any] = {
        "location": "westeurope",
        "tags": {"owner": "ops"},
        "sku": {"name": "standard", "tier": "Regional"},
        "properties": {"publicIPAllocationMethod": "Dynamic", "publicIPAddressVersion": "IPv4", "ipAddress": "1.2.3.4"},
    }
    state = PublicIpState.from_arm(body)
    (change,) = diff_public_ip(link_spec(), state, NO_GATEWAY)
    assert (change.field_text, change.old, change.new) == ("properties.publicIPAllocationMethod", "Dynamic", "Static")
    fixed = public_ip_body(link_spec(), state, None)
    assert fixed["tags"] == {"owner": "ops"}
    assert fixed["properties"]["publicIPAllocationMethod"] == "Static"
    assert body["properties"]["publicIPAllocationMethod"] == "Dynamic", "the observed body is not mutated"


def test_an_adopted_gateway_keeps_its_own_public_ip():
    gateway = GatewayState.from_arm(existing_gateway())
    assert diff_public_ip(link_spec(), PublicIpState.from_arm(None), gateway) == ()


def test_fresh_gateway_is_one_body_with_point_to_site_and_the_app_root_certificate():
    spec = link_spec()
    body = gateway_body(spec, NO_GATEWAY, APP_CERT, "westeurope")
    props = body["properties"]
    assert body["location"] == "westeurope"
    assert (props["gatewayType"], props["vpnType"], props["sku"]) == (
        "Vpn",
        "RouteBased",
        {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"},
    )
    assert props["vpnGatewayGeneration"] == "Generation1"
    (ipconfig,) = props["ipConfigurations"]
    assert ipconfig["properties"]["subnet"]["id"] == spec.gateway_subnet_id
    assert ipconfig["properties"]["publicIPAddress"]["id"] == spec.public_ip_id
    assert props["vpnClientConfiguration"] == {
        "vpnClientAddressPool": {"addressPrefixes": ["172.16.100.0/24"]},
        "vpnClientProtocols": ["SSTP"],
        "vpnAuthenticationTypes": ["Certificate"],
        "vpnClientRootCertificates": [
            {"name": "kubelink-kubelink-demo", "properties": {"publicCertData": APP_CERT.data}}
        ],
    }
    generations = {
        sku: gateway_body(link_spec(gateway={"sku": sku}), NO_GATEWAY, APP_CERT, "x")["properties"][
            "vpnGatewayGeneration"
        ]
        for sku in ("Basic", "VpnGw1AZ", "VpnGw2AZ", "VpnGw5AZ")
    }
    assert generations == {
        "Basic": "Generation1",
        "VpnGw1AZ": "Generation1",
        "VpnGw2AZ": "Generation2",
        "VpnGw5AZ": "Generation2",
    }


def test_missing_gateway_diffs_as_adds_for_gateway_and_point_to_site():
    spec = link_spec()
    assert {c.op for c in diff_gateway(spec, NO_GATEWAY)} == {"add"}
    p2s = diff_point_to_site(spec, NO_GATEWAY, APP_CERT)
    assert {c.field_text.rsplit(".", 1)[-1] for c in p2s} == {
        "addressPrefixes",
        "vpnClientProtocols",
        "vpnAuthenticationTypes",
        "vpnClientRootCertificates[kubelink-kubelink-demo]",
    }


def test_an_openvpn_gateway_is_refused_unless_taken_over_and_then_keeps_everything_else():
    spec = link_spec()
    state = GatewayState.from_arm(existing_gateway())
    assert diff_gateway(spec, state) == ()
    merge = merge_point_to_site(spec, state)
    refusal = point_to_site_refusal(spec, merge)
    assert refusal is not None
    assert "OpenVPN clients" in refusal and "root certificate ops-root" in refusal
    assert "gateway.allowPointToSiteTakeover" in refusal and "Nothing was written" in refusal
    taken_over = link_spec(gateway={"allowPointToSiteTakeover": True})
    assert point_to_site_refusal(taken_over, merge_point_to_site(taken_over, state)) is None
    changes = {c.field_text: c for c in diff_point_to_site(taken_over, state, APP_CERT)}
    assert set(changes) == {
        "properties.vpnClientConfiguration.vpnClientProtocols",
        "properties.vpnClientConfiguration.vpnAuthenticationTypes",
        "properties.vpnClientConfiguration.vpnClientRootCertificates[kubelink-kubelink-demo]",
    }
    cert_change = changes["properties.vpnClientConfiguration.vpnClientRootCertificates[kubelink-kubelink-demo]"]
    assert cert_change.new == hashlib.sha1(APP_DER).hexdigest().upper()
    body = gateway_body(taken_over, state, APP_CERT, None)
    props = body["properties"]
    assert props["enableBgp"] is True
    assert props["sku"] == {"name": "VpnGw1AZ", "tier": "VpnGw1AZ", "capacity": 2}
    assert props["ipConfigurations"] == existing_gateway()["properties"]["ipConfigurations"]
    p2s = props["vpnClientConfiguration"]
    assert p2s["vpnClientProtocols"] == ["SSTP"]
    assert p2s["vpnAuthenticationTypes"] == ["Certificate"]  # Entra ID works over OpenVPN only: it went with it
    assert [c["name"] for c in p2s["vpnClientRootCertificates"]] == ["ops-root", "kubelink-kubelink-demo"]


def test_a_basic_gateway_keeps_ikev2_beside_sstp_and_its_other_pool_and_properties():
    spec = link_spec(gateway={"sku": "Basic"})
    body = existing_gateway(
        vpnClientProtocols=["IkeV2", "SSTP"],
        vpnAuthenticationTypes=["Certificate"],
        vpnClientAddressPool={"addressPrefixes": ["192.168.50.0/24"]},
        vpnClientRevokedCertificates=[{"name": "lost-laptop", "properties": {"thumbprint": "AB"}}],
    )
    body["properties"]["sku"] = {"name": "Basic", "tier": "Basic"}
    body["properties"]["customRoutes"] = {"addressPrefixes": ["10.99.0.0/16"]}
    state = GatewayState.from_arm(body)
    merge = merge_point_to_site(spec, state)
    assert (merge.taken_away, merge.enables_sstp) == ((), False)
    assert point_to_site_refusal(spec, merge) is None
    changes = {c.field_text: c for c in diff_point_to_site(spec, state, APP_CERT)}
    pool = changes["properties.vpnClientConfiguration.vpnClientAddressPool.addressPrefixes"]
    assert pool.new == ["192.168.50.0/24", "172.16.100.0/24"]  # added beside theirs
    assert "properties.vpnClientConfiguration.vpnClientProtocols" not in changes
    put = gateway_body(spec, state, APP_CERT, None)["properties"]
    assert put["vpnClientConfiguration"]["vpnClientProtocols"] == ["IkeV2", "SSTP"]
    assert (
        put["vpnClientConfiguration"]["vpnClientRevokedCertificates"]
        == body["properties"]["vpnClientConfiguration"]["vpnClientRevokedCertificates"]
    )
    assert put["customRoutes"] == {"addressPrefixes": ["10.99.0.0/16"]}


@pytest.mark.parametrize(
    ("protocols", "auth", "taken"),
    [
        (["IkeV2", "SSTP"], ["Certificate"], "IKEv2 clients"),
        (["SSTP"], ["Radius"], "only with Radius"),
        (["OpenVPN"], ["AAD"], "only with AAD"),
    ],
)
def test_what_a_non_basic_gateway_would_lose_is_named(protocols: list[str], auth: list[str], taken: str):
    state = GatewayState.from_arm(existing_gateway(vpnClientProtocols=protocols, vpnAuthenticationTypes=auth))
    refusal = point_to_site_refusal(link_spec(), merge_point_to_site(link_spec(), state))
    assert refusal is not None and taken in refusal


def test_a_new_or_sstp_less_configuration_would_enable_sstp():
    assert merge_point_to_site(link_spec(), NO_GATEWAY).enables_sstp
    ikev2_only = existing_gateway(vpnClientProtocols=["IkeV2"], vpnAuthenticationTypes=["Certificate"])
    ikev2_only["properties"]["sku"] = {"name": "Basic", "tier": "Basic"}
    assert merge_point_to_site(link_spec(gateway={"sku": "Basic"}), GatewayState.from_arm(ikev2_only)).enables_sstp


def test_app_certificate_already_trusted_under_another_name_is_no_change():
    state = GatewayState.from_arm(
        existing_gateway(
            vpnClientProtocols=["SSTP"], vpnClientRootCertificates=[root("AppServiceCertificate.cer", APP_DER)]
        )
    )
    assert diff_point_to_site(link_spec(), state, APP_CERT) == ()


def test_renewed_certificate_replaces_the_stale_one_of_the_same_name():
    stale = root("kubelink-kubelink-demo", b"0\x82old")
    state = GatewayState.from_arm(existing_gateway(vpnClientRootCertificates=[root("ops-root", OTHER_DER), stale]))
    change = next(c for c in diff_point_to_site(link_spec(), state, APP_CERT) if "RootCertificates" in c.field_text)
    assert change.op == "change"
    assert change.old == hashlib.sha1(b"0\x82old").hexdigest().upper()
    certs = gateway_body(link_spec(), state, APP_CERT, None)["properties"]["vpnClientConfiguration"][
        "vpnClientRootCertificates"
    ]
    assert certs == [
        root("ops-root", OTHER_DER),
        {"name": "kubelink-kubelink-demo", "properties": {"publicCertData": APP_CERT.data}},
    ]


def test_changed_pool_and_sku_are_diffed():
    state = GatewayState.from_arm(existing_gateway(vpnClientAddressPool={"addressPrefixes": ["192.168.0.0/24"]}))
    spec = link_spec(gateway={"sku": "VpnGw2AZ"})
    (sku,) = diff_gateway(spec, state)
    assert (sku.field_text, sku.old, sku.new) == ("properties.sku.name", "VpnGw1AZ", "VpnGw2AZ")
    pool = next(c for c in diff_point_to_site(spec, state, APP_CERT) if "Pool" in c.field_text)
    assert (pool.old, pool.new) == (["192.168.0.0/24"], ["192.168.0.0/24", "172.16.100.0/24"])  # theirs stays
    assert gateway_body(spec, state, APP_CERT, None)["properties"]["sku"] == {"name": "VpnGw2AZ", "tier": "VpnGw2AZ"}


@pytest.mark.parametrize(
    ("state", "busy"), [("Updating", True), ("Creating", True), ("Succeeded", False), ("Failed", False)]
)
def test_busy_means_someone_is_writing(state: str, busy: bool):
    body = existing_gateway()
    body["properties"]["provisioningState"] = state
    assert GatewayState.from_arm(body).busy is busy


def test_certificate_identity_ignores_pem_armour_and_line_breaks_and_never_shows_the_data():
    data = base64.b64encode(APP_DER).decode()
    pem = RootCertificate("x", f"-----BEGIN CERTIFICATE-----\n{data[:8]}\n{data[8:]}\n-----END CERTIFICATE-----\n")
    assert pem.der == APP_DER
    assert pem.thumbprint == APP_CERT.thumbprint
    assert data not in repr(APP_CERT)
    trusting = GatewayState.from_arm(existing_gateway(vpnClientRootCertificates=[root("app", APP_DER)]))
    assert data not in repr(trusting)
