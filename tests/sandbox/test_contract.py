"""Contract: the sandbox answers like the real ARM recorded in azure-mgmt-network 10.2.0's tests.

Each recorded exchange is reduced to its shape (method, resource kind, status, LRO headers, provisioning state
or operation status); the sandbox must produce the same shapes for the same calls. Runs of operation polls
compare by outcome (Azure polled 217 times over 37 minutes; the sandbox takes a second). Two request bodies
are modernised, because Azure itself now refuses the recorded ones: the Basic dynamic public IP (Basic IPs on
VPN gateways are refused since 2023) and the non-AZ ``Standard`` gateway SKU (no new non-AZ gateways since 2025).
"""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import vcr
import yaml
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm

from local.sandbox import SandboxServer
from local.sandbox.ids import parse

from .conftest import arm, client_kwargs, credential

RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "recordings" / "azure-mgmt-network-10.2.0"
GATEWAY_CASSETTE = RECORDINGS / "test_virtual_network_gateway_operations.yaml"
CASSETTES = [GATEWAY_CASSETTE, RECORDINGS / "test_subnets.yaml", RECORDINGS / "test_public_ip_addresses.yaml"]
OPERATION_URL = re.compile(
    r"^/subscriptions/[^/]+/providers/Microsoft\.Network/locations/[a-z0-9]+/operations/[0-9a-f-]{36}$"
)
LRO_HEADERS = ("azure-asyncoperation", "location", "azure-asyncnotification")
RECORDED_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Shape:
    method: str
    kind: str  # the resource type chain (``virtualNetworks/subnets``) or ``operation``
    status: int
    headers: tuple[str, ...]  # which LRO headers the answer carried
    state: str | None  # provisioningState of the body, or the operation's status


def kind_of(path: str) -> str:
    if OPERATION_URL.match(path):
        return "operation"
    parsed = parse(path)
    assert parsed is not None, path
    return "/".join(parsed.types)


def shape(method: str, path: str, status: int, headers: dict[str, Any], body: Any) -> Shape:
    lower = {k.lower() for k in headers}
    state = None
    if isinstance(body, dict):
        state = body.get("status") or (body.get("properties") or {}).get("provisioningState")
    return Shape(method, kind_of(path), status, tuple(h for h in LRO_HEADERS if h in lower), state)


def collapse(shapes: list[Shape]) -> list[Shape]:
    """Merge each run of operation polls into its last poll, checking the others said InProgress (when known)."""
    merged: list[Shape] = []
    for item in shapes:
        if merged and item.kind == "operation" and merged[-1].kind == "operation":
            assert merged[-1].state in ("InProgress", None), f"a poll after a terminal status: {merged[-1]}"
            merged[-1] = item
        else:
            merged.append(item)
    return merged


def load(cassette: Path) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load(cassette.read_text())["interactions"]
    return interactions


def request_body(recorded: dict[str, Any]) -> Any:
    raw = recorded["body"]
    if not raw:
        return None
    if raw.startswith("b'"):
        raw = ast.literal_eval(raw).decode()
    return json.loads(raw)


def recorded_shapes(cassette: Path) -> list[Shape]:
    shapes = []
    for item in load(cassette):
        response = item["response"]
        text = response["body"]["string"]
        body = json.loads(text) if text else None
        shapes.append(
            shape(
                item["request"]["method"],
                urlsplit(item["request"]["uri"]).path,
                response["status"]["code"],
                response["headers"],
                body,
            )
        )
    return collapse(shapes)


def modernise(path: str, body: Any) -> Any:
    """Today's values for the two request bodies Azure no longer accepts (see the module docstring)."""
    kind = kind_of(path)
    if kind == "publicIPAddresses":
        return {**body, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
    if kind == "virtualNetworkGateways":
        props = {**body["properties"], "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"}}
        return {**body, "properties": props}
    return body


def sandbox_shapes(sandbox: SandboxServer, cassette: Path) -> tuple[list[Shape], list[str]]:
    """Send the recorded calls to the sandbox, following its LRO URLs the way the recorded client did."""
    shapes: list[Shape] = []
    poll_urls: list[str] = []
    for item in load(cassette):
        request = item["request"]
        url = urlsplit(request["uri"])
        if kind_of(url.path) == "operation":
            continue  # the client polls the URLs *we* hand out, below
        version = parse_qs(url.query)["api-version"][0]
        body = request_body(request)
        sent = in_sandbox(modernise(url.path, body), sandbox) if body is not None else None
        path = in_sandbox(url.path, sandbox)
        response = arm(sandbox, request["method"], path, params={"api-version": version}, json=sent)
        shapes.append(
            shape(request["method"], url.path, response.status_code, dict(response.headers), _json(response.content))
        )
        status_url = response.headers.get("Azure-AsyncOperation")
        while status_url:
            poll_urls.append(status_url)
            polled = arm(sandbox, "GET", urlsplit(status_url).path, params={"api-version": version})
            shapes.append(
                shape("GET", urlsplit(status_url).path, polled.status_code, dict(polled.headers), polled.json())
            )
            status_url = status_url if polled.json()["status"] == "InProgress" else None
            time.sleep(0.05)
    return collapse(shapes), poll_urls


def _json(content: bytes) -> Any:
    return json.loads(content) if content else None


