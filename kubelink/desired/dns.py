"""A private DNS name for the Service's IP (docs/azure.md §12): zone, its link to the VNet, and the A record.

Pure: states are built from ARM REST JSON, bodies are ARM REST JSON. The zone lives in the VNet's resource
group. A VNet can be linked to a zone only once, so a link someone else made is adopted as it is (its
``registrationEnabled`` is theirs); kubelink's own link is ``kubelink-{vnet}``, with registration off. Of the
record kubelink owns the TTL and the address; its metadata stays.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.desired.gateway import repair
from kubelink.diff import DiffItem, diff_fields
from kubelink.ownership import created_tags

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

GLOBAL = "global"
TTL = 300


class DnsResourceState(ArmState):
    """A zone, or a zone's virtual network link."""

    @property
    def name(self) -> str | None:
        return dig(self.body, "name")


def link_name(spec: LinkSpec) -> str:
    """The name of a link kubelink creates (ARM allows 80 characters)."""
    return f"kubelink-{spec.app_vnet_id.rsplit('/', 1)[-1]}"[:80]


def link_to_vnet(spec: LinkSpec, links: Iterable[Mapping[str, Any]]) -> DnsResourceState:
    """The zone's link to the link's VNet, whoever made it."""
    vnet = spec.app_vnet_id.lower()
    found = next((link for link in links if str(dig(link, "properties", "virtualNetwork", "id")).lower() == vnet), None)
    return DnsResourceState(found)


def link_id(spec: LinkSpec, state: DnsResourceState) -> str:
    return f"{spec.dns_zone_id}/virtualNetworkLinks/{state.name or link_name(spec)}"


def record_id(spec: LinkSpec) -> str:
    assert spec.dns is not None, "only a link with dns has a record"
    return f"{spec.dns_zone_id}/A/{spec.dns.record}"


def diff_zone(state: DnsResourceState) -> tuple[DiffItem, ...]:
    if not state.exists:
        return diff_fields({"location": GLOBAL}, None)
    return repair(state.provisioning_state)


def zone_body(spec: LinkSpec) -> dict[str, Any]:
    return {"location": GLOBAL, "tags": created_tags(spec.name)}


def diff_zone_link(spec: LinkSpec, state: DnsResourceState) -> tuple[DiffItem, ...]:
    if not state.exists:
        return diff_fields(
            {"properties.virtualNetwork.id": spec.app_vnet_id, "properties.registrationEnabled": False}, None
        )
    return repair(state.provisioning_state)


def zone_link_body(spec: LinkSpec) -> dict[str, Any]:
    return {
        "location": GLOBAL,
        "tags": created_tags(spec.name),
        "properties": {"virtualNetwork": {"id": spec.app_vnet_id}, "registrationEnabled": False},
    }


class ARecordState(ArmState):
    @property
    def addresses(self) -> list[str] | None:
        records = dig(self.body, "properties", "aRecords")
        return None if records is None else [str(r.get("ipv4Address")) for r in records]


def diff_a_record(state: ARecordState, ip: str) -> tuple[DiffItem, ...]:
    """The record names the Service's IP alone, with a TTL short enough for a re-pointed Service."""
    desired = {"properties.ttl": TTL, "properties.aRecords": [ip]}
    return diff_fields(
        desired, {"properties.ttl": dig(state.body, "properties", "ttl"), "properties.aRecords": state.addresses}
    )


def a_record_body(state: ARecordState, ip: str) -> dict[str, Any]:
    """The observed record set (read-modify-write: its metadata stays) with kubelink's TTL and address."""
    body = copy.deepcopy(dict(state.body or {}))
    props = body.setdefault("properties", {})
    props["ttl"] = TTL
    props["aRecords"] = [{"ipv4Address": ip}]
    return body
