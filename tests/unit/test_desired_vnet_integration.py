"""The app's VNet connection and the hand-off of the VPN package (pure)."""

from __future__ import annotations

import base64

from kubelink.desired.gateway import GatewayState
from kubelink.desired.vnet_integration import (
    AppGatewayState,
    AppPackageState,
    VnetConnectionState,
    desired_vnet_connection,
    diff_app_gateway,
    diff_app_package,
    diff_vnet_connection,
)
from tests.activities.specs import link_spec

BLOB = base64.b64encode(b"0\x82app-cert").decode()


def connection(**props: object) -> VnetConnectionState:
    body = {"name": "kube-vnet", "properties": {"vnetResourceId": link_spec().vnet_id, "certBlob": BLOB, **props}}
    return VnetConnectionState.from_arm(link_spec(), body)


def gateway(*blobs: str) -> GatewayState:
    certs = [{"name": f"c{i}", "properties": {"publicCertData": b}} for i, b in enumerate(blobs)]
    return GatewayState.from_arm({"properties": {"vpnClientConfiguration": {"vpnClientRootCertificates": certs}}})


def test_connection_is_declared_with_the_vnet_id_and_compared_case_insensitively():
    spec = link_spec()
    assert desired_vnet_connection(spec) == {"properties": {"vnetResourceId": spec.vnet_id}}
    (missing,) = diff_vnet_connection(spec, VnetConnectionState.from_arm(spec, None))
    assert missing.op == "add"
    assert diff_vnet_connection(spec, connection(vnetResourceId=spec.vnet_id.upper())) == ()


def test_certificate_is_kept_in_memory_only():
    state = connection()
    assert state.certificate is not None and state.certificate.name == "kubelink-kubelink-demo"
    assert BLOB not in repr(state)


def test_converged_when_connected_trusted_and_named_in_site_config():
    state = AppGatewayState(connection(), gateway(BLOB), "kube-vnet")
    assert state.gateway_trusts_app
    assert diff_app_gateway(link_spec(), state) == ()


def test_every_reason_to_hand_the_package_again_is_a_change():
    state = AppGatewayState(connection(resyncRequired=True), gateway(), None)
    fields = {c.field_text: c for c in diff_app_gateway(link_spec(), state)}
    assert set(fields) == {"siteConfig.vnetName", "properties.resyncRequired", "gateway.vpnClientRootCertificates"}
    certificate = connection().certificate
    assert certificate is not None
    assert fields["gateway.vpnClientRootCertificates"].new == certificate.thumbprint


def test_verification_judges_the_package_by_the_connection_and_the_gateway_alone():
    assert diff_app_package(AppPackageState(connection(), gateway(BLOB))) == ()
    fields = {c.field_text for c in diff_app_package(AppPackageState(connection(resyncRequired=True), gateway()))}
    assert fields == {"properties.resyncRequired", "gateway.vpnClientRootCertificates"}
