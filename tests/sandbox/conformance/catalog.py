"""The vendored recordings the conformance suite replays, and how each maps onto the sandbox's world.

Sources and commits: tests/data/recordings/MANIFEST.md. Network and private DNS recordings keep their own
resource groups (created in the sandbox first); App Service recordings are rewritten onto the seeded apps, since
the sandbox does not create apps.
"""

from __future__ import annotations

import time
from typing import Any

from local.sandbox import SandboxServer

from .replay import Arm, Exchange, Figures, Recording, compare, load_cassette, load_example, replay


def _modernise_network(kind: str, body: Any) -> Any:
    """Today's values for the two request bodies Azure itself now refuses: a Basic public IP (no Basic IPs on VPN
    gateways since 2023, none at all since 2025-09-30) and the non-AZ ``Standard`` gateway SKU (no new non-AZ
    gateways since 2025-01-01)."""
    if kind == "publicIPAddresses" and isinstance(body, dict):
        return {**body, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    if kind == "virtualNetworkGateways" and isinstance(body, dict):
        return {**body, "properties": {**body["properties"], "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"}}}
    return body


_NET_10 = "azure-mgmt-network-10.2.0"
#: The az CLI test framework's resource-group preparer tags every group it makes with these (recorded).
_CLI_GROUP_TAGS = {"product": "azurecli", "cause": "automation"}
_WEB_APP = {"rgname": "apps-rg", "mysitexxyzz": "kubelink-demo", "myappserviceplan": "apps-plan"}

CASSETTES = [
    Recording(
        f"{_NET_10}/test_virtual_network_gateway_operations.yaml",
        groups=("test_mgmt_network_test_virtual_network_gateway_operationsb4d417ef",),
        modernise=_modernise_network,
    ),
    Recording(f"{_NET_10}/test_subnets.yaml", groups=("test_mgmt_network_test_subnetsc2cc0c8f",)),
    Recording(
        f"{_NET_10}/test_public_ip_addresses.yaml",
        groups=("test_mgmt_network_test_public_ip_addresses773e115f",),
        modernise=_modernise_network,
    ),
    Recording("azure-mgmt-network-19.0.0/test_mgmt_network.test_virtual_networks.yaml", groups=("rgname",)),
    Recording("azure-mgmt-web-2.0.0/test_cli_mgmt_web_app.test_web_app.yaml", names=_WEB_APP),
    Recording(
        "azure-mgmt-web-2.0.0/test_cli_mgmt_app_service.test_app_service_plan.yaml",
        names={"rgname": "apps-rg", "myname": "conformance-plan"},
    ),
    Recording(
        "azure-cli/test_PutZone_ZoneNotExists_ExpectZoneCreated.yaml",
        groups=("clitest_privatedns000001",),
        group_tags=_CLI_GROUP_TAGS,
    ),
    # its zone renamed: the previous recording made one of the same name in the same group
    Recording(
        "azure-cli/test_PutLink_LinkNotExistsWithoutRegistration_ExpectLinkCreated.yaml",
        groups=("clitest_privatedns000001",),
        group_tags=_CLI_GROUP_TAGS,
        names={"clitest.privatedns.com000002": "clitest.link.privatedns.com000002"},
    ),
]

#: REST-spec examples carry no method or path: the operation's, from the same spec.
_GATEWAY = "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworkGateways/vpngw"
EXAMPLES = [
    (
        Recording("azure-rest-api-specs/VirtualNetworkGatewayGenerateVpnClientPackage.json"),
        "POST",
        f"https://management.azure.com{_GATEWAY}/generatevpnclientpackage?api-version=2025-05-01",
    ),
]


def _gateway_for_example(arm: Arm, subscription: str) -> None:
    """The point-to-site gateway ``rg1/vpngw`` the generatevpnclientpackage example assumes."""
    rg = f"/subscriptions/{subscription}/resourceGroups/rg1"
    net = f"{rg}/providers/Microsoft.Network"
    version = "?api-version=2025-05-01"
    assert arm.call("PUT", f"{rg}?api-version=2021-04-01", body={"location": "westeurope"}).status in (200, 201)
    vnet = {
        "location": "westeurope",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.50.0.0/16"]},
            "subnets": [{"name": "GatewaySubnet", "properties": {"addressPrefix": "10.50.255.0/27"}}],
        },
    }
    pip = {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    for url, body in ((f"{net}/virtualNetworks/vnet1", vnet), (f"{net}/publicIPAddresses/pip1", pip)):
        _settle(arm, url + version, body)
    gateway = {
        "location": "westeurope",
        "properties": {
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"},
            "ipConfigurations": [
                {
                    "name": "default",
                    "properties": {
                        "subnet": {"id": f"{net}/virtualNetworks/vnet1/subnets/GatewaySubnet"},
                        "publicIPAddress": {"id": f"{net}/publicIPAddresses/pip1"},
                    },
                }
            ],
            "vpnClientConfiguration": {
                "vpnClientAddressPool": {"addressPrefixes": ["172.16.201.0/24"]},
                "vpnClientProtocols": ["IkeV2"],
            },
        },
    }
    _settle(arm, f"{net}/virtualNetworkGateways/vpngw{version}", gateway)


def _settle(arm: Arm, url: str, body: Any) -> None:
    assert arm.call("PUT", url, body=body).status in (200, 201), url
    for _ in range(200):
        state = arm.call("GET", url).body["properties"]["provisioningState"]
        if state == "Succeeded":
            return
        time.sleep(0.05)
    raise AssertionError(f"{url} did not provision")


def run(sandbox: SandboxServer) -> Figures:
    """Replay every vendored recording against ``sandbox``; the figures and every difference found."""
    arm = Arm(sandbox.arm_url, sandbox.ca_bundle)
    figures = Figures()
    plans: list[tuple[Recording, list[Exchange]]] = [(r, load_cassette(r.file)) for r in CASSETTES]
    for recording, exchanges in plans:
        _tally(figures, recording, exchanges, list(replay(arm, sandbox.subscription_id, recording, exchanges)))
    _gateway_for_example(arm, sandbox.subscription_id)
    for recording, method, url in EXAMPLES:
        exchanges = load_example(recording.file, method, url)
        example = Recording(recording.path, names={"subid": sandbox.subscription_id})
        _tally(figures, recording, exchanges, list(replay(arm, sandbox.subscription_id, example, exchanges)))
    return figures


def _tally(figures: Figures, recording: Recording, exchanges: list[Exchange], answers: list[Any]) -> None:
    for exchange, answer in zip(exchanges, answers, strict=True):
        found = compare(recording.path, exchange, answer)
        figures.interactions += 1 + len(exchange.recorded.polls)
        figures.exchanges += 1
        figures.matched += not found
        figures.differences.extend(found)
