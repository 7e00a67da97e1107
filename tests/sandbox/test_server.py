"""The front door: TLS with the sandbox's own CA, auth, api-version, ARM headers, readiness file, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError, ServiceRequestError
from azure.mgmt.network import NetworkManagementClient

from local.sandbox import SandboxServer

from .conftest import SUB, arm, client_kwargs, code_of, credential, token

REPO = Path(__file__).resolve().parents[2]
VNET = f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"


def test_https_is_trusted_only_through_the_sandbox_ca(sandbox: SandboxServer) -> None:
    assert arm(sandbox, "GET", VNET, params={"api-version": "2026-03-01"}).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sandbox.arm_url + VNET, verify=True, timeout=5)
    untrusting = NetworkManagementClient(
        credential(sandbox), SUB, **client_kwargs(sandbox, connection_verify=True, retry_total=0)
    )
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.virtual_networks.get("kube-rg", "kube-vnet")


def test_localhost_name_is_in_the_certificate(sandbox: SandboxServer) -> None:
    url = sandbox.arm_url.replace("127.0.0.1", "localhost") + VNET
    response = requests.get(
        url,
        params={"api-version": "1"},
        headers={"Authorization": f"Bearer {token(sandbox)}"},
        verify=str(sandbox.ca_bundle),
    )
    assert response.status_code == 200


def test_missing_bearer_token_is_401_authentication_failed(sandbox: SandboxServer) -> None:
    response = arm(sandbox, "GET", VNET, token=None, params={"api-version": "2026-03-01"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in response.headers


def test_sdk_maps_401_to_client_authentication_error(sandbox: SandboxServer) -> None:
    class Anonymous:
        def get_token(self, *scopes, **kwargs):
            return AccessToken(" ", int(time.time()) + 3600)

        def get_token_info(self, *scopes, options=None):
            return AccessTokenInfo(" ", int(time.time()) + 3600)

    net = NetworkManagementClient(Anonymous(), SUB, **client_kwargs(sandbox))
    with pytest.raises(ClientAuthenticationError) as caught:
        net.virtual_networks.get("kube-rg", "kube-vnet")
    assert code_of(caught) == "AuthenticationFailed"


def test_any_api_version_is_accepted_but_one_is_required(sandbox: SandboxServer) -> None:
    assert arm(sandbox, "GET", VNET, params={"api-version": "2019-07-01"}).status_code == 200
    missing = arm(sandbox, "GET", VNET)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"


def test_responses_carry_arm_request_headers(sandbox: SandboxServer) -> None:
    response = arm(sandbox, "GET", VNET, params={"api-version": "1"}, headers={"x-ms-correlation-request-id": "corr-1"})
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert len(response.headers["x-ms-request-id"]) == 36
    assert response.headers["Content-Type"].startswith("application/json")


def test_unknown_subscription_and_group_are_404_with_arm_codes(
    sandbox: SandboxServer, net: NetworkManagementClient
) -> None:
    other = arm(sandbox, "GET", VNET.replace(SUB, "11111111-1111-1111-1111-111111111111"), params={"api-version": "1"})
    assert (other.status_code, other.json()["error"]["code"]) == (404, "SubscriptionNotFound")
    with pytest.raises(ResourceNotFoundError) as caught:
        net.virtual_networks.get("no-such-rg", "kube-vnet")
    assert code_of(caught) == "ResourceGroupNotFound"


def test_malformed_json_body_is_400(sandbox: SandboxServer) -> None:
    response = arm(sandbox, "PUT", VNET, params={"api-version": "1"}, data=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_readiness_file_names_arm_ca_and_subscription(sandbox: SandboxServer) -> None:
    ready = json.loads((sandbox.state_dir / "sandbox.json").read_text())
    assert ready["arm"] == sandbox.arm_url
    assert ready["subscriptionId"] == SUB
    assert Path(ready["caBundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert set(ready["sites"]) == set(sandbox.site_urls)


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.sandbox", "--state-dir", str(state), "--port", "0", "--lro-seconds", "0.1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.time() + 20
        while not (state / "sandbox.json").exists():
            assert proc.poll() is None, "the sandbox exited before it was ready"
            assert time.time() < deadline, "the sandbox did not write sandbox.json in time"
            time.sleep(0.05)
        ready = json.loads((state / "sandbox.json").read_text())
        admin = requests.get(f"{ready['arm']}/_sandbox/token?principal=admin", verify=ready["caBundle"]).json()
        response = requests.get(
            ready["arm"] + VNET,
            params={"api-version": "1"},
            headers={"Authorization": f"Bearer {admin['access_token']}"},
            verify=ready["caBundle"],
        )
        assert response.json()["properties"]["addressSpace"]["addressPrefixes"] == ["10.240.0.0/16"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
