"""Teardown's activities against the sandbox: where everything is already gone (deleted by hand, or by an earlier
teardown) each answers ok, removes nothing and writes nothing; a peering or an endpoint subnet the link created
stays while another link uses it, and goes, both peering sides at once, when none does."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from activities.peering import ensure_peerings, observe_peerings
from activities.private_link import ensure_endpoint_subnet, ensure_private_endpoint, observe_endpoint
from activities.teardown import (
    disconnect_app,
    remove_app_setting,
    remove_app_subnet,
    remove_dns,
    remove_peerings,
    remove_private_endpoint,
    remove_shared_gateway,
)
from adapters.clients import network_client
from kubelink.spec import LinkSpec
from tests.activities.helpers import Arm, service_by_hand, settle
from tests.activities.specs import PRIVATE_LINK, SUBSCRIPTION, payload

PEERED_APP = {
    "virtualNetwork": {"resourceGroup": "apps-rg", "name": "apps-vnet"},
    "subnet": {"name": "apps", "prefix": "10.50.3.0/26"},
}


def test_resources_already_gone_are_fine_and_nothing_is_written(arm: Arm) -> None:
    link = payload(
        integration="regional",
        app={"subnet": {"name": "app-subnet", "prefix": "10.240.32.0/27"}},
        dns={"zone": "kubelink.internal", "record": "orders"},
    )
    spec = LinkSpec.from_json(link["spec"])
    claimed = [spec.gateway_subnet_id, spec.app_subnet_id, f"{spec.app_id}/networkConfig/virtualNetwork"]
    everything = {**link, "ownership": {"created": claimed, "adopted": {}}, "sharedWith": {}}
    peered = {**payload(integration="regional", app=PEERED_APP), "ownership": everything["ownership"]}
    private = {**payload(**PRIVATE_LINK), "ownership": everything["ownership"]}
    for activity, given in (
        *((a, everything) for a in (remove_app_setting, disconnect_app, remove_app_subnet, remove_dns)),
        (remove_shared_gateway, everything),
        (remove_peerings, peered),
        (remove_private_endpoint, private),
    ):
        done = activity(given)
        assert done["ok"], done
        assert (done["removed"], done["restored"], done["pending"]) == ([], [], False), done
    assert arm.arm_writes() == []


def until_done(activity: Callable[[dict[str, Any]], dict[str, Any]], given: dict[str, Any]) -> list[str]:
    """What the orchestrator does: call the activity again between timers until it has nothing pending; what it
    removed along the way, in order."""
    removed: list[str] = []
    deadline = time.monotonic() + 15
    while True:
        done = activity(given)
        assert done["ok"], done
        removed += [r for r in done["removed"] if r not in removed]
        if not done["pending"]:
            return removed
        assert time.monotonic() < deadline, done
        time.sleep(0.1)


def test_peerings_the_link_made_stay_while_another_link_peers_the_same_vnets_then_both_sides_go(arm: Arm) -> None:
    link = payload(integration="regional", app=PEERED_APP)
    made = ensure_peerings(link)["created"]
    deadline = time.monotonic() + 10
    while not observe_peerings(link)["connected"]:
        assert time.monotonic() < deadline, observe_peerings(link)
        time.sleep(0.1)
    arm.reset_requests()
    owned = {**link, "ownership": {"created": made, "adopted": {}}}
    shared = remove_peerings({**owned, "sharedWith": {"peering": ["reports-api"]}})
    assert shared["removed"] == [] and arm.arm_writes() == []
    kept = sorted((k["resource"], k["sharedWith"]) for k in shared["kept"])
    assert kept == [(m, ["reports-api"]) for m in sorted(made)]
    planned = remove_peerings({**owned, "dryRun": True})
    assert sorted(planned["removed"]) == sorted(made) and arm.arm_writes() == []
    assert sorted(until_done(remove_peerings, owned)) == sorted(made)
    deletes = [w["path"] for w in arm.arm_writes() if w["method"] == "DELETE"]
    assert len(deletes) == 2 and all("/virtualNetworkPeerings/kubelink-" in d for d in deletes)
    net = network_client(SUBSCRIPTION)
    assert list(net.virtual_network_peerings.list("apps-rg", "apps-vnet")) == []
    assert list(net.virtual_network_peerings.list("kube-rg", "kube-vnet")) == []


def test_an_endpoint_subnet_holding_another_links_endpoint_stays_and_goes_with_the_last_endpoint(arm: Arm) -> None:
    service = service_by_hand(arm)
    orders, reports = payload(**{**PRIVATE_LINK, "name": "orders-api"}), payload(**{**PRIVATE_LINK, "name": "reports"})
    made = ensure_endpoint_subnet(orders)["created"]
    settle(orders, "endpointSubnet")
    for link in (orders, reports):
        made += ensure_private_endpoint({**link, "serviceId": service})["created"]
        settle(link, "privateEndpoint")
    orders_endpoint, subnet = LinkSpec.from_json(orders["spec"]).private_endpoint_id, made[0]
    reports_endpoint = LinkSpec.from_json(reports["spec"]).private_endpoint_id
    first = {**orders, "ownership": {"created": [subnet, orders_endpoint], "adopted": {}}}
    # the plan (a dry run) counts the endpoint this teardown removes first as gone from the subnet, not the other
    planned = remove_private_endpoint({**first, "dryRun": True})
    assert planned["removed"] == [orders_endpoint]
    assert [(k["resource"], reports_endpoint.lower() in k["reason"].lower()) for k in planned["kept"]] == [
        (subnet, True)
    ]
    assert until_done(remove_private_endpoint, first) == [orders_endpoint]
    last = {**reports, "ownership": {"created": [subnet, reports_endpoint], "adopted": {}}}  # handed over
    assert remove_private_endpoint({**last, "dryRun": True})["removed"] == [reports_endpoint, subnet]
    # Azure may remove the endpoint's NIC only after the endpoint's delete has finished (azure-rest-api-specs#32752):
    # played here by putting the NIC back once the endpoint is gone; the subnet waits for it, and is not kept
    world, spec = arm.sandbox.world, LinkSpec.from_json(reports["spec"])
    nic_id = str(observe_endpoint(spec).nic_id)
    lingering = copy.deepcopy(world.get(nic_id))
    assert lingering is not None
    assert remove_private_endpoint(last)["removed"] == [reports_endpoint]
    deadline = time.monotonic() + 10
    while observe_endpoint(spec).exists:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with world.lock:
        world.put(lingering)
    waiting = remove_private_endpoint(last)
    assert (waiting["removed"], waiting["kept"], waiting["pending"]) == ([], [], True), waiting
    with world.lock:
        world.remove(nic_id)
    assert until_done(remove_private_endpoint, last) == [subnet]
    net = network_client(SUBSCRIPTION)
    assert [s.name for s in net.subnets.list("apps-rg", "apps-vnet") if s.name == "pe"] == []
    (pls,) = [p for p in net.private_link_services.list("MC_kube-rg_kube-aks-managed_westeurope") if p.id == service]
    assert pls.private_endpoint_connections == []  # the service itself is not kubelink's: it stays
