"""Who else uses what a link uses (pure): teardown keeps a gateway, a peering or an endpoint subnet another link
record still names."""

from __future__ import annotations

from typing import Any

from kubelink.sharing import ENDPOINT_SUBNET, GATEWAY, PEERING, sharing
from kubelink.spec import LinkSpec
from tests.activities.specs import SUBSCRIPTION, link_spec

AKS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/aks"


APPS = ("apps-rg", "apps-vnet")
KUBE = ("kube-rg", "kube-vnet")


def peered(name: str, own: tuple[str, str] = APPS, cluster: tuple[str, str] = KUBE) -> LinkSpec:
    """A regional link from the app's VNet ``own`` to the cluster's (both as resource group, name)."""
    return link_spec(
        name=name,
        integration="regional",
        gateway=None,
        network={"resourceGroup": cluster[0], "virtualNetwork": cluster[1]},
        app={
            "virtualNetwork": {"resourceGroup": own[0], "name": own[1]},
            "subnet": {"name": f"{name}-apps", "prefix": "10.50.1.0/26"},
        },
    )


def private_link(name: str, endpoint_subnet: str = "endpoints") -> LinkSpec:
    changes: dict[str, Any] = {
        "name": name,
        "integration": "privateLink",
        "gateway": None,
        "kubernetes": {"aksCluster": AKS, "loadBalancerIP": None, "loadBalancerSubnet": None},
        "app": {
            "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
            "subnet": {"name": f"{name}-apps", "prefix": "10.50.4.0/26"},
        },
        "privateLink": {"endpointSubnet": {"name": endpoint_subnet, "prefix": "10.50.5.0/27"}},
    }
    return link_spec(**changes)


def test_links_peering_the_same_two_vnets_share_the_peering_whichever_side_each_calls_its_own() -> None:
    mine = peered("orders")
    same, reversed_sides = peered("reports"), peered("billing", own=KUBE, cluster=APPS)
    elsewhere = peered("stock", own=("apps-rg", "stock-vnet"))
    assert sharing(mine, [mine, same, reversed_sides, elsewhere]) == {PEERING: ["billing", "reports"]}


def test_a_gateway_is_shared_by_the_links_on_it_and_not_by_a_fresh_regional_link() -> None:
    mine, neighbour = link_spec(name="orders"), link_spec(name="reports")
    assert sharing(mine, [neighbour, peered("stock")]) == {GATEWAY: ["reports"]}
    assert sharing(peered("stock"), [mine, neighbour]) == {}


def test_private_link_links_share_an_endpoint_subnet_but_each_has_its_own_endpoint() -> None:
    mine = private_link("orders")
    others = [private_link("reports"), private_link("billing", endpoint_subnet="billing-endpoints")]
    assert sharing(mine, others) == {ENDPOINT_SUBNET: ["reports"]}


def test_what_the_link_created_and_kept_for_others_is_handed_to_exactly_those_links() -> None:
    from orchestrators.teardown_link import _hand_over

    subnet, peering, adopted = "/x/subnets/GatewaySubnet", "/x/virtualNetworkPeerings/kubelink-y", "/x/peerings/theirs"
    run = {"ownership": {"created": [subnet, peering.upper()], "adopted": {}}}
    kept: list[dict[str, Any]] = [
        {"resource": subnet, "reason": "shared", "sharedWith": ["reports"]},
        {"resource": peering, "reason": "peered", "sharedWith": ["billing", "reports"]},
        {"resource": adopted, "reason": "theirs", "sharedWith": ["billing"]},  # not this link's to give
        {"resource": subnet, "reason": "holds the gateway"},
    ]
    assert _hand_over(run, kept) == {"reports": [subnet, peering], "billing": [peering]}
