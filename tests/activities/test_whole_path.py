"""Every provisioning activity in the orchestrator's order, twice: the second run writes nothing anywhere."""

from __future__ import annotations

from typing import Any

from activities.app_setting import ensure_app_setting
from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.preflight import preflight
from activities.service import ensure_service
from activities.vnet_integration import connect_app_gateway, ensure_app_vnet_connection
from tests.activities.helpers import Arm, settle
from tests.activities.specs import payload


def provision(link: dict[str, Any]) -> dict[str, str]:
    """The activities as provision_link calls them (the Service IP is pinned, so no wait for it here)."""
    results: dict[str, str] = {}
    for name, activity, resource in (
        ("preflight", preflight, None),
        ("service", ensure_service, None),
        ("gatewaySubnet", ensure_gateway_subnet, "gatewaySubnet"),
        ("publicIp", ensure_public_ip, "publicIp"),
        ("vnetConnection", ensure_app_vnet_connection, None),
        ("gateway", ensure_gateway, "gateway"),
        ("vnetIntegration", connect_app_gateway, None),
    ):
        answer = activity(link)
        assert answer["ok"], (name, answer)
        results[name] = answer.get("result", "checked")
        if resource and answer["provisioningState"] != "Succeeded":
            settle(link, resource)
    answer = ensure_app_setting({**link, "value": "10.240.16.25"})
    assert answer["ok"], answer
    results["appSetting"] = answer["result"]
    return results


def test_a_converged_link_is_not_written_again(arm: Arm, namespace: str, kube_writes: list):
    link = payload(kubernetes={"namespace": namespace})
    assert provision(link) == {
        "preflight": "checked",
        "service": "created",
        "gatewaySubnet": "created",
        "publicIp": "created",
        "vnetConnection": "created",
        "gateway": "created",
        "vnetIntegration": "created",
        "appSetting": "created",
    }
    gateway_puts = [w for w in arm.arm_writes() if w["method"] == "PUT" and "/virtualNetworkGateways/" in w["path"]]
    assert len(gateway_puts) == 1

    arm.reset_requests()
    kube_writes.clear()
    assert set(provision(link).values()) == {"checked", "unchanged"}
    assert arm.arm_writes() == []
    assert kube_writes == []


def test_a_failed_gateway_is_repaired_by_one_write(arm: Arm):
    link = payload()
    for ensure, resource in ((ensure_gateway_subnet, "gatewaySubnet"), (ensure_public_ip, "publicIp")):
        ensure(link)
        settle(link, resource)
    ensure_app_vnet_connection(link)
    arm.inject(pathPattern="/virtualNetworkGateways/kube-vnet-gw$", lroOutcome="Failed", code="Boom", message="x")
    ensure_gateway(link)
    assert settle(link, "gateway")["provisioningState"] == "Failed"

    arm.reset_requests()
    repaired = ensure_gateway(link)
    assert (repaired["result"], repaired["pointToSite"]) == ("updated", "unchanged")
    assert repaired["changes"] == [
        {"field": "properties.provisioningState", "op": "change", "expected": "Succeeded", "actual": "Failed"}
    ]
    assert len(arm.arm_writes()) == 1
    assert settle(link, "gateway")["provisioningState"] == "Succeeded"
