"""The sandbox's identity and RBAC: ARM's 401s for every bad token, App Service's identity endpoint, role
assignments with inheritance, ARM's 403 bodies, linked join checks, and every route's action published."""

from __future__ import annotations

import base64
import json
import re
import re._constants as sre_constants  # the stdlib's regex parser (public as sre_parse before 3.11)
import re._parser as sre_parse
from typing import Any

import pytest
from azure.mgmt.network import NetworkManagementClient

from local.sandbox import SandboxServer
from local.sandbox.rbac import action_for, applies, derived_action, published_operations
from local.sandbox.server import ARM_ROUTES

from .builders import VNET, gateway_body, gateway_subnet, public_ip
from .conftest import SUB, arm, client_kwargs, credential

VNET_PATH = f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"
API = {"api-version": "2024-05-01"}
KUBELINK_OBJECT_ID = "3f2a9c61-7d84-4e0b-9a15-2c6e8b4d7f03"
NOBODY_OBJECT_ID = "c4e6a8b0-d2f4-4a6c-9e1b-3d5f7a9c1e3b"
ROLES_API = {"api-version": "2022-04-01"}


def _raw(sandbox: SandboxServer, token: str, path: str = VNET_PATH, method: str = "GET", **kwargs: Any) -> Any:
    http = credential(sandbox).http
    headers = {"Authorization": f"Bearer {token}"}
    return http.request(method, sandbox.arm_url + path, params=API, headers=headers, timeout=30, **kwargs)


def _test_token(sandbox: SandboxServer, **query: str) -> str:
    answer = credential(sandbox).http.get(f"{sandbox.arm_url}/_sandbox/token", params=query, timeout=30).json()
    token: str = answer["access_token"]
    return token


def _example(pattern: str) -> str:
    """A path the route's regex matches (each variable part becomes a short valid value)."""

    def build(parsed: Any) -> str:
        out = []
        for op, arg in parsed:
            if op is sre_constants.LITERAL:
                out.append(chr(arg))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, _, inner = arg
                out.append(build(inner) * max(low, 1) if low or op is sre_constants.MAX_REPEAT else "")
            elif op is sre_constants.SUBPATTERN:
                out.append(build(arg[-1]))
            elif op is sre_constants.BRANCH:
                out.append(build(arg[1][0]))
            elif op in (sre_constants.IN, sre_constants.NOT_LITERAL, sre_constants.ANY):
                out.append("a")
            elif op is sre_constants.AT:
                continue
        return "".join(out)

    return build(sre_parse.parse(pattern))


def _operator(sandbox: SandboxServer) -> dict[str, Any]:
    """The seeded "kubelink operator" role definition, as ARM lists it."""
    [operator] = arm(
        sandbox,
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions",
        params={**ROLES_API, "$filter": "roleName eq 'kubelink operator'"},
    ).json()["value"]
    return operator


def _assign_operator_to_nobody(sandbox: SandboxServer, scope: str, name: str) -> Any:
    """PUT an assignment of kubelink's role to the principal "nobody" at ``scope`` (as its admin)."""
    body = {"properties": {"roleDefinitionId": _operator(sandbox)["id"], "principalId": NOBODY_OBJECT_ID}}
    assignment = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    return arm(sandbox, "PUT", assignment, params=ROLES_API, json=body)


def test_every_route_is_a_published_operation() -> None:
    unpublished = []
    for route in ARM_ROUTES.routes:
        path = _example(route.pattern.pattern.removesuffix("$"))
        assert route.pattern.match(path), (route.pattern.pattern, path)
        derived = derived_action(route.method, path)
        if derived.lower() not in published_operations():
            unpublished.append(f"{route.method} {route.pattern.pattern} -> {derived}")
    assert unpublished == [], "copy these operations into local/sandbox/provider_operations.json from Azure's lists"


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", VNET_PATH, "Microsoft.Network/virtualNetworks/read"),
        ("PUT", VNET_PATH + "/subnets/GatewaySubnet", "Microsoft.Network/virtualNetworks/subnets/write"),
        (
            "POST",
            f"/subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworkGateways/gw/"
            "generatevpnclientpackage",
            "Microsoft.Network/virtualnetworkgateways/generatevpnclientpackage/action",
        ),
        (
            "POST",
            f"/subscriptions/{SUB}/resourceGroups/apps-rg/providers/Microsoft.Web/sites/app/config/appsettings/list",
            "Microsoft.Web/sites/config/list/Action",
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.Network/locations/westeurope/operations/1",
            "Microsoft.Network/locations/operations/read",
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/resourceGroups/kube-rg",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        ),
        (
            "DELETE",
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/x",
            "Microsoft.Authorization/roleAssignments/delete",
        ),
    ],
)
def test_action_names_follow_arms_rule_in_the_published_spelling(method: str, path: str, action: str) -> None:
    assert action_for(method, path) == action


