"""``POST /api/plan``: what provisioning would do for a spec, computed by provisioning's own code, writing nothing.

Each row comes from the ``plan_*`` function of the activity that would make the change (observe → diff,
the same diff its ``ensure_*`` applies), so a plan cannot promise something provisioning then does
differently. Those functions read Azure and Kubernetes, so they are imported when a plan is asked for,
not when this module is: the core package stays free of SDKs at cold start.

Two values only exist once provisioning has run, and the plan says so instead of guessing: the app's
certificate (Azure issues it when the VNet is declared on the app) and the Service's private IP (Azure
assigns it, unless ``loadBalancerIP`` pins it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubelink.desired.app_setting import setting_value
from kubelink.desired.gateway import RootCertificate, root_certificate_name
from kubelink.diff import ResourceChange

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec


@dataclass(frozen=True)
class CertificateToBeIssued(RootCertificate):
    """Stands for the app's certificate before Azure issues it: trusted by no gateway, named in words."""

    @property
    def der(self) -> bytes:
        return b"kubelink: not issued yet"  # never a DER certificate, so no gateway's root certificate matches

    @property
    def thumbprint(self) -> str:
        return "the app's certificate (issued when the VNet is declared on the app)"


def plan(spec: LinkSpec) -> dict[str, Any]:
    """``{"changes": [{step, resource, action, fields}]}`` in provisioning's step order."""
    return {"changes": [change.to_json() for change in planned_changes(spec)]}


def planned_changes(spec: LinkSpec) -> list[ResourceChange]:
    from activities.app_setting import plan_app_setting
    from activities.dns import dns_changes
    from activities.observe import network, web
    from activities.regional import plan_regional, routing_change
    from activities.service import plan_service
    from kubelink.desired.regional import needs_route_all

    client, net = web(spec), network(spec)
    changes = [plan_service(spec)]
    if spec.integration == "gateway":
        changes += _gateway_path(spec, net, client)
    else:
        changes += plan_regional(spec, net, client)
        if spec.integration == "regional" and spec.app.virtual_network is not None:
            from activities.peering import peering_changes

            changes += peering_changes(spec)
        if spec.integration == "privateLink":
            from activities.private_link import endpoint_changes

            changes += endpoint_changes(spec)
    address = _address(spec)
    if spec.integration != "gateway" and needs_route_all(address):
        changes.append(routing_change(spec, address, client))
    if spec.dns:
        changes += dns_changes(spec, address)
    changes.append(plan_app_setting(spec, setting_value(spec, address), client))
    return changes


def _address(spec: LinkSpec) -> str:
    """The Service's (pinned or assigned) address, or words for it before Azure assigns one; on the private-link
    path, the private endpoint's."""
    from activities.service import observe_service

    if spec.integration == "privateLink":
        from activities.private_link import observe_endpoint

        return observe_endpoint(spec).ip or f"the private IP of private endpoint kubelink-{spec.name}"

    address = spec.kubernetes.load_balancer_ip or observe_service(spec).ingress_ip
    return address or f"the private IP Azure gives Service {spec.kubernetes.namespace}/{spec.kubernetes.service}"


def _gateway_path(spec: LinkSpec, net: Any, client: Any) -> list[ResourceChange]:
    from activities.gateway import plan_gateway, plan_gateway_subnet, plan_public_ip
    from activities.observe import observe_vnet_connection
    from activities.vnet_integration import plan_app_gateway, plan_vnet_connection

    certificate = observe_vnet_connection(spec, client).certificate or CertificateToBeIssued(
        root_certificate_name(spec), ""
    )
    gateway, point_to_site = plan_gateway(spec, certificate, net)
    return [
        plan_gateway_subnet(spec, net),
        plan_public_ip(spec, net),
        gateway,
        point_to_site,
        plan_vnet_connection(spec, client),
        plan_app_gateway(spec, client, net),
    ]
