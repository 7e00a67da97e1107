"""The private DNS name against the sandbox: zone, its link to the VNet, the A record; a second run writes nothing."""

from __future__ import annotations

from typing import Any

from azure.mgmt.privatedns.models import RecordSet, VirtualNetworkLink

from activities.dns import ensure_dns_link, ensure_dns_record, ensure_dns_zone, put_record_over
from activities.observe import observe_a_record
from adapters.clients import privatedns_client
from tests.activities.helpers import Arm, settle
from tests.activities.specs import SUBSCRIPTION, link_spec, payload

DNS = {"zone": "kubelink.internal", "record": "orders"}
ZONE_PATH = "/privateDnsZones/kubelink.internal"


def zoned(arm: Arm) -> dict[str, Any]:
    """A link with ``dns`` whose zone exists."""
    link = payload(dns=DNS)
    assert ensure_dns_zone(link)["ok"]
    settle(link, "dnsZone")
    arm.reset_requests()
    return link


def test_the_zone_is_created_global_once(arm: Arm):
    link = payload(dns=DNS)
    created = ensure_dns_zone(link)
    assert created["ok"], created
    assert created["result"] == "created" and created["provisioningState"] != "Succeeded"
    (put,) = arm.arm_writes()
    assert put["path"].endswith(ZONE_PATH) and put["requestBody"] == {
        "location": "global",
        "tags": {"kubelink-created-by": "orders-api"},
    }
    assert settle(link, "dnsZone")["provisioningState"] == "Succeeded"
    arm.reset_requests()
    assert ensure_dns_zone(link)["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_the_zone_is_linked_to_the_vnet_once_with_registration_off(arm: Arm):
    link = zoned(arm)
    linked = ensure_dns_link(link)
    assert linked["ok"], linked
    assert linked["result"] == "created"
    (put,) = arm.arm_writes()
    assert put["path"].endswith(ZONE_PATH + "/virtualNetworkLinks/kubelink-kube-vnet")
    assert put["requestBody"] == {
        "location": "global",
        "tags": {"kubelink-created-by": "orders-api"},
        "properties": {"virtualNetwork": {"id": link_spec().vnet_id}, "registrationEnabled": False},
    }
    assert settle(link, "dnsLink")["provisioningState"] == "Succeeded"
    arm.reset_requests()
    assert ensure_dns_link(link)["result"] == "unchanged"
    assert arm.arm_writes() == []


def test_someone_elses_link_to_the_vnet_is_adopted(arm: Arm):
    link = zoned(arm)
    theirs = VirtualNetworkLink(
        {
            "location": "global",
            "properties": {"virtualNetwork": {"id": link_spec().vnet_id}, "registrationEnabled": True},
        }
    )
    privatedns_client(SUBSCRIPTION).virtual_network_links.begin_create_or_update(
        "kube-rg", "kubelink.internal", "hub-link", theirs, polling_interval=0.1
    ).result()
    arm.reset_requests()
    adopted = ensure_dns_link(link)
    assert (adopted["result"], adopted["provisioningState"]) == ("unchanged", "Succeeded")
    assert arm.arm_writes() == []


def test_the_record_names_the_ip_and_a_changed_one_is_put_back_keeping_its_metadata(arm: Arm):
    link = {**zoned(arm), "value": "10.240.16.25"}
    created = ensure_dns_record(link)
    assert created["ok"], created
    (put,) = arm.arm_writes()
    assert put["path"].endswith(ZONE_PATH + "/A/orders")
    assert put["requestBody"] == {"properties": {"ttl": 300, "aRecords": [{"ipv4Address": "10.240.16.25"}]}}
    arm.reset_requests()
    assert ensure_dns_record(link)["result"] == "unchanged"
    assert arm.arm_writes() == []

    records = privatedns_client(SUBSCRIPTION).record_sets
    changed = RecordSet(
        {"properties": {"ttl": 60, "metadata": {"owner": "ops"}, "aRecords": [{"ipv4Address": "10.240.16.99"}]}}
    )
    records.create_or_update("kube-rg", "kubelink.internal", "A", "orders", changed)
    repaired = ensure_dns_record(link)
    assert repaired["result"] == "updated"
    assert {c["field"] for c in repaired["changes"]} == {"properties.ttl", "properties.aRecords"}
    now = records.get("kube-rg", "kubelink.internal", "A", "orders").as_dict()["properties"]
    assert (now["ttl"], now["aRecords"], now["metadata"]) == (300, [{"ipv4Address": "10.240.16.25"}], {"owner": "ops"})


def test_a_record_set_changed_since_it_was_read_is_read_again_never_overwritten(arm: Arm):
    """Private DNS's ETags (If-Match; If-None-Match: * for a new record set): a write over a stale read gets 412."""
    link = {**zoned(arm), "value": "10.240.16.25"}
    spec, dns = link_spec(dns=DNS), privatedns_client(SUBSCRIPTION)
    never_seen = observe_a_record(spec, dns)
    assert ensure_dns_record(link)["result"] == "created"
    assert put_record_over(dns, spec, never_seen, "10.240.16.26") is False, "If-None-Match: * on an existing one"

    stale = observe_a_record(spec, dns)
    ours = [{"ipv4Address": "10.240.16.25"}]
    theirs = RecordSet({"properties": {"ttl": 300, "metadata": {"owner": "ops"}, "aRecords": ours}})
    dns.record_sets.create_or_update("kube-rg", "kubelink.internal", "A", "orders", theirs)
    assert put_record_over(dns, spec, stale, "10.240.16.26") is False, "If-Match with the etag read before theirs"
    kept = dns.record_sets.get("kube-rg", "kubelink.internal", "A", "orders").as_dict()["properties"]
    assert (kept["aRecords"], kept["metadata"]) == (ours, {"owner": "ops"})

    moved = ensure_dns_record({**link, "value": "10.240.16.26"})
    assert moved["result"] == "updated"
    now = dns.record_sets.get("kube-rg", "kubelink.internal", "A", "orders").as_dict()["properties"]
    assert (now["aRecords"], now["metadata"]) == ([{"ipv4Address": "10.240.16.26"}], {"owner": "ops"})
