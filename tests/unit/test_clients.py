"""SDK client factories and arm_error, over real HTTP(S) to loopback stubs: nothing here contacts Azure."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core import PipelineClient
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest
from azure.identity import CredentialUnavailableError, DefaultAzureCredential

from adapters import clients
from adapters.clients import arm_audience, arm_credential, arm_error
from kubelink.errors import PermanentError, TransientError
from kubelink.validation import parse_link_spec
from tests.unit.samples import BASE, KUBECONFIG, SUB
from tests.unit.stub_server import Answer, StubServer, arm_failure, make_ca_and_server_cert, paths

VNET_PATH = f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"
MI_TOKEN = "token-from-the-identity-endpoint"
MI_CLIENT_ID = "8b1d4e27-5c3f-4a96-b0e8-7f2a6c9d1e54"
IDENTITY_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_CLIENT_ID", "MSI_ENDPOINT", "IMDS_ENDPOINT")


@pytest.fixture(autouse=True)
def _fresh_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    clients.arm_credential.cache_clear()
    yield
    clients.arm_credential.cache_clear()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_ca_and_server_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    """App Service's identity endpoint for a user-assigned identity: plain HTTP on loopback, as App Service's
    ``IDENTITY_ENDPOINT`` is, with the ``IDENTITY_HEADER`` secret and ``AZURE_CLIENT_ID``."""
    with StubServer() as server:
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{server.url}/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "identity-secret")
        monkeypatch.setenv("AZURE_CLIENT_ID", MI_CLIENT_ID)
        expires = str(int(time.time()) + 3600)
        token = {"access_token": MI_TOKEN, "expires_on": expires, "resource": "x", "token_type": "Bearer"}
        server.on("GET", "/msi/token", Answer(200, token))
        yield server


@pytest.fixture
def arm(tls: tuple[Path, Path, Path], identity: StubServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    """An HTTPS 'ARM' on loopback whose CA is trusted the standard way (REQUESTS_CA_BUNDLE)."""
    ca, cert, key = tls
    with StubServer(tls=(cert, key)) as server:
        monkeypatch.setenv("KUBELINK_ARM_ENDPOINT", server.url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
        yield server


# --- credentials -------------------------------------------------------------------------------------


def test_the_credential_is_default_azure_credential_one_per_process() -> None:
    credential = arm_credential()  # constructing it contacts nothing; no token is asked for here
    assert isinstance(credential, DefaultAzureCredential)
    assert arm_credential() is credential  # its token cache is reused across activity invocations


@pytest.mark.parametrize(
    ("endpoint", "audience"),
    [
        ("https://management.azure.com", "https://management.azure.com"),
        ("https://127.0.0.1:8443", "https://management.azure.com"),
        ("https://localhost:8443", "https://management.azure.com"),
        ("https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
        ("https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net"),
        ("https://arm.contoso.example:443", "https://arm.contoso.example"),
    ],
)
def test_audience(endpoint: str, audience: str) -> None:
    assert arm_audience(endpoint) == audience


# --- clients over HTTPS ------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", ["network_client", "web_client", "containerservice_client", "privatedns_client"])
def test_factories_point_at_the_endpoint_with_the_arm_scope(arm: StubServer, factory: str) -> None:
    client = getattr(clients, factory)(SUB)
    assert client._config.credential_scopes == ["https://management.azure.com/.default"]
    assert client._config.credential is arm_credential()
    assert isinstance(client._config.retry_policy, clients._bounded_retry_policy_class())


def test_a_call_carries_the_managed_identitys_token_over_verified_tls(arm: StubServer, identity: StubServer) -> None:
    arm.on("GET", VNET_PATH, Answer(200, {"name": "kube-vnet", "location": "westeurope", "properties": {}}))
    vnet = clients.network_client(SUB).virtual_networks.get("kube-rg", "kube-vnet")
    assert vnet.name == "kube-vnet"
    [token_request], [arm_request] = identity.requests, arm.requests
    assert token_request.path.startswith("/msi/token?")
    assert token_request.headers["X-IDENTITY-HEADER"] == "identity-secret"
    assert f"client_id={MI_CLIENT_ID}" in token_request.path  # the user-assigned identity AZURE_CLIENT_ID names
    assert "resource=https://management.azure.com&" in token_request.path
    assert arm_request.headers["Authorization"] == f"Bearer {MI_TOKEN}"


def test_an_untrusted_certificate_is_permanent_and_not_retried(
    arm: StubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(Exception) as caught:
        clients.network_client(SUB).virtual_networks.get("kube-rg", "kube-vnet")
    error = arm_error(caught.value, step="gateway")
    assert isinstance(error, PermanentError)
    assert error.code == "TlsVerificationFailed"
    assert "REQUESTS_CA_BUNDLE" in error.message
    assert error.step == "gateway"
    assert arm.requests == []  # the handshake failed before any request, and nothing was retried


def test_arm_404_is_permanent_with_arms_code(arm: StubServer) -> None:
    arm.on("GET", VNET_PATH, Answer(404, {"error": {"code": "ResourceNotFound", "message": "no vnet kube-vnet"}}))
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.network_client(SUB).virtual_networks.get("kube-rg", "kube-vnet")
    error = arm_error(caught.value)
    assert isinstance(error, PermanentError)
    assert (error.code, error.message, error.resource) == ("ResourceNotFound", "no vnet kube-vnet", VNET_PATH)


def test_a_long_retry_after_is_not_slept_in_process(arm: StubServer) -> None:
    throttled = {"error": {"code": "TooManyRequests", "message": "slow down"}}
    arm.on("GET", VNET_PATH, Answer(429, throttled, {"Retry-After": "120"}))
    with pytest.raises(HttpResponseError) as caught:
        clients.network_client(SUB).virtual_networks.get("kube-rg", "kube-vnet")
    assert len(arm.requests) == 1
    error = arm_error(caught.value, resource="vnet")
    assert isinstance(error, TransientError)
    assert (error.code, error.retry_after, error.resource) == ("TooManyRequests", 120.0, "vnet")


def test_a_short_retry_after_is_honoured_and_retried(arm: StubServer) -> None:
    arm.on("GET", VNET_PATH, Answer(200, {"name": "kube-vnet", "location": "westeurope", "properties": {}}))
    arm.on("GET", VNET_PATH, Answer(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "1"}, times=1))
    assert clients.network_client(SUB).virtual_networks.get("kube-rg", "kube-vnet").name == "kube-vnet"
    assert list(paths(arm)) == [f"GET {VNET_PATH}"] * 2


# --- arm_error on real responses ---------------------------------------------------------------------


@pytest.fixture
def plain() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.mark.parametrize(
    ("status", "body", "transient", "code"),
    [
        (409, {"error": {"code": "AnotherOperationInProgress", "message": "busy"}}, True, "AnotherOperationInProgress"),
        (400, {"error": {"code": "RetryableError", "message": "later"}}, True, "RetryableError"),
        (
            400,
            {"error": {"code": "ReferencedResourceNotProvisioned", "message": "x"}},
            True,
            "ReferencedResourceNotProvisioned",
        ),
        (409, {"error": {"code": "Conflict", "message": "exists differently"}}, False, "Conflict"),
        (400, {"error": {"code": "InvalidRequestFormat", "message": "bad"}}, False, "InvalidRequestFormat"),
        (403, {"error": {"code": "AuthorizationFailed", "message": "no"}}, False, "AuthorizationFailed"),
        (401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}}, False, "InvalidAuthenticationToken"),
        (500, {"error": {"code": "InternalServerError", "message": "oops"}}, True, "InternalServerError"),
        (503, None, True, "Http503"),
        (502, {"code": "BadGateway", "message": "rp style body"}, True, "BadGateway"),
        (400, {"Code": "BadRequest", "Message": "App Service's PascalCase body"}, False, "BadRequest"),
        (408, {"error": {"code": "RequestTimeout", "message": "t"}}, True, "RequestTimeout"),
    ],
)
def test_arm_error_mapping(plain: StubServer, status: int, body: Any, transient: bool, code: str) -> None:
    error = arm_error(arm_failure(plain, status, body), step="gateway")
    assert error.transient is transient
    assert error.code == code
    assert (error.step, error.resource) == ("gateway", "/thing")


def test_arm_error_reads_an_http_date_retry_after(plain: StubServer) -> None:
    exc = arm_failure(plain, 503, None, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert arm_error(exc).retry_after == 0.0  # a date in the past: retry now


def test_connection_refused_is_transient(plain: StubServer) -> None:
    plain.__exit__()
    client: PipelineClient[Any, Any] = PipelineClient(plain.url, policies=[])
    with pytest.raises(Exception) as caught:
        client.send_request(HttpRequest("GET", f"{plain.url}/x"))
    error = arm_error(caught.value)
    assert isinstance(error, TransientError)
    assert error.code == "ConnectionFailed"


def test_credential_failures_are_permanent() -> None:
    error = arm_error(CredentialUnavailableError("No managed identity endpoint found.\nmore"))
    assert (type(error), error.code, error.message) == (
        PermanentError,
        "AuthenticationFailed",
        "No managed identity endpoint found.",
    )


def test_platform_errors_are_told_from_bugs(plain: StubServer) -> None:
    assert clients.is_platform_error(arm_failure(plain, 404, {"error": {"code": "NotFound"}}))
    assert clients.is_platform_error(ConnectionResetError())
    assert not clients.is_platform_error(KeyError("properties"))
    assert not clients.is_platform_error(TransientError("X", "y"))


def test_kubelink_errors_pass_through_and_others_stay_permanent() -> None:
    original = TransientError("X", "y")
    assert arm_error(original) is original
    error = arm_error(ValueError("bad value\nsecond line"))
    assert (type(error), error.code, error.message) == (PermanentError, "ValueError", "bad value")
    assert arm_error(TimeoutError()).transient


# --- Kubernetes --------------------------------------------------------------------------------------


def kube_api(server: StubServer) -> Any:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = server.url
    configuration.retries = 0  # these tests are about the mapping, not the client's retries
    return client.CoreV1Api(client.ApiClient(configuration))


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


SERVICE = "/api/v1/namespaces/default/services/orders-internal"


@pytest.mark.parametrize(
    ("code", "reason", "transient"),
    [
        (404, "NotFound", False),
        (403, "Forbidden", False),
        (422, "Invalid", False),
        (409, "AlreadyExists", True),
        (409, "Conflict", True),
        (500, "InternalError", True),
        (503, "ServiceUnavailable", True),
    ],
)
def test_kubernetes_status_mapping(plain: StubServer, code: int, reason: str, transient: bool) -> None:
    plain.on("GET", SERVICE, Answer(code, status(code, reason, f'services "orders-internal" {reason}')))
    with pytest.raises(Exception) as caught:
        kube_api(plain).read_namespaced_service("orders-internal", "default")
    error = arm_error(caught.value, step="service", resource="default/orders-internal")
    assert (error.code, error.transient) == (reason, transient)
    assert error.message == f'services "orders-internal" {reason}'
    assert error.resource == "default/orders-internal"


def test_kubernetes_throttling_keeps_retry_after(plain: StubServer) -> None:
    plain.on("GET", SERVICE, Answer(429, status(429, "TooManyRequests", "slow"), {"Retry-After": "7"}))
    with pytest.raises(Exception) as caught:
        kube_api(plain).read_namespaced_service("orders-internal", "default")
    error = arm_error(caught.value)
    assert (error.code, error.transient, error.retry_after) == ("TooManyRequests", True, 7.0)


def test_kubernetes_without_a_status_body_uses_the_http_reason(plain: StubServer) -> None:
    plain.on("GET", SERVICE, Answer(502, None))
    with pytest.raises(Exception) as caught:
        kube_api(plain).read_namespaced_service("orders-internal", "default")
    error = arm_error(caught.value)
    assert (error.code, error.transient) == ("BadGateway", True)


def test_apiserver_unreachable_is_transient(plain: StubServer) -> None:
    plain.__exit__()
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = plain.url
    configuration.retries = 0
    with pytest.raises(Exception) as caught:
        client.CoreV1Api(client.ApiClient(configuration)).read_namespaced_service("x", "default")
    assert arm_error(caught.value).code == "ConnectionFailed"
    assert arm_error(caught.value).transient


# --- kube_core_api ----------------------------------------------------------------------------------


def test_kube_core_api_from_the_named_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_KUBECONFIG", base64.b64encode(KUBECONFIG.encode()).decode())
    spec = parse_link_spec({**BASE, "kubernetes": {**BASE["kubernetes"], "kubeconfigSetting": "ORDERS_KUBECONFIG"}})
    api = clients.kube_core_api(spec)
    assert api.api_client.configuration.host == "https://127.0.0.1:6443"
    assert api.api_client.configuration.api_key["BearerToken"] == "Bearer super-secret-token"


def test_kube_core_api_does_not_sleep_on_throttling(plain: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    config = yaml.safe_load(KUBECONFIG)
    config["clusters"][0]["cluster"] = {"server": plain.url}
    monkeypatch.setenv("KUBELINK_KUBECONFIG", yaml.safe_dump(config))
    plain.on("GET", SERVICE, Answer(429, status(429, "TooManyRequests", "slow"), {"Retry-After": "30"}))
    with pytest.raises(Exception) as caught:
        clients.kube_core_api(parse_link_spec(BASE)).read_namespaced_service("orders-internal", "default")
    assert len(plain.requests) == 1
    assert arm_error(caught.value).retry_after == 30.0


def test_kube_core_api_from_aks_replaces_kubelogin_with_an_aks_token(arm: StubServer) -> None:
    config = yaml.safe_load(KUBECONFIG)
    config["users"][0]["user"] = {"exec": {"command": "kubelogin", "args": ["get-token"]}}
    cluster = f"/subscriptions/{SUB}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/aks"
    arm.on(
        "POST",
        f"{cluster}/listClusterUserCredential",
        Answer(
            200,
            {
                "kubeconfigs": [
                    {"name": "clusterUser", "value": base64.b64encode(yaml.safe_dump(config).encode()).decode()}
                ]
            },
        ),
    )
    spec = parse_link_spec({**BASE, "kubernetes": {**BASE["kubernetes"], "aksCluster": cluster}})
    api = clients.kube_core_api(spec)
    assert api.api_client.configuration.host == "https://127.0.0.1:6443"
    assert api.api_client.configuration.api_key["BearerToken"] == f"Bearer {MI_TOKEN}"
    assert [p for p in paths(arm) if not p.startswith("GET /msi/token")] == [
        f"POST {cluster}/listClusterUserCredential"
    ]


def test_aks_without_kubeconfig_is_permanent(arm: StubServer) -> None:
    cluster = f"/subscriptions/{SUB}/resourceGroups/aks-rg/providers/Microsoft.ContainerService/managedClusters/aks"
    arm.on("POST", f"{cluster}/listClusterUserCredential", Answer(200, {"kubeconfigs": []}))
    spec = parse_link_spec({**BASE, "kubernetes": {**BASE["kubernetes"], "aksCluster": cluster}})
    with pytest.raises(PermanentError, match="AKS returned no kubeconfig"):
        clients.kube_core_api(spec)


def test_error_json_round_trip_keeps_the_type(plain: StubServer) -> None:
    error = arm_error(arm_failure(plain, 409, {"error": {"code": "AnotherOperationInProgress", "message": "m"}}))
    again = type(error).from_json(json.loads(json.dumps(error.to_json())))
    assert isinstance(again, TransientError)
    assert again.code == "AnotherOperationInProgress"
