"""Issue 6 end to end, the gateway path's limits: pre-flight refusals that point to ``regional`` and write nothing,
Azure refusing the SSTP gateway (its own code and message, plus kubelink's pointer), and the retirement warning on
every gateway link, an existing SSTP gateway included. One world for the module; the tests run in order."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.e2e.conftest import Kubelink, example

GATEWAY_SIDE = re.compile(r"virtualNetworkGateways|GatewaySubnet|publicIPAddresses", re.I)
#: Azure's answer to enabling SSTP after 2026-03-31 is unconfirmed: this code and message are invented
REFUSAL = {
    "code": "VpnClientProtocolSstpNotSupported",
    "message": "SSTP can no longer be enabled on virtual network gateways. Use IkeV2 or OpenVPN.",
}


def failure(status: dict[str, Any]) -> dict[str, Any]:
    """The Failed status's output: step, code and message as JSON after the host's prefix."""
    assert status["runtimeStatus"] == "Failed", status
    output: str = status["output"]
    found: dict[str, Any] = json.loads(output[output.index("{") :])
    return found


def refused_before_any_write(kubelink: Kubelink, body: dict[str, Any]) -> str:
    """Provision ``body``, expecting the pre-flight to refuse it; its message (every problem, by field)."""
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    status, _ = kubelink.provision(body)
    failed = failure(status)
    assert (failed["step"], failed["code"]) == ("preflight", "PreflightFailed"), failed
    assert kubelink.arm_writes() == []
    assert kubelink.kube_writes() == kube_writes
    message: str = failed["message"]
    return message


def conditions(kubelink: Kubelink) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in kubelink.link("orders-api")["conditions"]}


def test_a_linux_app_on_the_gateway_path_is_refused_with_a_pointer_to_regional(kubelink: Kubelink) -> None:
    found = refused_before_any_write(kubelink, example(app={"resourceGroup": "apps-rg", "name": "kubelink-linux"}))
    assert "app.name: app kubelink-linux runs on Linux" in found and "(use integration: regional" in found


def test_a_free_app_is_refused_on_both_paths(kubelink: Kubelink) -> None:
    free = {"resourceGroup": "apps-rg", "name": "kubelink-free"}
    found = refused_before_any_write(kubelink, example(app=free))
    assert "app.name: app kubelink-free runs on a Free plan" in found and "use integration: regional" in found
    regional = example(
        integration="regional", app={**free, "subnet": {"name": "app-subnet", "prefix": "10.240.16.128/28"}}
    )
    found = refused_before_any_write(kubelink, regional)
    assert "app.name: app kubelink-free runs on a Free plan" in found
    assert "app.subnet.prefix: 10.240.16.128/28 overlaps subnet ilb-subnet" in found
    assert not [r for r in kubelink.arm_requests() if GATEWAY_SIDE.search(r["path"])]


def test_a_new_sstp_configuration_is_refused_before_any_write_unless_the_spec_asks_for_it(kubelink: Kubelink) -> None:
    without = example()
    without["gateway"] = {k: v for k, v in without["gateway"].items() if k != "allowNewSstp"}
    found = refused_before_any_write(kubelink, without)
    assert "gateway.allowNewSstp:" in found
    assert "since 2026-03-31" in found and "retires on 2027-03-31" in found and "integration: regional" in found
    assert not [r for r in kubelink.arm_requests() if r["method"] != "GET" and GATEWAY_SIDE.search(r["path"])]


def test_azure_refusing_the_sstp_gateway_ends_with_its_own_words_and_the_pointer(kubelink: Kubelink) -> None:
    kubelink.inject(
        **{
            "method": "PUT",
            "pathPattern": "/virtualNetworkGateways/[^/]+$",
            "status": 400,
            "times": 1,
            "body": {"error": REFUSAL},
        }
    )
    status, _ = kubelink.provision(example())
    failed = failure(status)
    assert (failed["step"], failed["code"]) == ("gateway", REFUSAL["code"])
    assert failed["message"].startswith(REFUSAL["message"] + " (kubelink: ")
    assert "integration: regional needs no gateway" in failed["message"]
    assert REFUSAL["message"] in status["customStatus"]["message"]
    found = conditions(kubelink)
    assert found["Ready"]["status"] == "False" and "integration: regional" in found["Ready"]["message"]
    assert found["Retirement"]["severity"] == "Warning"  # the pre-flight had passed with its warnings


def test_every_gateway_link_carries_the_retirement_warning(kubelink: Kubelink) -> None:
    kubelink.clear_faults()
    status, _ = kubelink.provision(example())
    assert status["runtimeStatus"] == "Completed", status
    message = status["customStatus"]["message"]
    assert "Warning:" in message and "2026-03-31" in message and "2027-03-31" in message
    retirement = conditions(kubelink)["Retirement"]
    assert (retirement["status"], retirement["severity"], retirement["reason"]) == (
        "True",
        "Warning",
        "GatewayRequiredIntegrationRetiring",
    )
    assert "2026-03-31" in retirement["message"] and "2027-03-31" in retirement["message"]


def test_an_existing_sstp_gateway_keeps_working_with_the_same_warning(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    status, _ = kubelink.provision(example())
    assert status["runtimeStatus"] == "Completed", status
    assert set(status["output"]["steps"].values()) == {"unchanged"}
    assert kubelink.arm_writes() == []
    retirement = conditions(kubelink)["Retirement"]
    assert retirement["severity"] == "Warning" and "uses SSTP" in retirement["message"]
    assert "2027-03-31" in retirement["message"]
    assert kubelink.probe("kubelink-demo", "/api/privatestuff").status_code == 200
