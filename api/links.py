"""The HTTP API (README, "HTTP API"): start, read and verify links.

Every route answers in the README's shapes and errors. A request is judged entirely before anything is
started or written: body (400), scopes (403), singleton (409); only then does the orchestration start and
the link record get written, so a refused request leaves no trace.

The handlers are ``async`` (Durable client functions must be); the Table store's calls are blocking, so
they run in a worker thread and never stall the event loop other invocations share.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import aiohttp
import azure.durable_functions as df
import azure.functions as func

from adapters import settings
from adapters.clients import arm_error, is_platform_error
from adapters.runs import (
    PROVISION_ORCHESTRATOR,
    TEARDOWN_ORCHESTRATOR,
    VERIFY_ORCHESTRATOR,
    active_run,
    instance_active,
    start_singleton,
)
from adapters.store import LinkRecord, LinkStore
from api.http import error_response, invalid_spec_response, json_response, kubelink_error_response
from kubelink.conditions import READY, Condition
from kubelink.errors import InvalidLinkSpec, KubelinkError
from kubelink.names import provision_instance_id, teardown_instance_id, verify_instance_id
from kubelink.options import RunOptions
from kubelink.ownership import Ownership
from kubelink.sharing import sharing
from kubelink.validation import is_link_name, parse_link_spec

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

bp = df.Blueprint()
log = logging.getLogger(__name__)

DRIFT_PAGE_DEFAULT, DRIFT_PAGE_MAX = 100, 1000


# --- routes ----------------------------------------------------------------------------------------


@bp.route(route="links", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def start_link(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """POST /api/links: provision (or re-converge) a link; 202 with the check-status body."""
    return await _answer(_start_link(req, client))


@bp.route(route="links", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def list_links(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/links: every link record."""
    return await _answer(_list_links())


