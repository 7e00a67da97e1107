"""A restarted sandbox keeps its world, its CA, and the operations that were running, as Azure would."""

from __future__ import annotations

import time
from pathlib import Path

from azure.mgmt.network import NetworkManagementClient

from local.sandbox import SandboxServer, Settings

from . import builders
from .builders import GW, RG, VNET
from .conftest import POLL, SUB, client_kwargs, credential


def test_restart_keeps_state_ca_and_running_operations(tmp_path: Path) -> None:
    settings = Settings(lro_seconds=0.1, gateway_seconds=3)
    state = tmp_path / "sandbox"
    with SandboxServer(state, settings=settings) as first:
        net = NetworkManagementClient(credential(first), SUB, **client_kwargs(first))
        subnet = builders.gateway_subnet(net)
        pip = builders.public_ip(net)
        net.virtual_network_gateways.begin_create_or_update(
            RG, GW, builders.gateway_body(subnet.id, pip.id), polling=False
        )
        ca = first.ca_bundle.read_bytes()
    with SandboxServer(state, settings=settings) as second:
        assert second.ca_bundle.read_bytes() == ca
        net = NetworkManagementClient(credential(second), SUB, **client_kwargs(second))
        assert net.subnets.get(RG, VNET, "GatewaySubnet").provisioning_state == "Succeeded"
        assert net.virtual_network_gateways.get(RG, GW).provisioning_state == "Updating"
        deadline = time.time() + 10
        while net.virtual_network_gateways.get(RG, GW).provisioning_state == "Updating":
            assert time.time() < deadline
            time.sleep(POLL)
        assert net.virtual_network_gateways.get(RG, GW).provisioning_state == "Succeeded"
