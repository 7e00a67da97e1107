"""A real client against the sandbox: the Azure CLI (``azure-cli`` in its own venv, ``.venv-azcli``; ``make test``
builds it) does the seed's procedure by hand, then kubelink adopts what it made without writing to it.

The sandbox is registered as a custom cloud from the endpoint metadata it serves; ``az login --identity`` logs in
through App Service's managed-identity protocol, served on loopback by ``tests/cli/identity.py`` with real tokens
the sandbox's token service signs for its ``admin`` (``GET /_sandbox/token``): the CLI passes the sandbox's
authentication and RBAC as any client does. The tests of this module share one fresh
world and run in order. Each ``az`` call costs 2-8 s (the CLI's start-up and its polls, ``Retry-After`` ≥ 1 s).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.supervisor import World
from local.world_client import WorldClient
from tests.cli.identity import IdentityEndpoint
from tests.conftest import record_authorizations, require_apiserver, require_component
from tests.example import example_link

AZ = Path(__file__).resolve().parents[2] / ".venv-azcli" / "bin" / "az"
EXAMPLE = example_link()
SUB = EXAMPLE["subscriptionId"]
NET = f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network"
VNET = f"{NET}/virtualNetworks/kube-vnet"
APP = f"/subscriptions/{SUB}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/kubelink-demo"
ADDRESS = "10.240.16.25"
#: The regional link that describes what the CLI made (the app, its delegated subnet, the app setting).
LINK: dict[str, Any] = {
    "name": "cli-made",
    "subscriptionId": SUB,
    "integration": "regional",
    "network": {"resourceGroup": "kube-rg", "virtualNetwork": "kube-vnet"},
    "kubernetes": {
        "service": "cli-internal",
        "selector": {"app": "cli"},
        "ports": [{"port": 80, "targetPort": 8080}],
        "loadBalancerSubnet": "ilb-subnet",
        "loadBalancerIP": ADDRESS,
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-demo",
        "subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"},
    },
    "probe": {"path": "/api/privatestuff"},
}


class Az:
    """``az`` in a config dir of its own, trusting the sandbox's CA, logging in through ``identity``."""

    def __init__(self, config_dir: Path, ca_bundle: str, identity: IdentityEndpoint) -> None:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
        self.env = {
            **inherited,
            **identity.environment(),
            "AZURE_CONFIG_DIR": str(config_dir),
            "REQUESTS_CA_BUNDLE": ca_bundle,
            "NO_PROXY": "127.0.0.1,localhost",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
        }

    def __call__(self, *args: str) -> Any:
        done = subprocess.run(
            [str(AZ), *args, "--only-show-errors", "-o", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"az {' '.join(args)} failed ({done.returncode}): {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None


class Session:
    def __init__(self, world: World, az: Az, identity: IdentityEndpoint) -> None:
        self.world = world
        self.client = WorldClient(world.describe())
        self.az = az
        self.identity = identity


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    if not AZ.exists():
        message = f"{AZ} is missing: `make .venv-azcli/.installed` installs the Azure CLI"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    require_apiserver()
    require_component("sandbox")
    require_component("host")
    root = tmp_path_factory.mktemp("cli")
    world = World.start(root / "world", host_port=None)
    try:
        client = WorldClient(world.describe())
        with IdentityEndpoint(client) as identity:
            yield Session(world, Az(root / "azure", client.ca_bundle, identity), identity)
        record_authorizations(world)  # kubelink adopts what the CLI made: its actions count too
    finally:
        world.stop()


def test_the_cli_logs_in_to_the_sandbox_registered_as_a_cloud(session: Session) -> None:
    az, arm = session.az, session.client.arm
    az("cloud", "register", "--name", "sandbox", "--endpoint-resource-manager", arm)
    az("cloud", "set", "--name", "sandbox")
    metadata = [r for r in session.client.arm_requests() if r["path"] == "/metadata/endpoints"]
    assert [(r["status"], r["apiVersion"]) for r in metadata] == [(200, "2022-09-01")]
    accounts = az("login", "--identity")
    assert [a["id"] for a in accounts] == [SUB]
    assert accounts[0]["user"] == {
        "assignedIdentityInfo": "MSI",
        "name": "systemAssignedIdentity",
        "type": "servicePrincipal",
    }
    assert session.identity.requests >= 1


def test_the_cli_does_the_seed_procedure(session: Session) -> None:
    az = session.az
    az(
        "network",
        "vnet",
        "subnet",
        "create",
        "-g",
        "kube-rg",
        "--vnet-name",
        "kube-vnet",
        "-n",
        "GatewaySubnet",
        "--address-prefixes",
        "10.240.255.0/27",
    )
    az(
        "network",
        "public-ip",
        "create",
        "-g",
        "kube-rg",
        "-n",
        "kube-vnet-gw-pip",
        "--sku",
        "Standard",
        "--allocation-method",
        "Static",
    )
    gateway = az(
        "network",
        "vnet-gateway",
        "create",
        "-g",
        "kube-rg",
        "-n",
        "kube-vnet-gw",
        "--vnet",
        "kube-vnet",
        "--public-ip-addresses",
        "kube-vnet-gw-pip",
        "--gateway-type",
        "Vpn",
        "--vpn-type",
        "RouteBased",
        "--sku",
        "VpnGw1AZ",
        "--address-prefixes",
        "172.16.100.0/24",
        "--client-protocol",
        "IkeV2",
    )
    assert gateway["vnetGateway"]["provisioningState"] == "Succeeded"
    az(
        "network",
        "vnet",
        "subnet",
        "create",
        "-g",
        "kube-rg",
        "--vnet-name",
        "kube-vnet",
        "-n",
        "app-subnet",
        "--address-prefixes",
        "10.240.32.0/27",
    )
    az(
        "webapp",
        "vnet-integration",
        "add",
        "-g",
        "apps-rg",
        "-n",
        "kubelink-demo",
        "--vnet",
        VNET,
        "--subnet",
        "app-subnet",
    )
    az(
        "webapp",
        "config",
        "appsettings",
        "set",
        "-g",
        "apps-rg",
        "-n",
        "kubelink-demo",
        "--settings",
        f"PrivateAddress={ADDRESS}",
    )

    sandbox = session.client.sandbox_state()["resources"]
    assert sandbox[APP.lower()]["properties"]["virtualNetworkSubnetId"] == f"{VNET}/subnets/app-subnet"
    subnet = sandbox[f"{VNET}/subnets/app-subnet".lower()]["properties"]
    assert [d["properties"]["serviceName"] for d in subnet["delegations"]] == ["Microsoft.Web/serverFarms"]
    settings = sandbox[APP.lower()]["_appSettings"]
    assert settings["PrivateAddress"] == ADDRESS and settings["Greeting"] == "hello"
    # every ARM request the CLI made passed the sandbox's authentication with a token it signed for its admin, and
    # the writes were authorised by admin's role assignment (Owner of the subscription)
    log = [r for r in session.client.arm_requests() if r["path"] != "/metadata/endpoints"]
    assert [(r["method"], r["path"], r["status"]) for r in log if r["principal"] != "admin"] == []
    assert [r for r in log if r["status"] in (401, 403)] == []
    granted = session.client.authorizations()["admin"]["granted"]
    assert granted["Microsoft.Network/virtualNetworkGateways/write"] == ["Owner"]


def test_kubelink_adopts_what_the_cli_made_without_writing_to_it(session: Session) -> None:
    client = session.client
    client.reset_requests()
    status, _ = client.follow(client.start("/api/links", LINK))
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["privateAddress"] == ADDRESS
    assert client.arm_writes() == [], "kubelink wrote to what the CLI made"
    probe = client.probe("kubelink-demo", "/api/privatestuff")
    assert probe.status_code == 200, probe.text
    assert probe.json()["address"] == ADDRESS
