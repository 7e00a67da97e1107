"""Private DNS: zone, its link to the VNet, the A record (pure)."""

from __future__ import annotations

from kubelink.desired.dns import (
    ARecordState,
    DnsResourceState,
    a_record_body,
    diff_a_record,
    diff_zone,
    diff_zone_link,
    link_id,
    link_to_vnet,
    record_id,
    zone_link_body,
)
from tests.activities.specs import link_spec

SPEC = link_spec(dns={"zone": "kubelink.internal", "record": "orders"})


def test_missing_zone_and_link_are_created_global_with_registration_off():
    assert [(i.field_text, i.new) for i in diff_zone(DnsResourceState(None))] == [("location", "global")]
    missing = link_to_vnet(SPEC, [])
    assert {i.field_text: i.new for i in diff_zone_link(SPEC, missing)} == {
        "properties.virtualNetwork.id": SPEC.vnet_id,
        "properties.registrationEnabled": False,
    }
    assert zone_link_body(SPEC)["properties"] == {"virtualNetwork": {"id": SPEC.vnet_id}, "registrationEnabled": False}
    assert link_id(SPEC, missing).endswith("/privateDnsZones/kubelink.internal/virtualNetworkLinks/kubelink-kube-vnet")


def test_someone_elses_link_to_the_vnet_is_adopted_as_it_is():
    theirs = {
        "name": "hub-link",
        "properties": {
            "virtualNetwork": {"id": SPEC.vnet_id.upper()},
            "registrationEnabled": True,
            "provisioningState": "Succeeded",
        },
    }
    other = {"name": "x", "properties": {"virtualNetwork": {"id": "/subscriptions/x/other"}}}
    found = link_to_vnet(SPEC, [other, theirs])
    assert found.name == "hub-link" and diff_zone_link(SPEC, found) == ()
    assert link_id(SPEC, found).endswith("/virtualNetworkLinks/hub-link")


def test_the_record_names_the_ip_alone_with_ttl_300_keeping_its_metadata():
    assert record_id(SPEC).endswith("/privateDnsZones/kubelink.internal/A/orders")
    assert {i.field_text: (i.old, i.new) for i in diff_a_record(ARecordState(None), "10.240.16.25")} == {
        "properties.ttl": (None, 300),
        "properties.aRecords": (None, ["10.240.16.25"]),
    }
    drifted = ARecordState(
        {
            "properties": {
                "ttl": 300,
                "metadata": {"owner": "ops"},
                "aRecords": [{"ipv4Address": "10.240.16.99"}, {"ipv4Address": "10.240.16.25"}],
            }
        }
    )
    (item,) = diff_a_record(drifted, "10.240.16.25")
    assert (item.field_text, item.old, item.new) == (
        "properties.aRecords",
        ["10.240.16.99", "10.240.16.25"],
        ["10.240.16.25"],
    )
    body = a_record_body(drifted, "10.240.16.25")
    assert body["properties"] == {
        "ttl": 300,
        "metadata": {"owner": "ops"},
        "aRecords": [{"ipv4Address": "10.240.16.25"}],
    }
    assert diff_a_record(ARecordState(body), "10.240.16.25") == ()


def test_the_app_setting_holds_the_name_when_there_is_one():
    from kubelink.desired.app_setting import setting_value

    assert setting_value(SPEC, "10.240.16.25") == "orders.kubelink.internal"
    assert setting_value(link_spec(dns={"zone": "kubelink.internal", "record": "@"}), "10.240.16.25") == (
        "kubelink.internal"
    )
    assert setting_value(link_spec(), "10.240.16.25") == "10.240.16.25"
