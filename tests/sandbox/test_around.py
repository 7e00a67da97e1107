"""The calls real clients make around kubelink's, through the real SDKs: lists paged with ``nextLink``, tag
PATCHes, deletions of VNets, plans and resource groups, provider registrations, slot config names, address checks,
and the protocol details the recordings show (``Retry-After`` on running polls, private DNS's 202s)."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as nm
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.privatedns.models import PrivateZone
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import AppServicePlan, SlotConfigNames, SlotConfigNamesResource

from local.sandbox import SandboxServer, Settings

from . import builders
from .builders import RG, VNET
from .conftest import POLL, SUB, arm, rid

API = {"api-version": "2026-03-01"}


@pytest.fixture
def settings() -> Settings:
    """Pages of two entries, so the seeded world's lists already span pages."""
    return Settings(lro_seconds=0.3, gateway_seconds=1.0, ilb_delay_seconds=0.2, list_page_size=2)


def vnet(net: NetworkManagementClient, rg: str, name: str, prefix: str, tags: dict[str, str] | None = None) -> None:
    body: dict[str, object] = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}
    if tags is not None:
        body["tags"] = tags
    net.virtual_networks.begin_create_or_update(rg, name, nm.VirtualNetwork(body), polling_interval=POLL).result()


def test_lists_of_vnets_and_public_ips_page_with_next_link(
    sandbox: SandboxServer, net: NetworkManagementClient
) -> None:
    for index in range(4):
        vnet(net, "spare-rg", f"spare-{index}", f"10.{60 + index}.0.0/16")
    first = arm(sandbox, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks", params=API).json()
    assert len(first["value"]) == 2 and "api-version=2026-03-01" in first["nextLink"]
    assert sorted(str(v.name) for v in net.virtual_networks.list_all()) == [
        "aks-vnet-30511229",
        "apps-vnet",
        "kube-vnet",
        "spare-0",
        "spare-1",
        "spare-2",
        "spare-3",
        "ukwest-vnet",
    ]
    assert [v.name for v in net.virtual_networks.list("spare-rg")] == [f"spare-{i}" for i in range(4)]
    for name in ("pip-a", "pip-b", "pip-c"):
        builders.public_ip(net, name)
    assert sorted(str(p.name) for p in net.public_ip_addresses.list(RG)) == ["pip-a", "pip-b", "pip-c"]
    assert len(list(net.public_ip_addresses.list_all())) == 3


def test_tags_are_echoed_only_when_sent_and_patched_in_place(
    sandbox: SandboxServer, net: NetworkManagementClient
) -> None:
    vnet(net, "spare-rg", "untagged", "10.70.0.0/16")
    raw = arm(sandbox, "GET", rid("spare-rg", "Microsoft.Network", "virtualNetworks", "untagged"), params=API).json()
    assert "tags" not in raw
    updated = net.virtual_networks.update_tags("spare-rg", "untagged", nm.TagsObject(tags={"owner": "team-a"}))
    assert updated.tags == {"owner": "team-a"} and updated.provisioning_state == "Succeeded"
    builders.gateway(net)
    poller = net.virtual_network_gateways.begin_update_tags(
        RG, builders.GW, nm.TagsObject(tags={"env": "prod"}), polling_interval=POLL
    )
    assert poller.result().tags == {"env": "prod"}
    assert net.virtual_network_gateways.get(RG, builders.GW).tags == {"env": "prod"}


def test_a_vnet_is_deleted_unless_a_subnet_is_in_use(sandbox: SandboxServer, net: NetworkManagementClient) -> None:
    vnet(net, "spare-rg", "doomed", "10.80.0.0/16")
    net.virtual_networks.begin_delete("spare-rg", "doomed", polling_interval=POLL).result()
    assert [v.name for v in net.virtual_networks.list("spare-rg")] == []
    builders.gateway(net)
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_networks.begin_delete(RG, VNET, polling_interval=POLL).result()
    assert caught.value.error is not None and caught.value.error.code == "InUseSubnetCannotBeDeleted"


def test_check_ip_address_availability(net: NetworkManagementClient) -> None:
    free = net.virtual_networks.check_ip_address_availability(RG, VNET, ip_address="10.240.16.40")
    assert free.available is True and free.is_platform_reserved is False
    reserved = net.virtual_networks.check_ip_address_availability(RG, VNET, ip_address="10.240.16.1")
    assert reserved.available is False and reserved.is_platform_reserved is True
    with pytest.raises(HttpResponseError) as caught:
        net.virtual_networks.check_ip_address_availability(RG, VNET, ip_address="192.168.1.1")
    assert caught.value.error is not None and caught.value.error.code == "PrivateIPAddressNotInAnySubnet"


def test_a_running_operation_poll_carries_retry_after(sandbox: SandboxServer) -> None:
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.90.0.0/16"]}}}
    put = arm(sandbox, "PUT", rid("spare-rg", "Microsoft.Network", "virtualNetworks", "slow"), params=API, json=body)
    poll = arm(sandbox, "GET", put.headers["Azure-AsyncOperation"].replace(sandbox.arm_url, ""))
    assert poll.status_code == 200 and poll.json() == {"status": "InProgress"}
    assert 1 <= int(poll.headers["Retry-After"]) <= 10


def test_private_dns_answers_202_with_an_empty_body_and_polls_202_while_running(
    sandbox: SandboxServer, dns: PrivateDnsManagementClient
) -> None:
    path = rid("spare-rg", "Microsoft.Network", "privateDnsZones", "conformance.internal")
    put = arm(sandbox, "PUT", path, params={"api-version": "2024-06-01"}, json={"location": "global"})
    assert put.status_code == 202 and put.json() == {}
    poll = arm(sandbox, "GET", put.headers["Azure-AsyncOperation"].replace(sandbox.arm_url, ""))
    assert poll.status_code == 202 and poll.json() == {"status": "InProgress"}
    assert {"Azure-AsyncOperation", "Location", "Retry-After"} <= set(poll.headers)
    zone = dns.private_zones.begin_create_or_update(
        "spare-rg", "sdk.internal", PrivateZone(location="global"), polling_interval=POLL
    ).result()
    assert zone.provisioning_state == "Succeeded" and zone.tags is None


GROUPS = {"api-version": "2021-04-01"}


def test_provider_registrations(sandbox: SandboxServer) -> None:
    network = arm(sandbox, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Network", params=GROUPS).json()
    assert network["registrationState"] == "Registered"
    assert "virtualNetworkGateways" in {t["resourceType"] for t in network["resourceTypes"]}
    fake = arm(sandbox, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Fake", params=GROUPS).json()
    assert fake["registrationState"] == "NotRegistered"


def test_deleting_a_group_is_202_then_operationresults_and_takes_its_resources(
    sandbox: SandboxServer, net: NetworkManagementClient
) -> None:
    vnet(net, "spare-rg", "inside", "10.95.0.0/16")
    group = f"/subscriptions/{SUB}/resourcegroups/spare-rg"
    deleted = arm(sandbox, "DELETE", group, params=GROUPS)
    assert deleted.status_code == 202
    result = deleted.headers["Location"]
    assert result.startswith(f"{sandbox.arm_url}/subscriptions/{SUB}/operationresults/")
    seen = []
    for _ in range(100):
        seen.append(arm(sandbox, "GET", result.replace(sandbox.arm_url, "")).status_code)
        if seen[-1] != 202:
            break
        time.sleep(0.05)
    assert seen[0] == 202 and seen[-1] == 200
    assert arm(sandbox, "GET", group, params=GROUPS).status_code == 404
    assert "inside" not in {v.name for v in net.virtual_networks.list_all()}
    assert "kube-vnet" in {v.name for v in net.virtual_networks.list_all()}


def test_group_tags_are_kept(sandbox: SandboxServer) -> None:
    group = f"/subscriptions/{SUB}/resourcegroups/tagged-rg"
    made = arm(sandbox, "PUT", group, params=GROUPS, json={"location": "westeurope", "tags": {"cost": "42"}})
    assert made.status_code == 201 and made.json()["tags"] == {"cost": "42"}
    assert arm(sandbox, "GET", group, params=GROUPS).json()["tags"] == {"cost": "42"}


def test_slot_config_names_and_plans(web: WebSiteManagementClient) -> None:
    before = web.web_apps.list_slot_configuration_names("apps-rg", "kubelink-demo").properties
    assert before is not None and before.app_setting_names is None
    names = SlotConfigNamesResource(properties=SlotConfigNames(app_setting_names=["PrivateAddress"]))
    web.web_apps.update_slot_configuration_names("apps-rg", "kubelink-demo", names)
    stored = web.web_apps.list_slot_configuration_names("apps-rg", "kubelink-demo").properties
    assert stored is not None and stored.app_setting_names == ["PrivateAddress"]
    with pytest.raises(HttpResponseError) as caught:
        web.app_service_plans.delete("apps-rg", "apps-plan")
    response = caught.value.response
    assert caught.value.status_code == 409 and response is not None and "kubelink-demo" in response.text()
    web.app_service_plans.begin_create_or_update(
        "apps-rg", "empty-plan", AppServicePlan({"location": "westeurope", "sku": {"name": "S1", "tier": "Standard"}})
    ).result()
    plan = web.app_service_plans.get("apps-rg", "empty-plan")
    assert plan.sku is not None and plan.sku.name == "S1"
    web.app_service_plans.delete("apps-rg", "empty-plan")
    with pytest.raises(ResourceNotFoundError):
        web.app_service_plans.get("apps-rg", "empty-plan")


def test_config_web_and_regional_integration_answer_with_the_recorded_ids(
    sandbox: SandboxServer, web: WebSiteManagementClient
) -> None:
    site = rid("apps-rg", "Microsoft.Web", "sites", "kubelink-demo")
    got = web.web_apps.get_configuration("apps-rg", "kubelink-demo")
    assert (got.id, got.name, got.type) == (f"{site}/config/web", "kubelink-demo", "Microsoft.Web/sites/config")
    written = arm(
        sandbox,
        "PATCH",
        f"{site}/config/web",
        params={"api-version": "2025-05-01"},
        json={"properties": {"http20Enabled": True}},
    ).json()
    assert (written["id"], written["name"], written["type"]) == (site, "kubelink-demo", "Microsoft.Web/sites")
    swift = web.web_apps.get_swift_virtual_network_connection("apps-rg", "kubelink-demo")
    assert (swift.id, swift.type) == (f"{site}/config/virtualNetwork", "Microsoft.Web/sites/config")


def test_metadata_endpoints_are_anonymous(sandbox: SandboxServer) -> None:
    answer = arm(sandbox, "GET", "/metadata/endpoints", token=None, params={"api-version": "2022-09-01"})
    assert answer.status_code == 200
    assert answer.json()["resourceManager"] == f"{sandbox.arm_url}/"
