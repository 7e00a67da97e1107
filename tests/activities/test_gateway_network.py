"""GatewaySubnet, public IP and observe_provisioning against the sandbox, with the real SDKs."""

from __future__ import annotations

from activities.gateway import ensure_gateway_subnet, ensure_public_ip, observe_provisioning
from tests.activities.helpers import Arm, settle
from tests.activities.specs import payload

GATEWAY_SUBNET_PATH = "/virtualNetworks/kube-vnet/subnets/GatewaySubnet"


def test_missing_gateway_subnet_is_created_once_then_left_alone(arm: Arm):
    link = payload()
    first = ensure_gateway_subnet(link)
    assert first["ok"], first
    assert (first["result"], first["provisioningState"]) == ("created", "Updating")
    assert first["changes"] == [
        {"field": "properties.addressPrefix", "op": "add", "expected": "10.240.255.0/27", "actual": None}
    ]
    assert first["operation"].startswith(arm.arm)
    (put,) = arm.arm_writes()
    assert put["path"].endswith(GATEWAY_SUBNET_PATH)
    assert put["requestBody"]["properties"] == {"addressPrefix": "10.240.255.0/27"}
    assert settle(link, "gatewaySubnet") == {"ok": True, "provisioningState": "Succeeded", "error": None}

    arm.reset_requests()
    second = ensure_gateway_subnet(link)
    assert (second["result"], second["changes"], second["provisioningState"]) == ("unchanged", [], "Succeeded")
    assert arm.arm_writes() == []


def test_existing_gateway_subnet_is_kept_as_is(arm: Arm):
    ensure_gateway_subnet(payload(gateway={"gatewaySubnetPrefix": "10.240.254.0/26"}))
    settle(payload(), "gatewaySubnet")
    arm.reset_requests()
    kept = ensure_gateway_subnet(payload())  # the spec now asks for 10.240.255.0/27
    assert (kept["ok"], kept["result"], kept["changes"]) == (True, "unchanged", [])
    assert arm.arm_writes() == []


def test_public_ip_is_standard_static_ipv4_zone_redundant_and_idempotent(arm: Arm):
    link = payload()
    first = ensure_public_ip(link)
    assert first["ok"], first
    assert (first["result"], first["provisioningState"]) == ("created", "Updating")
    (put,) = arm.arm_writes()
    assert put["path"].endswith("/publicIPAddresses/kube-vnet-gw-pip")
    assert put["requestBody"] == {
        "location": "westeurope",
        "tags": {"kubelink-created-by": "orders-api"},  # kubelink's mark: teardown removes only what carries it
        "sku": {"name": "Standard", "tier": "Regional"},
        "zones": ["1", "2", "3"],
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
    }
    assert settle(link, "publicIp")["provisioningState"] == "Succeeded"
    arm.reset_requests()
    again = ensure_public_ip(link)
    assert (again["result"], again["provisioningState"]) == ("unchanged", "Succeeded")
    assert arm.arm_writes() == []


def test_throttling_and_server_errors_are_retried_inside_the_client(arm: Arm):
    arm.inject(method="GET", pathPattern=GATEWAY_SUBNET_PATH, status=429, times=1, headers={"Retry-After": "1"})
    arm.inject(method="PUT", pathPattern=GATEWAY_SUBNET_PATH, status=503, times=1)
    result = ensure_gateway_subnet(payload())
    assert result["ok"] and result["result"] == "created", result


def test_leftover_server_errors_are_transient_and_bad_requests_permanent(arm: Arm):
    arm.inject(method="PUT", pathPattern=GATEWAY_SUBNET_PATH, status=500, times=10)
    failed = ensure_gateway_subnet(payload())
    assert failed["ok"] is False
    assert failed["error"]["transient"] is True
    assert (failed["error"]["code"], failed["error"]["step"]) == ("InternalServerError", "gateway")
    arm.clear_faults()

    outside = ensure_gateway_subnet(payload(gateway={"gatewaySubnetPrefix": "10.99.0.0/27"}))
    assert outside["ok"] is False
    assert outside["error"]["transient"] is False
    assert outside["error"]["code"] == "NetcfgSubnetRangeOutsideVnet"


def test_another_operation_in_progress_is_transient(arm: Arm):
    arm.inject(
        method="PUT",
        pathPattern="/publicIPAddresses/",
        status=409,
        times=10,
        body={"error": {"code": "AnotherOperationInProgress", "message": "Another operation is in progress."}},
    )
    busy = ensure_public_ip(payload())
    assert busy["ok"] is False
    assert (busy["error"]["code"], busy["error"]["transient"]) == ("AnotherOperationInProgress", True)


def test_a_failed_operation_reports_azure_code_and_message(arm: Arm):
    arm.inject(pathPattern=GATEWAY_SUBNET_PATH, lroOutcome="Failed", code="SubnetCreationFailed", message="it broke")
    link = payload()
    started = ensure_gateway_subnet(link)
    observed = settle({**link, "operation": started["operation"]}, "gatewaySubnet")
    assert observed["provisioningState"] == "Failed"
    assert observed["error"] == {"code": "SubnetCreationFailed", "message": "it broke"}
    without_url = observe_provisioning({**link, "resource": "gatewaySubnet"})
    assert (without_url["provisioningState"], without_url["error"]) == ("Failed", None)


def test_observing_a_resource_that_does_not_exist_is_permanent(arm: Arm):
    observed = observe_provisioning({**payload(), "resource": "gateway"})
    assert observed["ok"] is False
    assert (observed["error"]["code"], observed["error"]["transient"]) == ("ResourceNotFound", False)


def test_in_a_region_without_zones_the_public_ip_is_regional(arm: Arm):
    """ukwest has no availability zones: a zone-redundant address would be refused there (sandbox README)."""
    link = payload(network={"resourceGroup": "ukwest-rg", "virtualNetwork": "ukwest-vnet"})
    created = ensure_public_ip(link)
    assert created["ok"], created
    (put,) = arm.arm_writes()
    assert put["requestBody"]["location"] == "ukwest" and "zones" not in put["requestBody"]
    assert settle(link, "publicIp")["provisioningState"] == "Succeeded"
