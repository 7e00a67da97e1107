"""Management locks through the real azure-mgmt-resource-locks SDK: created at subscription, group and resource
scope; ReadOnly blocks writes and POST actions beneath it with 409 ScopeLocked, CanNotDelete blocks deletes."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import Subnet
from azure.mgmt.resource.locks import ManagementLockClient
from azure.mgmt.resource.locks.models import ManagementLockObject
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import StringDictionary

from local.sandbox import SandboxServer
from tests.sandbox.conftest import SUB, client_kwargs, code_of, credential

APPS, APP = "apps-rg", "kubelink-demo"
#: the SDK puts "/{scope}", so a scope is written without its leading slash
VNET_SCOPE = f"subscriptions/{SUB}/resourceGroups/kube-rg/providers/Microsoft.Network/virtualNetworks/kube-vnet"


@pytest.fixture
def locks(sandbox: SandboxServer) -> ManagementLockClient:
    return ManagementLockClient(credential(sandbox), SUB, **client_kwargs(sandbox))


def test_a_read_only_group_lock_blocks_writes_and_post_actions_but_not_reads(
    locks: ManagementLockClient, web: WebSiteManagementClient
) -> None:
    created = locks.management_locks.create_or_update_at_resource_group_level(
        APPS, "freeze", ManagementLockObject(level="ReadOnly", notes="change freeze")
    )
    assert (created.name, created.level) == ("freeze", "ReadOnly")
    assert web.web_apps.get(APPS, APP).name == APP  # reads pass
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.list_application_settings(APPS, APP)  # a POST action, read-only in effect, is blocked
    assert caught.value.status_code == 409 and code_of(caught) == "ScopeLocked"
    message = str(caught.value.message)
    assert f"sites/{APP}/config/appsettings/list' cannot perform write operation" in message
    assert "/resourceGroups/apps-rg/providers/Microsoft.Authorization/locks/freeze" in message
    assert message.endswith("Please remove the lock and try again.")
    with pytest.raises(HttpResponseError):
        web.web_apps.update_application_settings(APPS, APP, StringDictionary(properties={"A": "b"}))
    assert [lock.name for lock in locks.management_locks.list_at_resource_group_level(APPS)] == ["freeze"]
    locks.management_locks.delete_at_resource_group_level(APPS, "freeze")
    assert (web.web_apps.list_application_settings(APPS, APP).properties or {})["Greeting"] == "hello"


def test_a_can_not_delete_resource_lock_blocks_deletes_only(
    locks: ManagementLockClient, net: NetworkManagementClient
) -> None:
    locks.management_locks.create_or_update_by_scope(VNET_SCOPE, "keep", ManagementLockObject(level="CanNotDelete"))
    subnet = Subnet({"properties": {"addressPrefix": "10.240.40.0/27"}})
    net.subnets.begin_create_or_update("kube-rg", "kube-vnet", "extra", subnet, polling_interval=0.1).result()
    with pytest.raises(HttpResponseError) as caught:
        net.subnets.begin_delete("kube-rg", "kube-vnet", "extra", polling_interval=0.1).result()
    assert code_of(caught) == "ScopeLocked" and "cannot perform delete operation" in str(caught.value.message)
    assert locks.management_locks.get_by_scope(VNET_SCOPE, "keep").level == "CanNotDelete"


def test_a_subscription_lock_covers_everything_and_unknown_levels_are_refused(
    locks: ManagementLockClient, web: WebSiteManagementClient
) -> None:
    locks.management_locks.create_or_update_at_subscription_level("all", ManagementLockObject(level="ReadOnly"))
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.list_application_settings(APPS, APP)
    assert code_of(caught) == "ScopeLocked"
    locks.management_locks.delete_at_subscription_level("all")
    with pytest.raises(HttpResponseError) as refused:
        locks.management_locks.create_or_update_at_subscription_level("x", ManagementLockObject(level="Frozen"))
    assert refused.value.status_code == 400
