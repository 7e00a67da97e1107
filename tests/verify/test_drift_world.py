"""Drift, end to end: each break induced the way it happens in life, detected with the right record, then
remediated when the link asks for it; a healthy link records nothing; verification and plan never write.

Everything runs for real: kubelink on the local Functions host, the ARM sandbox over HTTPS, the apiserver,
Azurite. Each test starts from the converged link (``converge``: a no-op when it already is) and leaves
it converged, so the tests don't depend on each other's order.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubelink.drift import change_from_json
from kubelink.progress import combine_results
from kubelink.spec import LinkSpec
from tests.verify.conftest import Kubelink

EXAMPLE: dict[str, Any] = json.loads((Path(__file__).parents[2] / "examples" / "link.json").read_text())
NAME = EXAMPLE["name"]
SPEC = LinkSpec.from_json(EXAMPLE)
GROUP, APP = SPEC.app.resource_group, SPEC.app.name
SETTING = SPEC.app.setting
NAMESPACE, SERVICE = SPEC.kubernetes.namespace, SPEC.kubernetes.service
IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
PROBE = SPEC.probe.path if SPEC.probe else "/"


def body(remediate: bool | str) -> dict[str, Any]:
    link = copy.deepcopy(EXAMPLE)
    link["remediate"] = remediate
    return link


def converge(kubelink: Kubelink, remediate: bool | str) -> str:
    """The link provisioned with ``remediate``, healthy; returns its private address."""
    output = kubelink.provision(body(remediate))
    assert kubelink.probe(APP, PROBE).status_code == 200
    return str(output["privateAddress"])


def record(output: dict[str, Any], resource: str, field: str) -> dict[str, Any]:
    found = [r for r in output["drift"] if r["resource"] == resource and r["field"] == field]
    assert found, f"no drift record for {resource} {field}: {json.dumps(output['drift'], indent=1)}"
    return found[0]


def connectivity(output: dict[str, Any]) -> dict[str, Any]:
    (found,) = [r for r in output["drift"] if r["kind"] == "connectivity"]
    assert found["resource"].endswith(PROBE) and found["field"] == "status" and found["expected"] == 200
    return found


def remediated(kubelink: Kubelink, output: dict[str, Any]) -> None:
    """The records say remediated, the re-provisioning run converges, and a new verification is clean."""
    assert "error" not in (output["remediation"] or {}), output["remediation"]
    assert output["drift"] and all(r["remediated"] for r in output["drift"]), output
    assert output["remediation"]["instanceId"] == f"link-{NAME}"
    assert kubelink.wait_provisioned(NAME)["runtimeStatus"] == "Completed"
    again = kubelink.verify(NAME)
    assert again["ready"] is True and again["drift"] == [], again
    assert kubelink.probe(APP, PROBE).status_code == 200
    stored = kubelink.get(f"/api/links/{NAME}/drift")["value"]
    assert any(r["remediated"] and r["detectedAt"] == output["verifiedAt"] for r in stored)


def service_version(kubelink: Kubelink) -> str | None:
    from kubernetes.client.exceptions import ApiException

    try:
        return str(kubelink.kube().read_namespaced_service(SERVICE, NAMESPACE).metadata.resource_version)
    except ApiException as missing:
        assert missing.status == 404
        return None


def test_plan_writes_nothing_and_matches_what_provisioning_then_does(kubelink: Kubelink, world_env: Any) -> None:
    from activities.planning import plan

    kubelink.reset_requests()
    rows = plan(SPEC)["changes"]
    over_http = kubelink.http.post(f"{kubelink.host}/api/plan", json=body(remediate=False), timeout=60)
    assert kubelink.arm_writes() == []
    assert over_http.status_code == 200
    assert [{k: v for k, v in r.items() if k != "ownership"} for r in over_http.json()["changes"]] == rows
    assert {r["ownership"] for r in over_http.json()["changes"]} == {"owned"}  # a fresh link: all kubelink's
    assert (rows[0]["step"], rows[-1]["step"]) == ("service", "appSetting")
    output = kubelink.provision(body(remediate=False))
    planned: dict[str, list[str]] = {}
    for row in rows:
        planned.setdefault(row["step"], []).append(change_from_json(row).result)
    assert {step: combine_results(results) for step, results in planned.items()} == output["steps"]
    assert all(r["action"] == "none" for r in plan(SPEC)["changes"])


def test_healthy_link_records_nothing_and_verification_writes_nothing(kubelink: Kubelink) -> None:
    address = converge(kubelink, remediate=False)
    before = kubelink.get(f"/api/links/{NAME}/drift")["value"]
    version = service_version(kubelink)
    kubelink.reset_requests()
    output = kubelink.verify(NAME)
    assert kubelink.arm_writes() == []
    assert service_version(kubelink) == version
    assert output["ready"] is True and output["drift"] == [] and output["probe"]["status"] == 200
    assert kubelink.get(f"/api/links/{NAME}/drift")["value"] == before
    link = kubelink.get(f"/api/links/{NAME}")
    ready = next(c for c in link["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Verified")
    assert link["lastVerified"] == output["verifiedAt"] and link["privateAddress"] == address


def test_app_setting_edited_through_arm(kubelink: Kubelink) -> None:
    address = converge(kubelink, remediate=False)
    web = kubelink.web()
    settings = dict(web.web_apps.list_application_settings(GROUP, APP).properties)
    from azure.mgmt.web.models import StringDictionary

    web.web_apps.update_application_settings(GROUP, APP, StringDictionary(properties={**settings, SETTING: "10.9.9.9"}))
    kubelink.reset_requests()
    output = kubelink.verify(NAME)
    assert kubelink.arm_writes() == []  # remediate: false: detected, nothing touched
    found = record(output, f"{SPEC.app_id}/config/appsettings", f"appSettings.{SETTING}")
    assert (found["kind"], found["expected"], found["actual"], found["remediated"]) == (
        "config",
        address,
        "10.9.9.9",
        False,
    )
    connectivity(output)
    stored = kubelink.get(f"/api/links/{NAME}/drift")["value"]
    assert stored[0]["detectedAt"] == output["verifiedAt"]  # newest first
    ready = next(c for c in kubelink.get(f"/api/links/{NAME}")["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["severity"]) == ("False", "Error")
    # asked: with remediate: true (re-POSTing the link converges it, so break it again) the verification remediates
    converge(kubelink, remediate=True)
    web.web_apps.update_application_settings(GROUP, APP, StringDictionary(properties={**settings, SETTING: "10.9.9.9"}))
    output = kubelink.verify(NAME)
    assert record(output, f"{SPEC.app_id}/config/appsettings", f"appSettings.{SETTING}")["remediated"] is True
    remediated(kubelink, output)
    kept = dict(web.web_apps.list_application_settings(GROUP, APP).properties)
    assert {k: v for k, v in kept.items() if k != SETTING} == {k: v for k, v in settings.items() if k != SETTING}


def test_the_safe_policy_fixes_what_does_not_restart_the_app_and_reports_the_rest(kubelink: Kubelink) -> None:
    from azure.mgmt.web.models import StringDictionary

    converge(kubelink, remediate="safe")
    web = kubelink.web()
    settings = dict(web.web_apps.list_application_settings(GROUP, APP).properties)
    web.web_apps.update_application_settings(GROUP, APP, StringDictionary(properties={**settings, SETTING: "10.9.9.9"}))
    kubelink.reset_requests()
    alone = kubelink.verify(NAME)  # only drift that restarts the app: reported, nothing started, nothing written
    setting = record(alone, f"{SPEC.app_id}/config/appsettings", f"appSettings.{SETTING}")
    assert (setting["restartsApp"], setting["remediated"]) == (True, False)
    assert alone["remediation"] is None
    assert kubelink.arm_writes() == []

    kube = kubelink.kube()  # now also drift that is safe to fix: the Service's pinned IP annotation removed
    kube.patch_namespaced_service(SERVICE, NAMESPACE, {"metadata": {"annotations": {IPV4: None}}})
    kubelink.reset_requests()
    mixed = kubelink.verify(NAME)
    service = record(mixed, f"{NAMESPACE}/{SERVICE}", f"metadata.annotations[{IPV4}]")
    assert (service["restartsApp"], service["remediated"]) == (False, True)
    setting = record(mixed, f"{SPEC.app_id}/config/appsettings", f"appSettings.{SETTING}")
    assert (setting["restartsApp"], setting["remediated"]) == (True, False)
    assert kubelink.wait_provisioned(NAME)["runtimeStatus"] == "Completed"
    assert (
        kube.read_namespaced_service(SERVICE, NAMESPACE).metadata.annotations[IPV4] == SPEC.kubernetes.load_balancer_ip
    )
    assert not [w for w in kubelink.arm_writes() if "/config/appsettings" in w["path"]]  # the restart was left alone
    assert dict(web.web_apps.list_application_settings(GROUP, APP).properties)[SETTING] == "10.9.9.9"
    converge(kubelink, remediate=False)  # a POST fixes everything, as asked


def test_a_read_only_lock_makes_verification_unknown_and_provisioning_name_the_lock(kubelink: Kubelink) -> None:
    from azure.mgmt.resource.locks import ManagementLockClient
    from azure.mgmt.resource.locks.models import ManagementLockObject

    converge(kubelink, remediate=True)
    locks = kubelink.sdk(ManagementLockClient)
    locks.management_locks.create_or_update_at_resource_group_level(
        GROUP, "freeze", ManagementLockObject(level="ReadOnly")
    )
    try:
        output = kubelink.verify(NAME)
        assert output["ready"] is None and output["error"]["code"] == "ScopeLocked", output
        ready = next(c for c in kubelink.get(f"/api/links/{NAME}")["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("Unknown", "ScopeLocked")
        assert f"/resourceGroups/{GROUP}/providers/Microsoft.Authorization/locks/freeze" in ready["message"]
        assert "kubelink needed to POST" in ready["message"] and "/config/appsettings/list" in ready["message"]
        status = kubelink.follow(kubelink.start("/api/links", body(True))).status
        assert status["runtimeStatus"] == "Failed" and "ScopeLocked" in status["output"]
        assert "locks/freeze" in status["output"] and "kubelink needed to" in status["output"]
    finally:
        locks.management_locks.delete_at_resource_group_level(GROUP, "freeze")
    converge(kubelink, remediate=False)


def test_root_certificate_dropped_by_a_full_gateway_put(kubelink: Kubelink) -> None:
    converge(kubelink, remediate=True)
    net = kubelink.network()
    gateway = net.virtual_network_gateways.get(SPEC.network.resource_group, SPEC.gateway.name).as_dict()
    p2s = gateway["properties"]["vpnClientConfiguration"]
    ours = f"kubelink-{APP}"
    thumbprints = [c for c in p2s["vpnClientRootCertificates"] if c["name"] == ours]
    assert thumbprints, p2s["vpnClientRootCertificates"]
    p2s["vpnClientRootCertificates"] = [c for c in p2s["vpnClientRootCertificates"] if c["name"] != ours]
    net.virtual_network_gateways.begin_create_or_update(
        SPEC.network.resource_group, SPEC.gateway.name, gateway, polling_interval=0.2
    ).result()
    output = kubelink.verify(NAME)
    found = record(output, SPEC.gateway_id, f"properties.vpnClientConfiguration.vpnClientRootCertificates[{ours}]")
    assert (found["kind"], found["actual"]) == ("config", None) and found["expected"]
    connectivity(output)
    remediated(kubelink, output)


def test_service_deleted_and_recreated_with_a_new_ip(kubelink: Kubelink) -> None:
    address = converge(kubelink, remediate=True)
    kube = kubelink.kube()
    kube.delete_namespaced_service(SERVICE, NAMESPACE, _preload_content=False)
    manifest = {  # someone's own manifest: internal, but without kubelink's pinned address
        "metadata": {
            "name": SERVICE,
            "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": dict(SPEC.kubernetes.selector),
            "ports": [{"port": 80, "targetPort": 8080}],
        },
    }
    kube.create_namespaced_service(NAMESPACE, manifest, _preload_content=False)
    new_ip = _wait(lambda: _ingress_ip(kubelink))
    assert new_ip != address
    output = kubelink.verify(NAME)
    resource = f"{NAMESPACE}/{SERVICE}"
    moved = record(output, resource, "status.loadBalancer.ingress[0].ip")
    assert (moved["expected"], moved["actual"]) == (address, new_ip)
    assert record(output, resource, f"metadata.annotations[{IPV4}]")["actual"] is None
    connectivity(output)
    remediated(kubelink, output)


def test_app_vnet_connection_deleted(kubelink: Kubelink) -> None:
    converge(kubelink, remediate=True)
    kubelink.web().web_apps.delete_vnet_connection(GROUP, APP, SPEC.network.virtual_network)
    output = kubelink.verify(NAME)
    found = record(output, f"{SPEC.app_id}/virtualNetworkConnections/{SPEC.network.virtual_network}", "exists")
    assert (found["expected"], found["actual"]) == (True, False)
    connectivity(output)
    remediated(kubelink, output)


def test_backend_unreachable_when_the_service_is_deleted(kubelink: Kubelink) -> None:
    converge(kubelink, remediate=True)
    kubelink.kube().delete_namespaced_service(SERVICE, NAMESPACE, _preload_content=False)
    output = kubelink.verify(NAME)
    gone = record(output, f"{NAMESPACE}/{SERVICE}", "exists")
    assert (gone["kind"], gone["expected"], gone["actual"]) == ("config", True, False)
    unreachable = connectivity(output)
    assert unreachable["actual"] != 200
    remediated(kubelink, output)


def _ingress_ip(kubelink: Kubelink) -> str | None:
    status = kubelink.kube().read_namespaced_service(SERVICE, NAMESPACE).status
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    return ingress[0].ip if ingress else None


def _wait(get: Callable[[], str | None], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while (value := get()) is None:
        if time.monotonic() > deadline:
            pytest.fail("the sandbox gave the recreated Service no IP")
        time.sleep(0.2)
    return value
