"""Issue 6 end to end, the regional path: a Linux app connected through a delegated subnet, its private address
named in a private DNS zone, the cluster's credentials from AKS (no kubeconfig setting), over HTTP through the
local host. No gateway, GatewaySubnet or public IP is ever requested. The tests of this module share one world
and run in order."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.privatedns.models import RecordSet

from tests.e2e.conftest import EXAMPLE, Kubelink
from tests.e2e.replay import assert_replays_deterministically

SUBSCRIPTION = EXAMPLE["subscriptionId"]
AKS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/"
AKS += "kube-aks"
LINK: dict[str, Any] = {
    "name": "catalog-api",
    "subscriptionId": SUBSCRIPTION,
    "integration": "regional",
    "network": {"resourceGroup": "kube-rg", "virtualNetwork": "kube-vnet"},
    "kubernetes": {
        "aksCluster": AKS,
        "kubeconfigSetting": "NO_KUBECONFIG_HERE",  # set nowhere: the credentials must come from AKS
        "service": "catalog-internal",
        "selector": {"app": "catalog"},
        "ports": [{"port": 80, "targetPort": 8080}],
        "loadBalancerSubnet": "ilb-subnet",
        "loadBalancerIP": "10.240.16.30",
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-linux",
        "subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"},
    },
    "dns": {"zone": "kubelink.internal", "record": "catalog"},
    "probe": {"path": "/api/privatestuff"},
}
APP, FQDN, IP = "kubelink-linux", "catalog.kubelink.internal", "10.240.16.30"
GATEWAY_SIDE = re.compile(r"virtualNetworkGateways|GatewaySubnet|publicIPAddresses", re.I)


def rows(changes: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(step, the resource id's last two segments) → action."""
    return {(c["step"], "/".join(c["resource"].rsplit("/", 2)[-2:])): c["action"] for c in changes}


def dns(kubelink: Kubelink) -> PrivateDnsManagementClient:
    return kubelink.sdk(PrivateDnsManagementClient)


def test_plan_shows_the_regional_path_and_writes_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    planned = rows(kubelink.plan(LINK))
    assert planned == {
        ("service", "default/catalog-internal"): "create",
        ("vnetIntegration", "subnets/app-subnet"): "create",
        ("vnetIntegration", "networkConfig/virtualNetwork"): "create",
        ("appSetting", "privateDnsZones/kubelink.internal"): "create",
        ("appSetting", "virtualNetworkLinks/kubelink-kube-vnet"): "create",
        ("appSetting", "A/catalog"): "create",
        ("appSetting", "config/appsettings"): "create",
    }
    assert kubelink.arm_writes() == []
    assert not [r for r in kubelink.arm_requests() if GATEWAY_SIDE.search(r["path"])]