def test_scopes_inherit_downwards_only() -> None:
    group = f"/subscriptions/{SUB}/resourceGroups/kube-rg"
    assert applies(f"/subscriptions/{SUB}", VNET_PATH) and applies(group, VNET_PATH)
    assert not applies(VNET_PATH, group)
    assert not applies(group + "-other", VNET_PATH)  # a prefix of the name is not a parent


def test_every_bad_token_gets_arms_401(sandbox: SandboxServer) -> None:
    good = _test_token(sandbox, principal="admin")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "oid": KUBELINK_OBJECT_ID}).encode()).decode().rstrip("=")
    cases = {
        "InvalidAuthenticationToken": f"{header}.{forged}.{signature}",  # signature no longer matches
        "ExpiredAuthenticationToken": _test_token(sandbox, principal="admin", expiresIn="-5"),
        "InvalidAuthenticationTokenAudience": _test_token(
            sandbox, principal="admin", resource="https://vault.azure.net"
        ),
    }
    for code, token in cases.items():
        response = _raw(sandbox, token)
        assert (response.status_code, response.json()["error"]["code"]) == (401, code)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    expired = _raw(sandbox, cases["ExpiredAuthenticationToken"]).json()["error"]["message"]
    assert re.fullmatch(
        r"The access token expiry UTC time '\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M' is earlier than current UTC time "
        r"'\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M'\.",
        expired,
    )
    assert _raw(sandbox, good).status_code == 200


def test_a_principal_without_a_role_gets_authorization_failed(sandbox: SandboxServer) -> None:
    response = _raw(sandbox, _test_token(sandbox, principal="nobody"))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "AuthorizationFailed",
        "message": "The client 'nobody@kubelink.example' with object id 'c4e6a8b0-d2f4-4a6c-9e1b-3d5f7a9c1e3b' does "
        f"not have authorization to perform action 'Microsoft.Network/virtualNetworks/read' over scope '{VNET_PATH}' "
        "or the scope is invalid. If access was recently granted, please refresh your credentials.",
        "details": [],
    }
    record = arm(sandbox, "GET", "/_sandbox/authorizations").json()
    assert record["nobody"] == {"granted": {}, "refused": {"Microsoft.Network/virtualNetworks/read": 1}}


def test_the_identity_endpoint_speaks_app_services_protocol(sandbox: SandboxServer) -> None:
    http = credential(sandbox).http
    query = {
        "api-version": "2019-08-01",
        "resource": "https://management.azure.com",
        "client_id": sandbox.app_client_id,
    }
    wrong = http.get(sandbox.identity_endpoint, params=query, headers={"X-IDENTITY-HEADER": "guess"}, timeout=30)
    assert wrong.status_code == 401 and set(wrong.json()) == {"statusCode", "message"}
    headers = {"X-IDENTITY-HEADER": sandbox.identity_header}
    other = http.get(sandbox.identity_endpoint, params={**query, "client_id": "someone-else"}, headers=headers)
    assert other.status_code == 400
    answer = http.get(sandbox.identity_endpoint, params=query, headers=headers, timeout=30).json()
    assert set(answer) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    claims = json.loads(base64.urlsafe_b64decode(answer["access_token"].split(".")[1] + "=="))
    assert claims["oid"] == KUBELINK_OBJECT_ID and claims["aud"] == "https://management.azure.com"
    assert claims["xms_mirid"].endswith("/userAssignedIdentities/kubelink-identity")
    assert _raw(sandbox, answer["access_token"]).status_code == 200  # kubelink's role on kube-rg
    spare = VNET_PATH.replace("kube-rg", "spare-rg")
    assert _raw(sandbox, answer["access_token"], spare).json()["error"]["code"] == "AuthorizationFailed"