def _create_recorded_group(sandbox: SandboxServer, cassette: Path) -> None:
    parsed = parse(urlsplit(load(cassette)[0]["request"]["uri"]).path)
    assert parsed is not None
    group = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{parsed.resource_group}"
    assert (
        arm(sandbox, "PUT", group, params={"api-version": "2021-04-01"}, json={"location": "westus"}).status_code == 201
    )


def in_sandbox(value: Any, sandbox: SandboxServer) -> Any:
    """A recorded path or body with the recording's (zeroed) subscription replaced by the sandbox's."""
    return json.loads(json.dumps(value).replace(RECORDED_SUBSCRIPTION, sandbox.subscription_id))


@pytest.fixture
def recorded_world(sandbox: SandboxServer) -> SandboxServer:
    """The sandbox with the recordings' resource groups."""
    for cassette in CASSETTES:
        _create_recorded_group(sandbox, cassette)
    return sandbox


@pytest.mark.parametrize("cassette", CASSETTES, ids=lambda p: p.stem)
def test_sandbox_answers_with_the_recorded_shapes(recorded_world: SandboxServer, cassette: Path) -> None:
    expected = recorded_shapes(cassette)
    actual, poll_urls = sandbox_shapes(recorded_world, cassette)
    assert actual == expected
    assert poll_urls and all(OPERATION_URL.match(urlsplit(u).path) for u in poll_urls)
    assert all("api-version=2020-04-01" in u for u in poll_urls)


def test_recorded_gateway_lro_reports_updating_then_succeeded() -> None:
    """Guards the recording itself: what the sandbox is compared with really is Updating → InProgress → Succeeded."""
    shapes = recorded_shapes(GATEWAY_CASSETTE)
    gateway = [s for s in shapes if s.kind == "virtualNetworkGateways"]
    assert gateway[0] == Shape("PUT", "virtualNetworkGateways", 201, LRO_HEADERS[::2], "Updating")
    assert gateway[-1] == Shape("GET", "virtualNetworkGateways", 200, (), "Succeeded")


# --- the current SDK through both --------------------------------------------------------------------------


def gateway_flow(net: NetworkManagementClient, rg: str) -> object:
    """The recorded test's calls, made with azure-mgmt-network 33.x; returns the gateway's final state."""
    vnet = nm.VirtualNetwork(
        {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.11.0.0/16", "10.12.0.0/16"]}}}
    )
    net.virtual_networks.begin_create_or_update(rg, "pyvirtnetb4d417ef", vnet).result()
    for name, prefix in (
        ("pysubnetfeb4d417ef", "10.11.0.0/24"),
        ("pysubnetbeb4d417ef", "10.12.0.0/24"),
        ("GatewaySubnet", "10.12.255.0/27"),
    ):
        subnet = net.subnets.begin_create_or_update(
            rg, "pyvirtnetb4d417ef", name, nm.Subnet({"properties": {"addressPrefix": prefix}})
        ).result()
    pip = net.public_ip_addresses.begin_create_or_update(
        rg,
        "pyipnameb4d417ef",
        nm.PublicIPAddress(
            {"location": "westus", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
        ),
    ).result()
    body = {
        "location": "westus",
        "properties": {
            "ipConfigurations": [
                {
                    "name": "default",
                    "properties": {
                        "privateIPAllocationMethod": "Dynamic",
                        "subnet": {"id": subnet.id},
                        "publicIPAddress": {"id": pip.id},
                    },
                }
            ],
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": False,
            "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"},
        },
    }
    poller = net.virtual_network_gateways.begin_create_or_update(rg, "pyvngb4d417ef", nm.VirtualNetworkGateway(body))
    assert poller.status() == "InProgress"
    return poller.result().provisioning_state


def test_the_sdk_makes_the_same_exchanges_with_the_recording_and_the_sandbox(sandbox: SandboxServer) -> None:
    rg = parse(urlsplit(load(GATEWAY_CASSETTE)[0]["request"]["uri"]).path).resource_group  # type: ignore[union-attr]
    player = vcr.VCR(record_mode="none", match_on=["method", "path"], decode_compressed_response=True)
    replaying = credential(sandbox)
    replaying.token()  # fetched now: inside the cassette only the recorded exchanges are played
    recorded_net = NetworkManagementClient(
        replaying,
        "00000000-0000-0000-0000-000000000000",
        credential_scopes=["https://management.azure.com/.default"],
        polling_interval=0,
    )
    with player.use_cassette(str(GATEWAY_CASSETTE)) as cassette:
        assert gateway_flow(recorded_net, rg) == "Succeeded"
        assert cassette.all_played
    _create_recorded_group(sandbox, GATEWAY_CASSETTE)
    arm(sandbox, "DELETE", "/_sandbox/requests")
    assert (
        gateway_flow(
            NetworkManagementClient(credential(sandbox), sandbox.subscription_id, **client_kwargs(sandbox)), rg
        )
        == "Succeeded"
    )
    log = [
        e
        for e in arm(sandbox, "GET", "/_sandbox/requests").json()
        if "resourceGroups/" not in e["path"] or rg in e["path"]
    ]
    from_sandbox = collapse([Shape(e["method"], kind_of(e["path"]), e["status"], (), None) for e in log])
    from_recording = collapse([Shape(s.method, s.kind, s.status, (), None) for s in recorded_shapes(GATEWAY_CASSETTE)])
    assert from_sandbox == from_recording