def test_a_fresh_regional_link_touches_no_gateway(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    status, seen = kubelink.provision(LINK)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {
        "name": "catalog-api",
        "privateAddress": IP,
        "steps": {
            "service": "created",
            "gateway": "unchanged",
            "pointToSite": "unchanged",
            "vnetIntegration": "created",
            "appSetting": "created",
        },
    }
    assert any("needs no VPN gateway" in s["message"] for s in seen)
    assert status["customStatus"]["steps"] == dict.fromkeys(status["output"]["steps"], "done")
    requested = kubelink.arm_requests()
    assert [r["path"] for r in requested if GATEWAY_SIDE.search(r["path"])] == []
    assert any(r["method"] == "POST" and r["path"].endswith("/kube-aks/listClusterUserCredential") for r in requested)
    writes = [(w["method"], "/".join(w["path"].rsplit("/", 2)[-2:])) for w in kubelink.arm_writes()]
    assert writes == [
        ("PUT", "subnets/app-subnet"),
        ("PUT", "networkConfig/virtualNetwork"),
        ("PUT", "privateDnsZones/kubelink.internal"),
        ("PUT", "virtualNetworkLinks/kubelink-kube-vnet"),
        ("PUT", "A/catalog"),
        ("PUT", "config/appsettings"),
    ]


def test_the_linux_app_reaches_the_service_by_name(kubelink: Kubelink) -> None:
    answer = kubelink.probe(APP, "/api/privatestuff")
    assert answer.status_code == 200, answer.text
    settings = kubelink.web().web_apps.list_application_settings("apps-rg", APP).properties or {}
    assert settings["PrivateAddress"] == FQDN
    record = dns(kubelink).record_sets.get("kube-rg", "kubelink.internal", "A", "catalog").as_dict()["properties"]
    assert (record["ttl"], record["aRecords"]) == (300, [{"ipv4Address": IP}])
    link = dns(kubelink).virtual_network_links.get("kube-rg", "kubelink.internal", "kubelink-kube-vnet").as_dict()
    assert link["properties"]["registrationEnabled"] is False
    subnet_id = kubelink.web().web_apps.get("apps-rg", APP).as_dict()["properties"]["virtualNetworkSubnetId"]
    assert subnet_id.endswith("/virtualNetworks/kube-vnet/subnets/app-subnet")


def test_the_link_record_is_ready_with_nothing_retiring(kubelink: Kubelink) -> None:
    record = kubelink.link("catalog-api")
    conditions = {c["type"]: c for c in record["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert (conditions["Retirement"]["status"], conditions["Retirement"]["reason"]) == ("False", "RegionalIntegration")
    assert record["privateAddress"] == IP


def test_every_recorded_history_replays_deterministically(kubelink: Kubelink) -> None:
    assert assert_replays_deterministically(Path(kubelink.world.host.work), "link-catalog-api") >= 8


def test_a_converged_regional_link_writes_nothing(kubelink: Kubelink) -> None:
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    status, _ = kubelink.provision(LINK)
    assert status["runtimeStatus"] == "Completed", status
    assert set(status["output"]["steps"].values()) == {"unchanged"}
    assert kubelink.arm_writes() == []
    assert kubelink.kube_writes() == kube_writes
    assert all(c["action"] == "none" for c in kubelink.plan(LINK))


def test_a_changed_dns_record_is_drift_and_a_re_post_repairs_it(kubelink: Kubelink) -> None:
    records = dns(kubelink).record_sets
    changed = RecordSet({"properties": {"ttl": 300, "aRecords": [{"ipv4Address": "10.240.16.99"}]}})
    records.create_or_update("kube-rg", "kubelink.internal", "A", "catalog", changed)
    verified = kubelink.verify("catalog-api")
    assert verified["ready"] is False
    (record,) = [d for d in verified["drift"] if d["resource"].endswith("/privateDnsZones/kubelink.internal/A/catalog")]
    assert (record["kind"], record["field"], record["expected"], record["actual"]) == (
        "config",
        "properties.aRecords",
        [IP],
        ["10.240.16.99"],
    )
    assert any(d["kind"] == "connectivity" for d in verified["drift"])  # the name now leads nowhere

    status, _ = kubelink.provision(copy.deepcopy(LINK))
    assert status["output"]["steps"]["appSetting"] == "updated"
    again = kubelink.verify("catalog-api")
    assert again["ready"] is True and again["drift"] == [], again


def test_a_failed_dns_zone_fails_the_link_with_azures_code_and_message(kubelink: Kubelink) -> None:
    """Read from the zone operation's own status URL (privateDnsOperationStatuses), as for a failed gateway."""
    kubelink.inject(
        pathPattern=r"/privateDnsZones/broken\.internal$",
        lroOutcome="Failed",
        code="ZoneProvisioningFailed",
        message="The private zone could not be created (sandbox fault).",
    )
    status, _ = kubelink.provision({**copy.deepcopy(LINK), "dns": {"zone": "broken.internal", "record": "catalog"}})
    assert status["runtimeStatus"] == "Failed", status
    failure = json.loads(status["output"][status["output"].index("{") :])
    assert (failure["step"], failure["code"]) == ("appSetting", "ZoneProvisioningFailed")
    assert failure["message"] == "The private zone could not be created (sandbox fault)."
