"""What kubelink owns and what it adopted: the marks it leaves, and what it keeps of what it found.

Rule: kubelink removes only what it created, and gives back what it changed. So everything it creates carries a
mark where the platform can hold one, and the link record keeps the rest:

- ARM resources it creates (the gateway, its public IP, the private DNS zone and its VNet link) carry the tag
  ``kubelink-created-by: {link}``; a gateway kubelink created also carries ``kubelink-links`` — the comma-separated
  links using it — rewritten only inside a gateway write a link makes anyway (a tag alone is never worth a 20-60
  minute gateway update).
- Subnets have no tags in ARM: the GatewaySubnet and the app's delegated subnet, when kubelink created them, are
  listed in the link record's ``ownership.created``.
- The Service: one kubelink created carries the annotation ``kubelink.io/created-by: {link}``; one it adopted and
  changed carries ``kubelink.io/adopted-by: {link}``, and the record's ``ownership.adopted.service`` keeps the owned
  fields as they were before (the three Azure annotations, type, selector, ports), which teardown puts back.

- A peering kubelink adopted and turned ``allowVirtualNetworkAccess`` on: ``ownership.adopted[{peering id}]`` keeps
  ``{"properties.allowVirtualNetworkAccess": false}``, which teardown puts back.

Pure: no I/O. The record's ``ownership`` is ``{"created": [resource ids], "adopted": {"service": {...}, {peering id}:
{...}}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CREATED_BY_TAG = "kubelink-created-by"
LINKS_TAG = "kubelink-links"
CREATED_BY_ANNOTATION = "kubelink.io/created-by"
ADOPTED_BY_ANNOTATION = "kubelink.io/adopted-by"
#: ARM tag values hold at most 256 characters
TAG_VALUE_MAX = 256

SERVICE = "service"


def created_tags(link: str) -> dict[str, str]:
    return {CREATED_BY_TAG: link}


def created_by(tags: Mapping[str, Any] | None) -> str | None:
    """The link that created an ARM resource, from its tags (ARM compares tag names case-insensitively)."""
    for name, value in (tags or {}).items():
        if name.lower() == CREATED_BY_TAG:
            return str(value)
    return None


def tagged_links(tags: Mapping[str, Any] | None) -> tuple[str, ...]:
    for name, value in (tags or {}).items():
        if name.lower() == LINKS_TAG:
            return tuple(sorted({v for v in str(value).split(",") if v}))
    return ()


def with_links(tags: Mapping[str, Any] | None, links: Iterable[str]) -> dict[str, str]:
    """``tags`` with ``kubelink-links`` set to ``links`` (dropped when empty or too long for one tag value)."""
    kept = {k: str(v) for k, v in (tags or {}).items() if k.lower() != LINKS_TAG}
    value = ",".join(sorted(set(links)))
    if value and len(value) <= TAG_VALUE_MAX:
        kept[LINKS_TAG] = value
    return kept


def ownership_label(owned: bool) -> str:
    """How plan rows and drift records name the relation: ``owned`` (kubelink created it) or ``adopted``."""
    return "owned" if owned else "adopted"


@dataclass(frozen=True)
class Ownership:
    """The link record's ``ownership``: resources this link created, and what it found before changing others."""

    created: tuple[str, ...] = ()
    adopted: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> Ownership:
        data = data or {}
        return Ownership(tuple(data.get("created") or ()), dict(data.get("adopted") or {}))

    def to_json(self) -> dict[str, Any]:
        return {"created": list(self.created), "adopted": dict(self.adopted)}

    def created_here(self, resource_id: str) -> bool:
        return resource_id.lower() in {c.lower() for c in self.created}

    def adopted_fields(self, resource_id: str) -> Mapping[str, Any]:
        """What an adopted ARM resource's owned fields were before the link changed them (``{}`` if it did not)."""
        wanted = resource_id.lower()
        return next((fields for key, fields in self.adopted.items() if key.lower() == wanted), {})

    def relation(self, resource_id: str, exists: bool) -> str:
        """``owned`` (this link created it, or would) or ``adopted`` (it was there before the link), for plan rows and
        drift records. A resource kubelink created for another link counts as adopted by this one."""
        return ownership_label(not exists or self.created_here(resource_id))

    def label(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Plan rows (``ResourceChange.to_json``) with their ``ownership``."""
        return [{**row, "ownership": self.relation(str(row["resource"]), row["action"] != "create")} for row in rows]

    def merged(self, created: Iterable[str] = (), adopted: Mapping[str, Mapping[str, Any]] | None = None) -> Ownership:
        """New creations added; an adoption is kept as first recorded (that is what the resource was before)."""
        known = {c.lower() for c in self.created}
        more = [c for c in created if c.lower() not in known]
        return Ownership(
            (*self.created, *dict.fromkeys(more)),
            {**(adopted or {}), **self.adopted},
        )
