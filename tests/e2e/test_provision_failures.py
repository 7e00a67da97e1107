"""Issue 4 failures end to end: pre-flight refusals write nothing, permanent Azure errors fail fast with Azure's
own code and message and the failing step, a failed gateway is repaired by POSTing the link again, and no other
app setting is ever lost. One world for the module; the tests run in order."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Kubelink, example

ORIGINAL_SETTINGS = {"WEBSITE_NODE_DEFAULT_VERSION": "~20", "Greeting": "hello"}


def _failure(status: dict[str, Any]) -> dict[str, Any]:
    """The Failed status's output carries the step, code and message as JSON after the host's prefix."""
    assert status["runtimeStatus"] == "Failed", status
    output: str = status["output"]
    failure: dict[str, Any] = json.loads(output[output.index("{") :])
    return failure


def _settings(kubelink: Kubelink) -> dict[str, str]:
    return dict(kubelink.web().web_apps.list_application_settings("apps-rg", "kubelink-demo").properties or {})


def test_preflight_refusal_names_every_problem_and_writes_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    gateway = {"gatewaySubnetPrefix": "10.250.0.0/27", "clientAddressPool": "10.240.200.0/24"}
    status, _ = kubelink.provision(example(gateway=gateway))
    failure = _failure(status)
    assert failure["step"] == "preflight" and failure["code"] == "PreflightFailed"
    assert "10.240.200.0/24" in failure["message"] and "10.250.0.0/27" in failure["message"]
    assert kubelink.arm_writes() == []
    assert kubelink.kube_writes() == kube_writes
    record = kubelink.link("orders-api")
    ready = next(c for c in record["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and "PreflightFailed" in ready["message"]


def test_a_failed_gateway_fails_the_link_with_azures_code_and_message(kubelink: Kubelink) -> None:
    kubelink.inject(
        **{
            "pathPattern": "/virtualNetworkGateways/[^/]+$",
            "lroOutcome": "Failed",
            "code": "VpnGatewayProvisioningFailed",
            "message": "The gateway could not be provisioned in zone 2 (sandbox fault).",
        }
    )
    status, _ = kubelink.provision(example())
    failure = _failure(status)
    assert failure == {
        "step": "gateway",
        "code": "VpnGatewayProvisioningFailed",
        "message": "The gateway could not be provisioned in zone 2 (sandbox fault).",
        "resource": "gateway",
    }
    assert status["customStatus"]["steps"]["gateway"] == "failed"
    assert status["customStatus"]["steps"]["service"] == "done"
    assert "VpnGatewayProvisioningFailed" in status["customStatus"]["message"]
    assert _settings(kubelink) == ORIGINAL_SETTINGS


def test_posting_again_repairs_the_failed_gateway_and_resumes(kubelink: Kubelink) -> None:
    kubelink.clear_faults()
    kubelink.reset_requests()
    status, _ = kubelink.provision(example())
    assert status["runtimeStatus"] == "Completed", status
    steps = status["output"]["steps"]
    assert steps["service"] == "unchanged"  # done by the failed run, not written again
    assert steps["gateway"] in {"created", "updated"} and steps["appSetting"] == "created"
    gateway_puts = [
        w
        for w in kubelink.arm_writes()
        if w["method"] == "PUT" and w["path"].endswith("/virtualNetworkGateways/kube-vnet-gw")
    ]
    assert len(gateway_puts) == 1
    assert _settings(kubelink) == {**ORIGINAL_SETTINGS, "PrivateAddress": "10.240.16.25"}
    assert kubelink.probe("kubelink-demo", "/api/privatestuff").status_code == 200


def test_a_permanent_refusal_fails_fast_without_losing_settings(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    kubelink.inject(
        **{
            "method": "PUT",
            "pathPattern": "/config/appsettings$",
            "status": 403,
            "times": 5,
            "body": {
                "error": {
                    "code": "AuthorizationFailed",
                    "message": "The client does not have authorization to perform action "
                    "'Microsoft.Web/sites/config/write'.",
                }
            },
        }
    )
    status, _ = kubelink.provision(
        example(app={"resourceGroup": "apps-rg", "name": "kubelink-demo", "setting": "OrdersAddress"})
    )
    failure = _failure(status)
    assert failure["step"] == "appSetting" and failure["code"] == "AuthorizationFailed"
    assert "Microsoft.Web/sites/config/write" in failure["message"]
    puts = [(w["method"], w["status"]) for w in kubelink.arm_writes() if w["path"].endswith("/config/appsettings")]
    assert puts == [("PUT", 403)]  # permanent: one attempt, no retry
    assert _settings(kubelink) == {**ORIGINAL_SETTINGS, "PrivateAddress": "10.240.16.25"}
    kubelink.clear_faults()