@bp.route(route="links/{name}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def get_link(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/links/{name}: one link record, or 404."""
    return await _answer(_get_link(req.route_params.get("name", "")))


@bp.route(route="links/{name}/drift", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def get_link_drift(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/links/{name}/drift[?top=N]: the link's newest drift records (default 100), newest first."""
    return await _answer(_get_link_drift(req))


@bp.route(route="plan", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def plan_link_http(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/plan: what provisioning would change for a spec (``{"changes": [...]}``), writing nothing."""
    return await _answer(_plan(req))


@bp.route(route="links/{name}/verify", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def verify_link_now(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """POST /api/links/{name}/verify: start a verification of a provisioned link; 202 with its check-status body."""
    return await _answer(_verify_link_now(req, client))


@bp.route(route="links/{name}", methods=["DELETE"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def delete_link(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """DELETE /api/links/{name}[?deleteSharedResources=true]: tear the link down; 202 with the check-status body."""
    return await _answer(_delete_link(req, client))


# --- handlers ----------------------------------------------------------------------------------------


async def _start_link(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        spec = parse_link_spec(req.get_body())
    except InvalidLinkSpec as invalid:
        return invalid_spec_response(invalid)
    if refusal := _scope_refusal(spec):
        return refusal
    options = _run_options()
    instance_id = provision_instance_id(spec.name)
    run = {"spec": spec.to_json(), "options": options}
    running = await active_run(client, [instance_id, teardown_instance_id(spec.name)])
    if running:
        return _busy_response(client, running, f"Link {spec.name} has a run under way (provisioning or teardown)")
    if busy := await _start(
        client, PROVISION_ORCHESTRATOR, instance_id, run, f"Link {spec.name} is already being provisioned"
    ):
        return busy
    provisioning = Condition(READY, "Unknown", "Provisioning", f"Provisioning started ({instance_id})", "Info")
    await _record(spec.name, spec=spec.to_json(), provision_instance=instance_id, conditions=[provisioning])
    return client.create_check_status_response(req, instance_id)


async def _plan(req: func.HttpRequest) -> func.HttpResponse:
    if "teardown" in req.params:
        return await _plan_teardown(req)
    try:
        spec = parse_link_spec(req.get_body())
    except InvalidLinkSpec as invalid:
        return invalid_spec_response(invalid)
    if refusal := _scope_refusal(spec):  # a plan reads the same resources provisioning would write
        return refusal
    from activities.planning import plan  # imports the SDKs: only when a plan is asked for

    record = await _find(spec.name)  # what this link already owns, when it has been provisioned
    owned = Ownership.from_json(record.ownership if record else None)
    try:
        planned = await asyncio.to_thread(plan, spec)
        return json_response({**planned, "changes": owned.label(planned["changes"])})
    except Exception as exc:
        if not is_platform_error(exc):
            raise
        error = arm_error(exc, step="plan")
        # Azure or Kubernetes refused to answer: a bad gateway, with the platform's own code and message
        status = 503 if error.transient else 502
        return error_response(status, error.code, error.message, resource=error.resource)


async def _list_links() -> func.HttpResponse:
    records = await asyncio.to_thread(_store().list_links)
    return json_response({"value": [r.to_json() for r in records]})


async def _get_link(name: str) -> func.HttpResponse:
    record = await _find(name)
    return json_response(record.to_json()) if record else _not_found(name)


async def _get_link_drift(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    top_text = req.params.get("top", str(DRIFT_PAGE_DEFAULT))
    if not top_text.isdigit() or not 1 <= int(top_text) <= DRIFT_PAGE_MAX:
        return error_response(400, "InvalidQuery", f"top must be a whole number from 1 to {DRIFT_PAGE_MAX}")
    if not await _find(name) and not await _removed(name):  # a torn-down link's history is kept a while
        return _not_found(name)
    records = await asyncio.to_thread(_store().list_drift, name, int(top_text))
    return json_response({"value": [r.to_json() for r in records]})


async def _verify_link_now(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    record = await _find(name)
    if record is None:
        return _not_found(name)
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    if refusal := _scope_refusal(LinkSpec.from_json(record.spec)):
        return refusal
    options = _run_options()
    instance_id = verify_instance_id(name)
    # Verifying halfway through provisioning (or teardown) would report the unfinished steps as drift.
    running = await active_run(client, [provision_instance_id(name), teardown_instance_id(name)])
    if running:
        return _busy_response(client, running, f"Link {name} is being provisioned or torn down; verify it after")
    if busy := await _start(
        client,
        VERIFY_ORCHESTRATOR,
        instance_id,
        {"name": name, "options": options},
        f"Link {name} is already being verified",
    ):
        return busy
    await _record(name, verify_instance=instance_id)
    return client.create_check_status_response(req, instance_id)


async def _teardown_target(req: func.HttpRequest, name: str) -> tuple[LinkRecord, LinkSpec, str] | func.HttpResponse:
    """What a teardown and its plan both judge first: the query, the link's existence, the scopes of its spec."""
    shared = req.params.get("deleteSharedResources", "false").lower()
    if shared not in ("true", "false"):
        return error_response(400, "InvalidQuery", "deleteSharedResources must be true or false")
    record = await _find(name)
    if record is None:
        return _not_found(name)
    spec = _stored_spec(record)
    if refusal := _scope_refusal(spec):
        return refusal
    return record, spec, shared


async def _delete_link(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    judged = await _teardown_target(req, name)
    if isinstance(judged, func.HttpResponse):
        return judged
    record, _spec, shared = judged
    instance_id = teardown_instance_id(name)
    running = await active_run(client, [provision_instance_id(name), verify_instance_id(name)])
    if running:
        return _busy_response(client, running, f"Link {name} has a run under way; DELETE it when that run ends")
    run = {
        "name": name,
        "spec": record.spec,
        "ownership": record.ownership or {},
        "deleteSharedResources": shared == "true",
        "sharedWith": await _shared_with(record),
        "options": _run_options(),
    }
    if busy := await _start(client, TEARDOWN_ORCHESTRATOR, instance_id, run, f"Link {name} is already being torn down"):
        return busy
    tearing = Condition(READY, "Unknown", "TearingDown", f"Teardown started ({instance_id})", "Info")
    await _record(name, conditions=[tearing])
    return client.create_check_status_response(req, instance_id)


async def _plan_teardown(req: func.HttpRequest) -> func.HttpResponse:
    """``POST /api/plan?teardown={name}[&deleteSharedResources=true]``: what ``DELETE /api/links/{name}`` would do,
    as ``{"changes": [{step, resource, action: delete|restore|keep, reason?}]}``, writing nothing."""
    name = req.params.get("teardown", "")
    judged = await _teardown_target(req, name)
    if isinstance(judged, func.HttpResponse):
        return judged
    record, spec, shared = judged
    from activities.teardown import plan_teardown  # imports the SDKs: only when a plan is asked for

    others = await _shared_with(record)
    try:
        rows = await asyncio.to_thread(plan_teardown, spec, record.ownership or {}, others, shared == "true")
    except Exception as exc:
        if not is_platform_error(exc):
            raise
        error = arm_error(exc, step="plan")
        return error_response(503 if error.transient else 502, error.code, error.message, resource=error.resource)
    return json_response({"changes": rows})


async def _shared_with(record: LinkRecord) -> dict[str, list[str]]:
    """``{part: [links]}``: the other links that use what this link uses too (``kubelink.sharing``: its gateway,
    its peering, its private endpoint and endpoint subnet), who else a shared resource serves."""
    links = await asyncio.to_thread(_store().list_links)
    return sharing(_stored_spec(record), [_stored_spec(other) for other in links if other.name != record.name])


# --- steps shared by the handlers ----------------------------------------------------------------------


def _stored_spec(record: LinkRecord) -> LinkSpec:
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    return LinkSpec.from_json(record.spec)


def _scope_refusal(spec: LinkSpec) -> func.HttpResponse | None:
    allowed = settings.allowed_scopes()
    refused = settings.check_scopes(spec, allowed)
    if not refused:
        return None
    return error_response(403, "ScopeNotAllowed", settings.scopes_refusal(refused, allowed))


def _run_options() -> dict[str, Any]:
    return RunOptions.for_poll_seconds(settings.poll_seconds()).to_json()


async def _busy(client: df.DurableOrchestrationClient, instance_id: str, message: str) -> func.HttpResponse | None:
    """409 ``LinkBusy`` (with that run's status URL) while ``instance_id`` runs, else None."""
    if not await instance_active(client, instance_id):
        return None
    return _busy_response(client, instance_id, message)


def _busy_response(client: df.DurableOrchestrationClient, instance_id: str, message: str) -> func.HttpResponse:
    status_uri = client.create_http_management_payload(instance_id)["statusQueryGetUri"]
    return error_response(
        409, "LinkBusy", f"{message}: follow statusQueryGetUri", instanceId=instance_id, statusQueryGetUri=status_uri
    )


async def _start(
    client: df.DurableOrchestrationClient, orchestrator: str, instance_id: str, run: dict[str, Any], busy: str
) -> func.HttpResponse | None:
    """Start the run, or return 409 ``LinkBusy`` when a run of it is active (or another start just won)."""
    if await start_singleton(client, orchestrator, instance_id, run):
        return None
    return _busy_response(client, instance_id, busy)


async def _record(name: str, **changes: Any) -> None:
    """Write the link record once its run has started. The run is under way whatever happens here (and its
    own record activities write too), so a store hiccup is logged rather than turned into an error."""
    try:
        await asyncio.to_thread(_store().upsert_link, name, **changes)
    except Exception:
        log.exception("Started a run for link %s but could not update its record", name)


async def _find(name: str) -> LinkRecord | None:
    if not is_link_name(name):  # never reaches storage with a key that can't be a link
        return None
    return await asyncio.to_thread(_store().get_link, name)


async def _removed(name: str) -> bool:
    return is_link_name(name) and await asyncio.to_thread(_store().removed_at, name) is not None


def _store() -> LinkStore:
    return LinkStore.from_env()


def _not_found(name: str) -> func.HttpResponse:
    return error_response(404, "LinkNotFound", f"No link named {name!r}")


async def _answer(handling: Awaitable[func.HttpResponse]) -> func.HttpResponse:
    """Run a handler; errors it did not answer itself become the README's error bodies, never stack traces."""
    try:
        return await handling
    except KubelinkError as error:
        return kubelink_error_response(error)
    except aiohttp.ClientError as error:
        log.warning("The Durable Functions backend did not answer: %s", error)
        return error_response(503, "DurableUnavailable", "The orchestration backend did not answer; retry shortly")
    except Exception as error:
        translated = arm_error(error)
        if translated.transient:
            log.warning("Storage did not answer: %s", error)
            return kubelink_error_response(translated)
        log.exception("Unexpected error")
        return error_response(500, "InternalError", "kubelink failed unexpectedly; the function logs have the details")
