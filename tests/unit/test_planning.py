"""The plan's stand-in for the app's certificate before Azure issues it."""

from activities.planning import CertificateToBeIssued
from kubelink.desired.gateway import GatewayState, RootCertificate, diff_point_to_site, root_certificate_name
from tests.activities.specs import link_spec


def test_certificate_to_be_issued_is_trusted_by_no_gateway_and_named_in_words() -> None:
    spec = link_spec()
    pending = CertificateToBeIssued(root_certificate_name(spec), "")
    gateway = GatewayState.from_arm(
        {
            "properties": {
                "vpnClientConfiguration": {
                    "vpnClientAddressPool": {"addressPrefixes": [spec.gateway.client_address_pool]},
                    "vpnClientProtocols": ["SSTP"],
                    "vpnAuthenticationTypes": ["Certificate"],
                    "vpnClientRootCertificates": [{"name": "other", "properties": {"publicCertData": ""}}],
                }
            }
        }
    )
    assert not gateway.trusts(pending)
    (item,) = diff_point_to_site(spec, gateway, pending)
    assert item.field_text.endswith(f"vpnClientRootCertificates[{root_certificate_name(spec)}]")
    assert item.new == "the app's certificate (issued when the VNet is declared on the app)"
    assert item.old is None
    assert isinstance(pending, RootCertificate)
