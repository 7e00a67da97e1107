"""Which ARM events concern a link, and which resources a link depends on (the event index's keys).

ARM publishes an Event Grid event for every successful write, delete and action on a subscription's
resources (``Microsoft.Resources.ResourceWriteSuccess``, ``…DeleteSuccess``, ``…ActionSuccess``; README "Drift",
"Within seconds: ARM's events" gives the schema and sources). ``subject`` is the id of the resource written, often
a child (``…/sites/{app}/config/appsettings``, ``…/virtualNetworks/{vnet}/subnets/{name}``), so both the
index and the look-up use the *top-level* resource: the first ``/providers/{namespace}/{type}/{name}``.

Actions that only read (``…/config/list/action``, ``listClusterUserCredential``, ``getvpnclientconnectionhealth``,
``generatevpnclientpackage``…) change nothing: a verification's own ``config/appsettings/list`` is one, and
reacting to it would make every verification start the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"
DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"
ACTION_SUCCESS = "Microsoft.Resources.ResourceActionSuccess"
EVENT_TYPES = (WRITE_SUCCESS, DELETE_SUCCESS, ACTION_SUCCESS)
#: the verb of an action that reads (``listKeys``, ``getvpnclientconnectionhealth``, ``CheckIPAddressAvailability``)
READ_ACTION_PREFIXES = ("list", "get", "generate", "check", "read", "validate")


@dataclass(frozen=True)
class ArmChange:
    """A change ARM reported: the top-level resource it touched, when, and by which operation."""

    resource: str  # lower-cased top-level resource id
    event_time: datetime
    operation: str
    event_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "eventTime": self.event_time.isoformat(),
            "operation": self.operation,
            "eventId": self.event_id,
        }


def top_level_resource(resource_id: str) -> str | None:
    """``/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}``, lower-cased; None when the id
    names no resource under a provider (a resource group, a subscription)."""
    parts = resource_id.strip().split("/")
    if len(parts) < 9 or parts[1].lower() != "subscriptions" or parts[5].lower() != "providers":
        return None
    if parts[3].lower() != "resourcegroups" or not all(parts[1:9]):
        return None
    return "/".join(parts[:9]).lower()


def is_read_action(operation: str) -> bool:
    """``Microsoft.Web/sites/config/list/action`` → True; ``…/restart/action`` → False."""
    segments = operation.lower().split("/")
    return len(segments) >= 2 and segments[-1] == "action" and segments[-2].startswith(READ_ACTION_PREFIXES)


def arm_change(
    event_type: str | None, subject: str | None, event_time: datetime | None, data: Any, event_id: str = ""
) -> ArmChange | None:
    """The change an Event Grid event reports, or None when it cannot concern a link's state."""
    if event_type not in EVENT_TYPES or not subject or event_time is None:
        return None
    operation = str(data.get("operationName") or "") if isinstance(data, dict) else ""
    if isinstance(data, dict) and data.get("status") not in (None, "Succeeded"):
        return None
    if event_type == ACTION_SUCCESS and (not operation or is_read_action(operation)):
        return None
    resource = top_level_resource(subject)
    if resource is None:
        return None
    return ArmChange(resource, event_time, operation, event_id)


def link_dependencies(spec: LinkSpec) -> tuple[str, ...]:
    """The top-level ARM resources whose changes can make the link drift, lower-cased, sorted.

    The Service lives in Kubernetes, which publishes no ARM event: its drift is the sweep's to find.
    """
    ids = [spec.vnet_id, spec.app_id]
    if spec.integration == "gateway":
        ids += [spec.gateway_id, spec.public_ip_id]
    if spec.dns_zone_id:
        ids.append(spec.dns_zone_id)
    if spec.kubernetes.aks_cluster:
        ids.append(spec.kubernetes.aks_cluster)
    return tuple(sorted({found for i in ids if (found := top_level_resource(i))}))
