"""Private DNS through azure-mgmt-privatedns 2.0.0: zones and links as 202 LROs, A records synchronous."""

from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.privatedns import models as pm

from local.sandbox import SandboxServer

from .conftest import POLL, arm, code_of, rid

RG = "kube-rg"
ZONE = "orders.internal"
VNET_ID = rid(RG, "Microsoft.Network", "virtualNetworks", "kube-vnet")
API = {"api-version": "2024-06-01"}


def zone(dns: PrivateDnsManagementClient) -> pm.PrivateZone:
    return dns.private_zones.begin_create_or_update(
        RG, ZONE, pm.PrivateZone({"location": "global"}), polling_interval=POLL
    ).result()


def link(dns: PrivateDnsManagementClient, name: str = "kube-vnet-link") -> pm.VirtualNetworkLink:
    body = pm.VirtualNetworkLink(
        {"location": "global", "properties": {"virtualNetwork": {"id": VNET_ID}, "registrationEnabled": False}}
    )
    return dns.virtual_network_links.begin_create_or_update(RG, ZONE, name, body, polling_interval=POLL).result()


def test_zone_put_is_202_with_private_dns_status_urls(sandbox: SandboxServer) -> None:
    response = arm(
        sandbox, "PUT", rid(RG, "Microsoft.Network", "privateDnsZones", ZONE), params=API, json={"location": "global"}
    )
    assert response.status_code == 202
    assert "/providers/Microsoft.Network/privateDnsOperationStatuses/" in response.headers["Azure-AsyncOperation"]
    assert "/providers/Microsoft.Network/privateDnsOperationResults/" in response.headers["Location"]


def test_zone_link_and_record(dns: PrivateDnsManagementClient) -> None:
    created = zone(dns)
    assert (created.name, created.location, created.provisioning_state) == (ZONE, "global", "Succeeded")
    linked = link(dns)
    assert (linked.virtual_network.id, linked.virtual_network_link_state, linked.provisioning_state) == (
        VNET_ID,
        "Completed",
        "Succeeded",
    )
    record = pm.RecordSet({"properties": {"ttl": 300, "aRecords": [{"ipv4Address": "10.240.16.25"}]}})
    saved = dns.record_sets.create_or_update(RG, ZONE, "A", "orders", record)
    assert (saved.fqdn, saved.a_records[0].ipv4_address, saved.ttl) == ("orders.orders.internal.", "10.240.16.25", 300)
    assert [r.name for r in dns.record_sets.list_by_type(RG, ZONE, "A")] == ["orders"]
    got = dns.private_zones.get(RG, ZONE)
    assert (got.number_of_virtual_network_links, got.number_of_record_sets) == (1, 2)


def test_a_vnet_links_to_a_zone_once(dns: PrivateDnsManagementClient) -> None:
    zone(dns)
    link(dns)
    with pytest.raises(ResourceExistsError) as caught:
        link(dns, "second-link")
    assert code_of(caught) == "Conflict"


def test_zone_must_be_global_and_records_need_a_zone(dns: PrivateDnsManagementClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        dns.private_zones.begin_create_or_update(RG, ZONE, pm.PrivateZone({"location": "westeurope"}))
    assert code_of(caught) == "LocationNotAvailableForResourceType"
    with pytest.raises(ResourceNotFoundError) as missing:
        dns.record_sets.create_or_update(RG, "nozone.internal", "A", "x", pm.RecordSet({"properties": {"ttl": 1}}))
    assert code_of(missing) == "ParentResourceNotFound"


def test_zone_with_links_cannot_be_deleted_until_they_are(dns: PrivateDnsManagementClient) -> None:
    zone(dns)
    link(dns)
    with pytest.raises(ResourceExistsError) as caught:
        dns.private_zones.begin_delete(RG, ZONE)
    assert code_of(caught) == "CannotDeleteResource"
    dns.virtual_network_links.begin_delete(RG, ZONE, "kube-vnet-link", polling_interval=POLL).result()
    dns.private_zones.begin_delete(RG, ZONE, polling_interval=POLL).result()
    with pytest.raises(ResourceNotFoundError):
        dns.private_zones.get(RG, ZONE)


def test_record_etag_preconditions(dns: PrivateDnsManagementClient) -> None:
    zone(dns)
    record = pm.RecordSet({"properties": {"ttl": 300, "aRecords": [{"ipv4Address": "10.240.16.25"}]}})
    saved = dns.record_sets.create_or_update(RG, ZONE, "A", "orders", record)
    with pytest.raises(HttpResponseError) as exists:
        dns.record_sets.create_or_update(RG, ZONE, "A", "orders", record, match_condition=MatchConditions.IfMissing)
    assert exists.value.status_code == 412
    dns.record_sets.create_or_update(
        RG, ZONE, "A", "orders", record, etag=saved.etag, match_condition=MatchConditions.IfNotModified
    )
    with pytest.raises(ResourceModifiedError):
        dns.record_sets.create_or_update(
            RG, ZONE, "A", "orders", record, etag=saved.etag, match_condition=MatchConditions.IfNotModified
        )
