"""preflight against the sandbox's seeded world: facts for a good link, every problem for a bad one, no write."""

from __future__ import annotations

from activities.preflight import preflight
from tests.activities.helpers import Arm
from tests.activities.specs import payload


def test_the_seeded_world_passes_with_its_facts(arm: Arm):
    passed = preflight(payload())
    assert passed["ok"], passed
    assert passed["facts"] == {
        "location": "westeurope",
        "vnetAddressSpace": ["10.240.0.0/16"],
        "gatewaySubnetExists": False,
        "gatewaySubnetPrefixes": [],
        "gatewayExists": False,
        "gatewaySku": None,
        "appLocation": "westeurope",
        "appPlanTier": "Standard",
        "appGatewayConnection": False,
    }
    assert arm.arm_writes() == []


def test_every_problem_is_reported_at_once_before_any_write(arm: Arm):
    refused = preflight(
        payload(
            gateway={"clientAddressPool": "10.240.200.0/24", "gatewaySubnetPrefix": "10.240.16.0/27"},
            app={"name": "kubelink-linux"},
            kubernetes={"loadBalancerIP": None},  # else validation already refuses it inside that prefix
        )
    )
    assert refused["ok"] is False
    error = refused["error"]
    assert (error["code"], error["transient"], error["step"]) == ("PreflightFailed", False, "preflight")
    assert {d["field"] for d in error["details"]} == {
        "gateway.clientAddressPool",
        "gateway.gatewaySubnetPrefix",
        "app.name",
    }
    assert arm.arm_writes() == []


def test_free_tier_missing_vnet_and_legacy_sku_are_refused(arm: Arm):
    refused = preflight(
        payload(network={"virtualNetwork": "no-such-vnet"}, app={"name": "kubelink-free"}, gateway={"sku": "VpnGw2"})
    )
    details = {d["field"]: d["message"] for d in refused["error"]["details"]}
    assert "no-such-vnet not found" in details["network.virtualNetwork"]
    assert "Free plan" in details["app.name"]
    assert "can no longer be created" in details["gateway.sku"]
    assert arm.arm_writes() == []


MC = "MC_kube-rg_kube-aks-managed_westeurope"


def test_a_regional_link_into_aks_managed_vnet_is_refused_naming_the_group_before_any_write(arm: Arm):
    refused = preflight(
        payload(
            integration="regional",
            network={"resourceGroup": MC, "virtualNetwork": "aks-vnet-30511229"},
            app={"subnet": {"name": "apps", "prefix": "10.225.0.0/26"}},
            gateway={"clientAddressPool": None},
        )
    )
    error = refused["error"]
    assert (error["code"], error["transient"], error["step"]) == ("ManagedResourceGroup", False, "preflight")
    managed = next(d for d in error["details"] if d["field"] == "network.resourceGroup")
    assert MC in managed["message"] and "managedClusters/kube-aks-managed" in managed["message"]
    assert "integration: privateLink" in managed["message"]
    assert arm.arm_writes() == []


def test_with_the_explicit_opt_in_the_managed_group_passes_preflight(arm: Arm):
    passed = preflight(
        payload(
            integration="regional",
            network={"resourceGroup": MC, "virtualNetwork": "aks-vnet-30511229"},
            app={"subnet": {"name": "apps", "prefix": "10.225.0.0/26"}},
            gateway={"clientAddressPool": None},
            allowManagedResourceGroups=[MC],
        )
    )
    assert passed["ok"], passed
    assert arm.arm_writes() == []
