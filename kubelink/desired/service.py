"""The internal-load-balancer ``Service``: which fields kubelink owns, and the patch that fixes only those.

kubelink owns ``spec.type``, ``spec.selector``, ``spec.ports`` and its three Azure annotations. Everything
else (clusterIP, nodePorts, other annotations, labels) belongs to someone else and is never compared or
sent: a patch is strategic-merge with owned fields only, so the apiserver keeps the rest.

Marks (``kubelink.ownership``): a Service kubelink creates carries ``kubelink.io/created-by``; one it adopts and
changes gets ``kubelink.io/adopted-by`` in the same patch, and ``owned_fields`` is what the link record keeps of it,
so that teardown deletes only the first kind and gives the second its fields back (``restore_patch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubelink.desired import dig
from kubelink.diff import DiffItem, FieldPath, path
from kubelink.ownership import ADOPTED_BY_ANNOTATION, CREATED_BY_ANNOTATION

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
INTERNAL_SUBNET = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"
IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
#: cloud-provider-azure's Private Link Service annotations ("Azure Private Link Service integration")
PLS_CREATE = "service.beta.kubernetes.io/azure-pls-create"
PLS_NAME = "service.beta.kubernetes.io/azure-pls-name"
PLS_VISIBILITY = "service.beta.kubernetes.io/azure-pls-visibility"
PLS_AUTO_APPROVAL = "service.beta.kubernetes.io/azure-pls-auto-approval"

LOAD_BALANCER = "LoadBalancer"


@dataclass(frozen=True)
class ServiceState:
    """The Service as the apiserver holds it (REST JSON), or its absence."""

    exists: bool
    annotations: Mapping[str, str] = field(default_factory=dict)
    type: str | None = None
    selector: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[Mapping[str, Any], ...] = ()
    ingress_ip: str | None = None

    @staticmethod
    def from_api(body: Mapping[str, Any] | None) -> ServiceState:
        if body is None:
            return ServiceState(exists=False)
        ingress = dig(body, "status", "loadBalancer", "ingress") or []
        return ServiceState(
            exists=True,
            annotations=dict(dig(body, "metadata", "annotations") or {}),
            type=dig(body, "spec", "type"),
            selector=dict(dig(body, "spec", "selector") or {}),
            ports=tuple(dig(body, "spec", "ports") or ()),
            ingress_ip=next((i["ip"] for i in ingress if i.get("ip")), None),
        )

    def created_by(self, link: str) -> bool:
        return self.annotations.get(CREATED_BY_ANNOTATION) == link

    def adopted_by(self, link: str) -> bool:
        return self.annotations.get(ADOPTED_BY_ANNOTATION) == link

    def owned_fields(self) -> dict[str, Any]:
        """The fields kubelink owns as they are now: what an adopted Service gets back at teardown."""
        return {
            "annotations": {key: self.annotations.get(key) for key in (INTERNAL, INTERNAL_SUBNET, IPV4)},
            "type": self.type,
            "selector": dict(self.selector),
            "ports": [dict(p) for p in self.ports],
        }


def resource_name(spec: LinkSpec) -> str:
    return f"{spec.kubernetes.namespace}/{spec.kubernetes.service}"


def desired_annotations(spec: LinkSpec) -> dict[str, str]:
    """Values are strings: the apiserver rejects a JSON bool, and the 37.x client refuses it."""
    k = spec.kubernetes
    annotations = {INTERNAL: "true"}
    if k.load_balancer_subnet:
        annotations[INTERNAL_SUBNET] = k.load_balancer_subnet
    if k.load_balancer_ip:
        annotations[IPV4] = k.load_balancer_ip
    if spec.integration == "privateLink":
        consumer = spec.app_vnet_id.split("/")[2]  # the private endpoint's subscription: visible and auto-approved
        annotations |= {
            PLS_CREATE: "true",
            PLS_NAME: spec.private_link_service_name,
            PLS_VISIBILITY: consumer,
            PLS_AUTO_APPROVAL: consumer,
        }
    return annotations


def desired_ports(spec: LinkSpec) -> list[dict[str, Any]]:
    return [p.to_json() for p in spec.kubernetes.ports]


def desired_service(spec: LinkSpec) -> dict[str, Any]:
    """The body of a fresh Service (``POST``)."""
    k = spec.kubernetes
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": k.service,
            "namespace": k.namespace,
            "annotations": {**desired_annotations(spec), CREATED_BY_ANNOTATION: spec.name},
        },
        "spec": {"type": LOAD_BALANCER, "selector": dict(k.selector), "ports": desired_ports(spec)},
    }


def diff_service(spec: LinkSpec, state: ServiceState) -> tuple[DiffItem, ...]:
    """Owned fields that differ, compared exactly (Kubernetes labels and names are case-sensitive)."""
    items = [
        _item(("metadata", "annotations", key), state.annotations.get(key), want)
        for key, want in desired_annotations(spec).items()
    ]
    items.append(_item(path("spec.type"), state.type, LOAD_BALANCER))
    items.append(_item(path("spec.selector"), dict(state.selector) or None, dict(spec.kubernetes.selector)))
    want_ports = _comparable_ports(desired_ports(spec), spec)
    have_ports = _comparable_ports(state.ports, spec)
    items.append(_item(path("spec.ports"), have_ports or None, want_ports))
    return tuple(item for item in items if item is not None)


def service_patch(spec: LinkSpec, state: ServiceState) -> dict[str, Any]:
    """A strategic-merge patch carrying only the owned fields that differ (empty when converged).

    Maps merge, so a selector key kubelink does not want is sent as ``null``; ports merge by ``port``, so
    kept ports keep their nodePort and unwanted ones get a ``$patch: delete`` directive.
    """
    patch: dict[str, Any] = {}
    annotations = {k: v for k, v in desired_annotations(spec).items() if state.annotations.get(k) != v}
    body: dict[str, Any] = {}
    if state.type != LOAD_BALANCER:
        body["type"] = LOAD_BALANCER
    selector = dict(spec.kubernetes.selector)
    if dict(state.selector) != selector:
        body["selector"] = {**{k: None for k in state.selector if k not in selector}, **selector}
    ports = desired_ports(spec)
    if _comparable_ports(state.ports, spec) != _comparable_ports(ports, spec):
        wanted = {p["port"] for p in ports}
        extra = [{"port": p["port"], "$patch": "delete"} for p in state.ports if p.get("port") not in wanted]
        body["ports"] = ports + extra
    if body:
        patch["spec"] = body
    if (annotations or body) and not state.created_by(spec.name):
        annotations[ADOPTED_BY_ANNOTATION] = spec.name
    if annotations:
        patch["metadata"] = {"annotations": annotations}
    return patch


def restore_patch(before: Mapping[str, Any], state: ServiceState) -> dict[str, Any]:
    """A JSON merge patch (lists replaced whole, ``null`` deletes a key) giving an adopted Service back the owned
    fields it had (``ServiceState.owned_fields`` at adoption) and dropping kubelink's mark; the rest stays."""
    annotations: dict[str, Any] = {key: before["annotations"].get(key) for key in (INTERNAL, INTERNAL_SUBNET, IPV4)}
    annotations[ADOPTED_BY_ANNOTATION] = None
    selector = {**{k: None for k in state.selector if k not in before["selector"]}, **before["selector"]}
    spec: dict[str, Any] = {"ports": list(before["ports"]), "selector": selector or None}
    if before.get("type"):
        spec["type"] = before["type"]
    return {"metadata": {"annotations": annotations}, "spec": spec}


def _comparable_ports(ports: Any, spec: LinkSpec) -> list[dict[str, Any]]:
    """Owned port keys only (never nodePort), defaults filled, order-free; names only when the spec names ports."""
    keys = ["port", "targetPort", "protocol"]
    if any(p.name for p in spec.kubernetes.ports):
        keys.append("name")
    projected = [{key: port.get(key, "TCP" if key == "protocol" else None) for key in keys} for port in ports]
    return sorted(projected, key=lambda p: (p["port"], p["protocol"]))


def _item(name: FieldPath, have: Any, want: Any) -> DiffItem | None:
    if have == want:
        return None
    return DiffItem("add" if have is None else "change", name, have, want)
