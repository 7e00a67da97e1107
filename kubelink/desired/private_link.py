"""``integration: privateLink``: the private endpoint in the app's VNet towards the Private Link Service AKS's cloud
provider makes from the Service's ``azure-pls-*`` annotations (README "Which path for which topology").

Pure: states from ARM REST JSON (the endpoint, and its NIC for the private IP), bodies as ARM REST JSON (as
azure-rest-api-specs' PrivateEndpointCreate.json, 2025-05-01). kubelink owns the endpoint ``kubelink-{link}`` and
its endpoint subnet's prefix when it creates the subnet; an adopted subnet is kept as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired import ArmState, dig
from kubelink.diff import DiffItem, diff_fields

APPROVED, PENDING, REJECTED = "Approved", "Pending", "Rejected"
CONNECTION = "kubelink"
PLS_ID = "properties.privateLinkServiceConnections[0].properties.privateLinkServiceId"
SUBNET_ID = "properties.subnet.id"

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


@dataclass(frozen=True)
class EndpointState(ArmState):
    """The private endpoint, and its NIC's private IP (``ip``)."""

    ip: str | None = None

    @property
    def connection(self) -> Mapping[str, Any] | None:
        props = dig(self.body, "properties") or {}
        found = [
            *(props.get("privateLinkServiceConnections") or []),
            *(props.get("manualPrivateLinkServiceConnections") or []),
        ]
        return found[0] if found else None

    @property
    def status(self) -> str | None:
        return dig(self.connection, "properties", "privateLinkServiceConnectionState", "status")

    @property
    def service_id(self) -> str | None:
        return dig(self.connection, "properties", "privateLinkServiceId")

    @property
    def nic_id(self) -> str | None:
        nics = dig(self.body, "properties", "networkInterfaces") or []
        return nics[0].get("id") if nics else None


def diff_endpoint(spec: LinkSpec, state: EndpointState, service_id: str) -> tuple[DiffItem, ...]:
    """Where the endpoint sits and what it connects to (both fixed once made: a change means a new endpoint)."""
    have = None
    if state.exists:
        have = {
            SUBNET_ID: str(dig(state.body, "properties", "subnet", "id") or "").lower(),
            PLS_ID: str(state.service_id or "").lower(),
        }
    want = {SUBNET_ID: str(spec.endpoint_subnet_id).lower(), PLS_ID: service_id.lower()}
    return diff_fields(want, have)


def endpoint_body(spec: LinkSpec, service_id: str, location: str | None) -> dict[str, Any]:
    return {
        "location": location,
        "properties": {
            "subnet": {"id": spec.endpoint_subnet_id},
            "privateLinkServiceConnections": [
                {
                    "name": CONNECTION,
                    "properties": {
                        "privateLinkServiceId": service_id,
                        "requestMessage": f"kubelink link {spec.name}: app {spec.app.name} reaches Service "
                        f"{spec.kubernetes.namespace}/{spec.kubernetes.service}",
                    },
                }
            ],
        },
    }


def endpoint_subnet_body(spec: LinkSpec) -> dict[str, Any]:
    """A plain subnet for private endpoints (no delegation: Azure refuses endpoints in a delegated subnet)."""
    assert spec.private_link is not None, "only a privateLink link has an endpoint subnet"
    subnet = spec.private_link.endpoint_subnet
    return {
        "name": subnet.name,
        "properties": {"addressPrefix": subnet.prefix, "privateEndpointNetworkPolicies": "Disabled"},
    }


def diff_endpoint_subnet(spec: LinkSpec, state: ArmState) -> tuple[DiffItem, ...]:
    """A missing subnet is created; an existing one is adopted as it is (pre-flight checks its prefix)."""
    assert spec.private_link is not None, "only a privateLink link has an endpoint subnet"
    return (
        ()
        if state.exists
        else diff_fields({"properties.addressPrefix": spec.private_link.endpoint_subnet.prefix}, None)
    )


def pending_message(spec: LinkSpec, state: EndpointState) -> str:
    """What the Private Link Service's owner must do for a connection left Pending (or how a Rejected one ends)."""
    endpoint = spec.private_endpoint_id.rsplit("/", 1)[-1]
    service = str(state.service_id or spec.private_link_service_name)
    if state.status == REJECTED:
        return (
            f"the owner of Private Link Service {service} rejected private endpoint {endpoint}'s connection; delete "
            "the endpoint and POST the link again once they will approve it"
        )
    return (
        f"private endpoint {endpoint}'s connection to Private Link Service {service} is {state.status}: its owner must "
        "approve it (az network private-link-service connection update --connection-status Approved), or list the "
        "app's subscription in the Service's azure-pls-auto-approval annotation; POST the link again afterwards"
    )
