"""RBAC end to end: kubelink runs as its managed identity, whose role (infra/kubelink-role.json) is assigned at the
example's scopes only. A link whose VNet lies in another resource group of the subscription (allowed by
KUBELINK_ALLOWED_SCOPES, outside the role's scope) fails at pre-flight with ARM's own AuthorizationFailed code
and message, and nothing is written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import VirtualNetwork

from tests.e2e.conftest import Kubelink, example

KUBELINK_CLIENT_ID = "8b1d4e27-5c3f-4a96-b0e8-7f2a6c9d1e54"  # local/sandbox/seed.json, principal "kubelink"
KUBELINK_OBJECT_ID = "3f2a9c61-7d84-4e0b-9a15-2c6e8b4d7f03"


def test_a_link_outside_the_roles_scope_fails_at_preflight_with_authorization_failed(kubelink: Kubelink) -> None:
    net = kubelink.sdk(NetworkManagementClient)  # the sandbox's admin, Owner of the subscription
    body = VirtualNetwork(
        {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.250.0.0/16"]}}}
    )
    net.virtual_networks.begin_create_or_update("spare-rg", "spare-vnet", body, polling_interval=0.1).result()
    kubelink.reset_requests()
    status, _ = kubelink.provision(example(network={"resourceGroup": "spare-rg", "virtualNetwork": "spare-vnet"}))
    assert status["runtimeStatus"] == "Failed", status
    failure = json.loads(status["output"][status["output"].index("{") :])
    group = f"/subscriptions/{kubelink.subscription_id}/resourceGroups/spare-rg"
    vnet = f"{group}/providers/Microsoft.Network/virtualNetworks/spare-vnet"
    assert failure["step"] == "preflight"
    assert failure["code"] == "AuthorizationFailed"
    assert failure["message"] == (
        f"The client '{KUBELINK_CLIENT_ID}' with object id '{KUBELINK_OBJECT_ID}' does not have authorization to "
        f"perform action 'Microsoft.Network/virtualNetworks/read' over scope '{vnet}' or the scope is invalid. If "
        "access was recently granted, please refresh your credentials."
    )
    assert kubelink.arm_writes() == []
    refused = [r for r in kubelink.arm_requests() if r["status"] == 403]
    assert {r["principal"] for r in refused} == {"kubelink"}


def test_no_token_reaches_a_log_or_the_status(kubelink: Kubelink) -> None:
    """Tokens are JWTs: none in the world's logs, the host's settings file or any run's status and history; nor is
    the identity endpoint's secret."""
    jwt = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
    assert jwt.fullmatch(kubelink.admin.token())  # the pattern does recognise the sandbox's tokens
    assert kubelink.provision(example()).status["runtimeStatus"] == "Completed"
    texts = {p.name: p.read_text(errors="replace") for p in (kubelink.world.state_dir / "logs").iterdir()}
    texts["local.settings.json"] = kubelink.world.settings_file.read_text()
    texts["instances"] = json.dumps(kubelink.instances())
    assert {name: jwt.findall(text) for name, text in texts.items() if jwt.search(text)} == {}
    identity_header = Path(kubelink.world.sandbox.info["identityHeaderFile"]).read_text().strip()
    assert [name for name, text in texts.items() if identity_header in text] == []  # nor the identity's secret