def test_role_assignments_are_served_and_take_effect(sandbox: SandboxServer) -> None:
    nobody = _test_token(sandbox, principal="nobody")
    assert _operator(sandbox)["properties"]["type"] == "CustomRole"
    put = _assign_operator_to_nobody(sandbox, VNET_PATH, "0d5e6f7a-1b2c-4d3e-8f9a-0b1c2d3e4f5a")
    assert put.status_code == 201
    assignment = put.json()["id"]
    assert _raw(sandbox, nobody).status_code == 200  # granted on the VNet itself
    assert _raw(sandbox, nobody, VNET_PATH + "/subnets/aks-subnet").status_code == 200  # and below it
    group = f"/subscriptions/{SUB}/resourceGroups/kube-rg"
    assert _raw(sandbox, nobody, group).status_code == 403  # never above it
    mine = arm(
        sandbox,
        "GET",
        f"{group}/providers/Microsoft.Authorization/roleAssignments",
        params={**ROLES_API, "$filter": f"principalId eq '{NOBODY_OBJECT_ID}'"},
    ).json()
    assert [a["properties"]["scope"] for a in mine["value"]] == [VNET_PATH]
    assert arm(sandbox, "DELETE", assignment, params=ROLES_API).status_code == 200
    assert _raw(sandbox, nobody).status_code == 403


def test_a_gateway_needs_join_on_its_subnet_and_public_ip(sandbox: SandboxServer) -> None:
    admin = NetworkManagementClient(credential(sandbox), SUB, **client_kwargs(sandbox))
    subnet, pip = gateway_subnet(admin), public_ip(admin)
    # kubelink's role for "nobody", at the gateway's own scope only: not on the subnet or the public IP it joins
    gw = f"/subscriptions/{SUB}/resourceGroups/spare-rg/providers/Microsoft.Network/virtualNetworkGateways/gw"
    assert _assign_operator_to_nobody(sandbox, gw, "1d5e6f7a-1b2c-4d3e-8f9a-0b1c2d3e4f5a").ok
    put = _raw(
        sandbox,
        _test_token(sandbox, principal="nobody"),
        gw,
        "PUT",
        json=gateway_body(subnet.id, pip.id).as_dict(),
    )
    assert put.status_code == 403
    error = put.json()["error"]
    assert error["code"] == "LinkedAuthorizationFailed"
    assert "'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s)" in error["message"]
    assert VNET in error["message"] and "virtualNetworkGateways/write" in error["message"]


def test_a_private_endpoint_needs_join_on_its_subnet(sandbox: SandboxServer) -> None:
    """learn.microsoft.com/azure/private-link/rbac-permissions: subnets/join/action "allows a private endpoint to
    join a virtual network"; kubelink's role at the endpoint's own scope only is not enough."""
    pe = f"/subscriptions/{SUB}/resourceGroups/spare-rg/providers/Microsoft.Network/privateEndpoints/pe"
    assert _assign_operator_to_nobody(sandbox, pe, "2d5e6f7a-1b2c-4d3e-8f9a-0b1c2d3e4f5a").ok
    subnet = f"{VNET_PATH}/subnets/aks-subnet"
    service = f"/subscriptions/{SUB}/resourceGroups/spare-rg/providers/Microsoft.Network/privateLinkServices/pls"
    endpoint = {
        "location": "westeurope",
        "properties": {
            "subnet": {"id": subnet},
            "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": service}}],
        },
    }
    put = _raw(sandbox, _test_token(sandbox, principal="nobody"), pe, "PUT", json=endpoint)
    assert put.status_code == 403
    error = put.json()["error"]
    assert error["code"] == "LinkedAuthorizationFailed"
    assert (
        f"'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s) '{subnet}'" in error["message"]
    )
    assert arm(sandbox, "GET", pe, params=API).status_code == 404  # nothing was made
