"""Issue 10 end to end, real AKS and App Service topologies over HTTP through the local host: AKS's managed VNet
refused on the regional path with no write in its node resource group. The tests of this module share one world
and run in order."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import EXAMPLE, Kubelink

SUBSCRIPTION = EXAMPLE["subscriptionId"]
MC = "MC_kube-rg_kube-aks-managed_westeurope"
MANAGED_AKS = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/"
    "kube-aks-managed"
)
INTO_MANAGED_VNET: dict[str, Any] = {
    "name": "managed-orders",
    "subscriptionId": SUBSCRIPTION,
    "integration": "regional",
    "network": {"resourceGroup": MC, "virtualNetwork": "aks-vnet-30511229"},
    "kubernetes": {
        "aksCluster": MANAGED_AKS,
        "service": "orders-internal",
        "selector": {"app": "orders"},
        "ports": [{"port": 80, "targetPort": 8080}],
    },
    "app": {
        "resourceGroup": "apps-rg",
        "name": "kubelink-linux",
        "subnet": {"name": "apps", "prefix": "10.225.0.0/26"},
    },
}


def failure(status: dict[str, Any]) -> dict[str, Any]:
    assert status["runtimeStatus"] == "Failed", status
    output: str = status["output"]
    found: dict[str, Any] = json.loads(output[output.index("{") :])
    return found


def test_a_regional_link_into_aks_managed_vnet_is_refused_with_no_write_in_its_node_resource_group(
    kubelink: Kubelink,
) -> None:
    kubelink.reset_requests()
    kube_writes = kubelink.kube_writes()
    status, _ = kubelink.provision(INTO_MANAGED_VNET)
    refused = failure(status)
    assert (refused["step"], refused["code"]) == ("preflight", "ManagedResourceGroup")
    assert MC in refused["message"] and "integration: privateLink" in refused["message"]
    assert kubelink.arm_writes() == []
    assert not [r for r in kubelink.arm_requests() if MC.lower() in r["path"].lower() and r["method"] != "GET"]
    assert kubelink.kube_writes() == kube_writes
