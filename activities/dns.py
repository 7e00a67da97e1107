"""A private DNS name for the Service (docs/azure.md §12), part of step ``appSetting``: the setting then holds a
name that survives a new IP, instead of the IP itself.

Zone and link writes are long-running (started here, polled by the orchestrator through
``observe_provisioning``); the record set is written synchronously, and only over what was read: private DNS
takes ``If-Match: <etag>`` (``If-None-Match: *`` for a new record set) and answers 412 when the record changed
meanwhile, so a concurrent writer's change is read again instead of overwritten (README "Concurrent links").
The zone goes in the VNet's resource group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, outcome, run_activity, started
from activities.observe import observe_a_record, observe_dns_link, observe_dns_zone, private_dns
from kubelink.desired import dig
from kubelink.desired.dns import (
    ARecordState,
    DnsResourceState,
    a_record_body,
    diff_a_record,
    diff_zone,
    diff_zone_link,
    link_id,
    link_name,
    record_id,
    zone_body,
    zone_link_body,
)
from kubelink.diff import ResourceChange
from kubelink.errors import TransientError
from kubelink.progress import Step

if TYPE_CHECKING:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    from kubelink.spec import LinkSpec

STEP = Step.APP_SETTING
RECORD_ATTEMPTS = 5  # reads and conditional writes of the record set before giving up to a durable retry

bp = df.Blueprint()


# --- plan and verification: observe → diff, no write ------------------------------------------------


def dns_changes(spec: LinkSpec, ip: str, dns: PrivateDnsManagementClient | None = None) -> list[ResourceChange]:
    """The zone, its link to the VNet and the A record naming ``ip``."""
    dns = dns or private_dns(spec)
    return [
        _zone_change(spec, observe_dns_zone(spec, dns)),
        _link_change(spec, observe_dns_link(spec, dns)),
        _record_change(spec, observe_a_record(spec, dns), ip),
    ]


def _zone_change(spec: LinkSpec, state: DnsResourceState) -> ResourceChange:
    assert spec.dns_zone_id is not None, "only a link with dns has a zone"
    return ResourceChange(STEP, spec.dns_zone_id, state.exists, diff_zone(state))


def _link_change(spec: LinkSpec, state: DnsResourceState) -> ResourceChange:
    return ResourceChange(STEP, link_id(spec, state), state.exists, diff_zone_link(spec, state))


def _record_change(spec: LinkSpec, state: ARecordState, ip: str) -> ResourceChange:
    return ResourceChange(STEP, record_id(spec), state.exists, diff_a_record(state, ip))


# --- activities -------------------------------------------------------------------------------------


@bp.activity_trigger(input_name="payload")
def ensure_dns_zone(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the private DNS zone (global) when it is missing; an existing zone is used as it is."""
    return run_activity(STEP, payload, _ensure_dns_zone)


def _ensure_dns_zone(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from azure.mgmt.privatedns.models import PrivateZone

    assert spec.dns is not None, "only a link with dns has a zone"
    dns = private_dns(spec)
    state = observe_dns_zone(spec, dns)
    rg, zone = spec.dns_resource_group, spec.dns.zone
    body = PrivateZone(zone_body(spec))
    return started(_zone_change(spec, state), state, dns.private_zones.begin_create_or_update, rg, zone, body)


@bp.activity_trigger(input_name="payload")
def ensure_dns_link(payload: dict[str, Any]) -> dict[str, Any]:
    """Link the zone to the VNet (registration off), unless some link of the zone already does."""
    return run_activity(STEP, payload, _ensure_dns_link)


def _ensure_dns_link(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    from azure.mgmt.privatedns.models import VirtualNetworkLink

    assert spec.dns is not None, "only a link with dns has a zone link"
    dns = private_dns(spec)
    state = observe_dns_link(spec, dns)
    rg, zone, name = spec.dns_resource_group, spec.dns.zone, state.name or link_name(spec)
    body = VirtualNetworkLink(zone_link_body(spec))
    begin = dns.virtual_network_links.begin_create_or_update
    return started(_link_change(spec, state), state, begin, rg, zone, name, body)


@bp.activity_trigger(input_name="payload")
def ensure_dns_record(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "value"}``: the A record names the Service's IP ``value`` alone, TTL 300."""
    return run_activity(STEP, payload, _ensure_dns_record)


def _ensure_dns_record(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    ip = str(payload["value"])
    dns = private_dns(spec)
    for _ in range(RECORD_ATTEMPTS):
        state = observe_a_record(spec, dns)
        change = _record_change(spec, state, ip)
        if not change.changes or put_record_over(dns, spec, state, ip):
            return outcome(change)
    raise TransientError(
        "RecordSetContention",
        f"the A record {record_id(spec)} kept changing while kubelink wrote it",
        step=STEP,
        resource=record_id(spec),
    )


def put_record_over(dns: PrivateDnsManagementClient, spec: LinkSpec, state: ARecordState, ip: str) -> bool:
    """PUT the record set as ``state`` (what was read) with kubelink's TTL and ``ip``, only if it is still what
    was read: If-Match its ETag, or If-None-Match: * when it did not exist. False when ARM answers 412."""
    from azure.core import MatchConditions
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.privatedns.models import RecordSet

    assert spec.dns is not None, "only a link with dns has a record"
    rg, zone = spec.dns_resource_group, spec.dns.zone
    condition = MatchConditions.IfNotModified if state.exists else MatchConditions.IfMissing
    try:
        dns.record_sets.create_or_update(
            rg,
            zone,
            "A",
            spec.dns.record,
            RecordSet(a_record_body(state, ip)),
            etag=dig(state.body, "etag"),
            match_condition=condition,
        )
    except HttpResponseError as exc:
        if exc.status_code != 412:
            raise
        return False
    return True
