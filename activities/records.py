"""The link record at the end of a provisioning run: ``Ready``, ``Retirement``, ``privateAddress``, ``lastProvisioned``.

The HTTP starter records the spec and a ``Provisioning`` condition when it starts a run; these two
activities close it, so ``GET /api/links/{name}`` always tells how the last run ended, and stamp
``last_run_ended`` after the run's last write (ARM events older than that are the run's own: api/events.py).
``Retirement`` says whether the link still depends on something Azure retires (the gateway path's SSTP and the
gateway-required integration itself): a Warning while it does, False once the link is regional.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, run_activity
from adapters.store import LinkStore
from kubelink.conditions import READY, Condition, utc_timestamp
from kubelink.ownership import Ownership
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

RETIREMENT = "Retirement"

bp = df.Blueprint()


def retirement(integration: str, warnings: list[str]) -> Condition:
    """The pre-flight's warnings of the gateway path as one condition; the regional path has none."""
    if integration == "gateway":
        return Condition(RETIREMENT, "True", "GatewayRequiredIntegrationRetiring", "; ".join(warnings), "Warning")
    return Condition(RETIREMENT, "False", "RegionalIntegration", "Regional VNet integration has no retirement date")


def _conditions(payload: Payload, outcome: Condition) -> list[Condition]:
    """``warnings`` is absent when the run failed before the pre-flight could say anything."""
    if payload.get("warnings") is None:
        return [outcome]
    return [outcome, retirement(payload["spec"].get("integration", "gateway"), payload["warnings"])]


@bp.activity_trigger(input_name="payload")
def record_link_ready(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "output", "warnings"}`` (warnings: the pre-flight's, for the ``Retirement`` condition). Under the
    activity contract, so a Table storage blip is retried like any other transient fault."""
    return run_activity(Step.RECORD, payload, _record_ready)


def _record_ready(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    output = payload["output"]
    ready = Condition(READY, "True", "Provisioned", f"The app reaches {output['privateAddress']} privately", "Info")
    LinkStore.from_env().upsert_link(
        output["name"],
        spec=payload["spec"],
        private_address=output["privateAddress"],
        last_provisioned=utc_timestamp(datetime.now(UTC)),
        last_run_ended=datetime.now(UTC).isoformat(),
        last_output=output,
        last_error=None,
        conditions=_conditions(payload, ready),
    )
    return {}


@bp.activity_trigger(input_name="payload")
def record_link_failed(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "step", "error", "warnings"?}``; a failed regional run keeps the previous ``Retirement``, since
    what it was to remove from the gateway may still be there."""
    return run_activity(Step.RECORD, payload, _record_failed)


def _record_failed(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    error = payload["error"]
    failed = Condition(
        READY,
        "False",
        "ProvisioningFailed",
        f"Step {payload['step']} failed: {error['code']}: {error['message']}",
        "Error",
    )
    name = payload["spec"]["name"]
    gateway_path = payload["spec"].get("integration", "gateway") == "gateway"
    conditions = _conditions(payload, failed) if gateway_path else [failed]
    LinkStore.from_env().upsert_link(
        name,
        spec=payload["spec"],
        last_error=error,
        last_run_ended=datetime.now(UTC).isoformat(),
        conditions=conditions,
    )
    return {}


@bp.activity_trigger(input_name="payload")
def record_link_ownership(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec", "created": [resource ids], "adopted": {resource: fields before}}``: added to the record's
    ``ownership`` as the run goes, so that an interrupted run still tells teardown what it made."""
    return run_activity(Step.RECORD, payload, _record_ownership)


def _record_ownership(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    store = LinkStore.from_env()
    stored = store.get_link(spec.name)
    known = Ownership.from_json(stored.ownership if stored else None)
    merged = known.merged(payload.get("created") or (), payload.get("adopted") or {})
    if stored is None or merged != known:
        store.upsert_link(spec.name, spec=stored.spec if stored else payload["spec"], ownership=merged.to_json())
    return {}
