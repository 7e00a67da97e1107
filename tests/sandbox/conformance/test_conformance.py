"""The sandbox against recorded Azure traffic (tests/data/recordings/MANIFEST.md): every difference is known.

``KNOWN`` is the allow-list: each difference the replay still finds, with why it is accepted. A difference not in
it fails the test (the sandbox drifted from Azure, or a recording was added that shows something new); an entry
the replay no longer finds fails it too (the allow-list must not outlive the difference). Figures:
``python -m tests.sandbox.conformance``.
"""

from __future__ import annotations

import copy

from local.sandbox import SandboxServer

from .catalog import CASSETTES, run
from .replay import Answer, compare, load_cassette

_NEWER_API = (
    "a property of a newer api-version than the recording's; the sandbox answers every api-version with the "
    "properties of the ones kubelink uses"
)
_MODERNISED = (
    "the request was modernised to a Standard static IP (Azure refuses the recorded Basic one), and a static IP "
    "has its address from the start"
)
_VM_PROTECTION = (
    "enableVmProtection is only in answers of api-version 2020-04-01; the newer az CLI recording (2021-08-01, "
    "azure-cli/test_PutLink_…) has none, and the newer source wins"
)
NET_GW = "azure-mgmt-network-10.2.0/test_virtual_network_gateway_operations.yaml"
NET_PIP = "azure-mgmt-network-10.2.0/test_public_ip_addresses.yaml"
WEB_APP = "azure-mgmt-web-2.0.0/test_cli_mgmt_web_app.test_web_app.yaml"
ZONE = "azure-cli/test_PutZone_ZoneNotExists_ExpectZoneCreated.yaml"
LINK = "azure-cli/test_PutLink_LinkNotExistsWithoutRegistration_ExpectLinkCreated.yaml"
SITE_EXTRA = "body.properties: extra ['outboundVnetRouting', 'virtualNetworkSubnetId', 'vnetRouteAllEnabled']"

KNOWN: dict[str, str] = {
    f"{NET_GW} #0 PUT virtualNetworks body.properties: missing ['enableVmProtection']": _VM_PROTECTION,
    f"{NET_GW} #2 GET virtualNetworks body.properties: missing ['enableVmProtection']": _VM_PROTECTION,
    f"{NET_GW} #12 PUT publicIPAddresses body.properties: extra ['ipAddress']": _MODERNISED,
    f"{NET_GW} #14 GET publicIPAddresses body.properties: extra ['ipAddress']": _MODERNISED,
    f"{NET_PIP} #0 PUT publicIPAddresses body.properties: extra ['ipAddress']": _MODERNISED,
    f"{NET_PIP} #2 GET publicIPAddresses body.properties: extra ['ipAddress']": _MODERNISED,
    f"{WEB_APP} #0 PUT sites {SITE_EXTRA}": _NEWER_API + " (2020-09-01 here; virtualNetworkSubnetId since 2021)",
    f"{WEB_APP} #3 GET sites {SITE_EXTRA}": _NEWER_API,
    f"{WEB_APP} #4 PATCH sites {SITE_EXTRA}": _NEWER_API,
    f"{ZONE} #2 GET privateDnsZones body.properties: extra ['internalId']": _NEWER_API + " (2018-09-01 here)",
    f"{LINK} #2 GET privateDnsZones body.properties: extra ['internalId']": _NEWER_API,
    f"{LINK} #10 GET privateDnsZones/virtualNetworkLinks body.properties: extra ['resolutionPolicy']": (
        _NEWER_API + " (resolutionPolicy came with 2024-06-01, the api-version azure-mgmt-privatedns 2.0 uses)"
    ),
    "azure-rest-api-specs/VirtualNetworkGatewayGenerateVpnClientPackage.json #0 POST "
    "virtualNetworkGateways/generatevpnclientpackage lro: recorded ['azure-asyncoperation'], sandbox "
    "['azure-asyncoperation', 'location']": (
        "the example lists only Azure-AsyncOperation; the sandbox also sends Location, where the package URL is "
        "read (azure-core takes a POST's result from Location; without it, from the status body, whose content "
        "for this action no source shows)"
    ),
}


def test_the_sandbox_answers_like_the_recordings(sandbox: SandboxServer) -> None:
    figures = run(sandbox)
    found = {str(d) for d in figures.differences}
    print(
        f"\nconformance: {figures.interactions} recorded interactions, {figures.exchanges} requests replayed, "
        f"{figures.matched} match, "
        f"{len(found)} known differences"
    )
    new = sorted(found - set(KNOWN))
    stale = sorted(set(KNOWN) - found)
    assert not new, "new differences from the recordings:\n" + "\n".join(new)
    assert not stale, "allow-listed differences the replay no longer finds:\n" + "\n".join(stale)
    assert figures.exchanges >= 47, "fewer exchanges replayed than the recordings hold"


def test_the_comparison_sees_each_kind_of_difference() -> None:
    """Guards the comparator itself: a recorded answer altered in status, LRO headers, keys or polls differs."""
    gateway = next(r for r in CASSETTES if r.path == NET_GW)
    exchange = next(e for e in load_cassette(gateway.file) if e.method == "PUT" and "Gateways" in e.url)
    recorded = exchange.recorded
    assert compare(gateway.path, exchange, copy.deepcopy(recorded)) == []
    body = copy.deepcopy(recorded.body)
    del body["properties"]["bgpSettings"]
    altered = Answer(200, frozenset({"location"}), body, polls=recorded.polls[:1])
    aspects = {d.aspect for d in compare(gateway.path, exchange, altered)}
    assert aspects == {"status", "lro", "body.properties", "polls"}
