"""The control API: request log, injected responses (429/500/409), LRO outcomes and durations."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.network import NetworkManagementClient

from local.sandbox import SandboxServer

from . import builders
from .builders import RG, VNET
from .conftest import POLL, SUB, Control, client_kwargs, code_of, credential

SUBNET_PATH = r"/virtualNetworks/kube-vnet/subnets/GatewaySubnet$"


def test_request_log_records_arm_calls_but_not_control_calls(control: Control, net: NetworkManagementClient) -> None:
    control.clear_requests()
    net.virtual_networks.get(RG, VNET)
    control.world()
    log = control.requests()
    assert [(e["method"], e["status"]) for e in log] == [("GET", 200)]
    entry = log[0]
    assert (
        entry["path"] == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/{VNET}"
    )
    assert entry["query"] == {"api-version": "2026-03-01"}
    control.clear_requests()
    assert control.requests() == []


def test_429_with_retry_after_is_retried_by_the_sdk(control: Control, net: NetworkManagementClient) -> None:
    control.fault(
        method="GET", pathPattern=r"/virtualNetworks/kube-vnet$", status=429, headers={"Retry-After": "0"}, times=2
    )
    control.clear_requests()
    assert net.virtual_networks.get(RG, VNET).name == VNET
    log = control.requests()
    assert [(e["status"], e["fault"]) for e in log] == [(429, True), (429, True), (200, False)]


def test_500_is_retried_then_surfaces_when_it_persists(sandbox: SandboxServer, control: Control) -> None:
    control.fault(method="GET", pathPattern=r"/virtualNetworks/kube-vnet$", status=500, times=None)
    impatient = NetworkManagementClient(
        credential(sandbox), SUB, **client_kwargs(sandbox, retry_total=1, retry_backoff_factor=0)
    )
    with pytest.raises(HttpResponseError) as caught:
        impatient.virtual_networks.get(RG, VNET)
    assert caught.value.status_code == 500
    assert code_of(caught) == "InternalServerError"
    assert len([e for e in control.requests() if e["fault"]]) == 2


def test_injected_409_body_reaches_the_caller(control: Control, net: NetworkManagementClient) -> None:
    body = {"error": {"code": "AnotherOperationInProgress", "message": "busy"}}
    control.fault(method="PUT", pathPattern=SUBNET_PATH, status=409, body=body)
    with pytest.raises(ResourceExistsError) as caught:
        builders.gateway_subnet(net)
    assert code_of(caught) == "AnotherOperationInProgress"
    assert builders.gateway_subnet(net).provisioning_state == "Succeeded"  # times defaults to 1


def test_lro_outcome_failed_fails_the_poller_and_the_resource(control: Control, net: NetworkManagementClient) -> None:
    control.fault(pathPattern=SUBNET_PATH, lroOutcome="Failed", code="NetcfgSubnetBusy", message="try later")
    poller = net.subnets.begin_create_or_update(
        RG, VNET, "GatewaySubnet", builders.subnet("10.240.255.0/27"), polling_interval=POLL
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert code_of(caught) == "NetcfgSubnetBusy"
    assert "try later" in caught.value.message
    assert net.subnets.get(RG, VNET, "GatewaySubnet").provisioning_state == "Failed"
    assert builders.gateway_subnet(net).provisioning_state == "Succeeded"


def test_lro_seconds_sets_the_duration_of_later_operations(control: Control, net: NetworkManagementClient) -> None:
    control.fault(pathPattern=SUBNET_PATH, lroSeconds=42)
    net.subnets.begin_create_or_update(RG, VNET, "GatewaySubnet", builders.subnet("10.240.255.0/27"), polling=False)
    net.subnets.begin_create_or_update(RG, VNET, "other", builders.subnet("10.240.254.0/27"), polling=False)
    ops = {op["resource_id"].rsplit("/", 1)[-1]: op for op in control.world()["operations"].values()}
    assert ops["GatewaySubnet"]["ends"] - ops["GatewaySubnet"]["started"] == pytest.approx(42)
    assert ops["other"]["ends"] - ops["other"]["started"] == pytest.approx(0.2)


def test_bad_fault_spec_is_400(control: Control) -> None:
    response = control.http.post(f"{control.base}/_sandbox/faults", json={"status": 500})
    assert response.status_code == 400
    assert "pathPattern" in response.json()["error"]["message"]
    response = control.http.post(
        f"{control.base}/_sandbox/faults", json={"pathPattern": "x", "lroOutcome": "Succeeded"}
    )
    assert response.status_code == 400


def test_deleting_faults_restores_normal_answers(control: Control, net: NetworkManagementClient) -> None:
    control.fault(method="GET", pathPattern=r"/virtualNetworks/kube-vnet$", status=404, times=None)
    control.http.delete(f"{control.base}/_sandbox/faults").raise_for_status()
    assert net.virtual_networks.get(RG, VNET).name == VNET
