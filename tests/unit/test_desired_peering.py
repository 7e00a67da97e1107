"""Peering the app's VNet with the cluster's (pure): adoption, the one owned flag, overlaps."""

from __future__ import annotations

from kubelink.desired.peering import (
    PeeringState,
    VnetRef,
    app_vnet,
    diff_peering,
    integration_vnet,
    overlaps,
    peering_body,
)
from tests.activities.specs import link_spec

CLUSTER = VnetRef("sub", "kube-rg", "kube-vnet")


def test_an_existing_peering_to_the_remote_is_adopted_whatever_its_name() -> None:
    theirs = {
        "name": "hub-to-spoke",
        "properties": {
            "remoteVirtualNetwork": {"id": CLUSTER.id.upper()},
            "allowVirtualNetworkAccess": True,
            "allowGatewayTransit": True,
            "peeringState": "Connected",
            "provisioningState": "Succeeded",
        },
    }
    other = {"name": "elsewhere", "properties": {"remoteVirtualNetwork": {"id": "/x/other"}}}
    state = PeeringState.towards([other, theirs], CLUSTER)
    assert (state.name, state.connected) == ("hub-to-spoke", True)
    assert diff_peering(state, CLUSTER) == ()


def test_a_missing_peering_is_created_with_access_and_an_adopted_one_only_gets_access_turned_on() -> None:
    missing = PeeringState.towards([], CLUSTER)
    assert {i.field_text for i in diff_peering(missing, CLUSTER)} == {
        "properties.remoteVirtualNetwork.id",
        "properties.allowVirtualNetworkAccess",
    }
    assert peering_body(missing, CLUSTER)["properties"] == {
        "allowVirtualNetworkAccess": True,
        "allowForwardedTraffic": False,
        "allowGatewayTransit": False,
        "useRemoteGateways": False,
        "remoteVirtualNetwork": {"id": CLUSTER.id},
    }
    closed = PeeringState(
        {
            "name": "p",
            "properties": {
                "remoteVirtualNetwork": {"id": CLUSTER.id},
                "allowVirtualNetworkAccess": False,
                "allowGatewayTransit": True,
            },
        }
    )
    (item,) = diff_peering(closed, CLUSTER)
    assert (item.field_text, item.old, item.new) == ("properties.allowVirtualNetworkAccess", False, True)
    body = peering_body(closed, CLUSTER)["properties"]
    assert body["allowVirtualNetworkAccess"] is True and body["allowGatewayTransit"] is True


def test_overlapping_prefixes_are_each_named() -> None:
    assert list(overlaps(["10.240.0.0/16", "192.168.0.0/24"], ["10.240.128.0/20", "10.50.0.0/16"])) == [
        ("10.240.0.0/16", "10.240.128.0/20")
    ]
    assert list(overlaps(["10.240.0.0/16"], ["10.50.0.0/16"])) == []


def test_the_integration_vnet_is_the_apps_own_when_given() -> None:
    plain = link_spec()
    assert app_vnet(plain) is None and integration_vnet(plain).name == "kube-vnet"
    own = link_spec(app={"virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"}})
    assert integration_vnet(own) == VnetRef(own.subscription_id, "apps-rg", "apps-vnet")
    assert own.app_subnet_id is None or "/apps-vnet/" in own.app_subnet_id
