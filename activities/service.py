"""Step ``service``: the internal-load-balancer Service on the cluster, and the private IP Azure gives it.

The Kubernetes client is used with ``_preload_content=False``: kubelink reads and writes REST JSON, the
same shape the pure ``kubelink.desired.service`` works on, and never depends on the 37.x pydantic models
matching the apiserver's version. In that mode the client's typed signatures (pydantic models in, models
out) don't describe the calls, so the API object is held as ``Any``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, outcome, run_activity
from kubelink.desired import dig
from kubelink.desired.service import ServiceState, desired_service, diff_service, resource_name, service_patch
from kubelink.diff import ResourceChange
from kubelink.errors import PermanentError
from kubelink.ownership import SERVICE
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

STEP = Step.SERVICE
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
REQUEST_TIMEOUT = 30
#: how many recent Warning events explain a missing IP
WARNINGS_SHOWN = 5

bp = df.Blueprint()


def observe_service(spec: LinkSpec, core: Any = None) -> ServiceState:
    return ServiceState.from_api(_read_service(core or core_api(spec), spec))


def plan_service(spec: LinkSpec) -> ResourceChange:
    """What ``ensure_service`` would do, without doing it (plan and drift)."""
    state = observe_service(spec)
    return ResourceChange(STEP, resource_name(spec), state.exists, diff_service(spec, state))


@bp.activity_trigger(input_name="payload")
def ensure_service(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the Service, adopt it as is, or patch only the owned fields that differ."""
    return run_activity(STEP, payload, _ensure_service, resource=resource_name)


def _ensure_service(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    """Also says what the link record must keep: ``adopted`` is the owned fields of a Service kubelink changes for
    the first time (it carries no mark of this link yet), as they were before the patch."""
    core = core_api(spec)
    k = spec.kubernetes
    state = observe_service(spec, core)
    change = ResourceChange(STEP, resource_name(spec), state.exists, diff_service(spec, state))
    first_adoption = (
        state.exists and bool(change.changes) and not (state.created_by(spec.name) or state.adopted_by(spec.name))
    )
    adopted = {SERVICE: state.owned_fields()} if first_adoption else {}
    if not state.exists:
        created = core.create_namespaced_service(
            k.namespace, desired_service(spec), _preload_content=False, _request_timeout=REQUEST_TIMEOUT
        )
        state = ServiceState.from_api(json.loads(created.data))
    elif change.changes:
        patched = core.patch_namespaced_service(
            k.service,
            k.namespace,
            service_patch(spec, state),
            _content_type=STRATEGIC_MERGE,
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )
        state = ServiceState.from_api(json.loads(patched.data))
    return {**outcome(change), "ip": state.ingress_ip, "adopted": adopted}


@bp.activity_trigger(input_name="payload")
def observe_service_ip(payload: dict[str, Any]) -> dict[str, Any]:
    """The Service's private IP, or, while it has none, the recent Warning events saying why."""
    return run_activity(STEP, payload, _observe_service_ip, resource=resource_name)


def _observe_service_ip(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    core = core_api(spec)
    state = observe_service(spec, core)
    if not state.exists:
        where = resource_name(spec)
        raise PermanentError("ServiceNotFound", f"Service {where} no longer exists", step=STEP, resource=where)
    if state.ingress_ip:
        return {"ip": state.ingress_ip, "warnings": []}
    return {"ip": None, "warnings": _warnings(core, spec)}


def service_warnings(spec: LinkSpec) -> list[str]:
    """The Service's recent Warning events (why the cloud has not done what its annotations ask)."""
    return _warnings(core_api(spec), spec)


def _warnings(core: Any, spec: LinkSpec) -> list[str]:
    k = spec.kubernetes
    response = core.list_namespaced_event(
        k.namespace,
        field_selector=f"involvedObject.kind=Service,involvedObject.name={k.service}",
        _preload_content=False,
        _request_timeout=REQUEST_TIMEOUT,
    )
    events = [e for e in json.loads(response.data).get("items") or [] if e.get("type") == "Warning"]
    events.sort(key=_event_time)
    return [f"{e.get('reason')}: {e.get('message')}" for e in events[-WARNINGS_SHOWN:]]


def _event_time(event: dict[str, Any]) -> str:
    """RFC 3339 UTC timestamps sort as strings; core/v1 events carry one of these three."""
    stamp = event.get("lastTimestamp") or event.get("eventTime") or dig(event, "metadata", "creationTimestamp")
    return str(stamp or "")


def _read_service(core: Any, spec: LinkSpec) -> dict[str, Any] | None:
    from kubernetes.client.exceptions import ApiException

    try:
        response = core.read_namespaced_service(
            spec.kubernetes.service, spec.kubernetes.namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    body: dict[str, Any] = json.loads(response.data)
    return body


def core_api(spec: LinkSpec) -> Any:
    from adapters.clients import kube_core_api

    return kube_core_api(spec)
