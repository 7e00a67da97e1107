"""What a verification leaves behind: drift records, the link's ``Ready`` condition and ``lastVerified``;
and, for ``remediate: true``, the re-provisioning run.

Remediation starts ``provision_link`` from this activity with a Durable client, under the link's usual
instance id (``link-{name}``) and the same rule as ``POST /api/links``: only when no run of it is active,
and only inside ``KUBELINK_ALLOWED_SCOPES``. It is started, not awaited, so a 20-60 minute gateway update
never holds a verification or a sweep; the run is followed on its own status URL like any other. A
sub-orchestration was not used: a sub-orchestration whose id is already running has no defined outcome
in Durable Functions, and the orchestrator cannot ask whether it is running.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from adapters import settings
from adapters.clients import arm_error
from adapters.runs import PROVISION_ORCHESTRATOR, instance_active, start_singleton
from adapters.store import LinkStore
from kubelink.conditions import READY, Condition
from kubelink.drift import DriftRecord, verdict
from kubelink.errors import KubelinkError, PermanentError
from kubelink.names import provision_instance_id, teardown_instance_id
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

STEP = Step.VERIFY

bp = df.Blueprint()
log = logging.getLogger("kubelink.activities")


@bp.activity_trigger(input_name="payload")
def record_verification(payload: dict[str, Any]) -> dict[str, Any]:
    """Store the drift records and set ``Ready`` from them; on a verification ``error``, ``Ready`` is Unknown
    (the link may be fine; kubelink could not tell) and ``lastVerified`` keeps its last good value."""
    name: str = payload["name"]
    try:
        store = LinkStore.from_env()
        if "error" in payload:
            error = payload["error"]
            # a ReadOnly lock blocks even the POST that lists app settings: the link may be fine, kubelink can't tell
            reason = "ScopeLocked" if error["code"] == "ScopeLocked" else "VerificationFailed"
            unknown = Condition(READY, "Unknown", reason, f"{error['code']}: {error['message']}", "Warning")
            store.upsert_link(name, conditions=[unknown])
            return {"ok": True, "result": {"records": 0}}
        records = [DriftRecord.from_json(r) for r in payload["records"]]
        store.record_drift(records)
        found = verdict(records)
        ready = Condition(READY, "True" if found.ready else "False", found.reason, found.message, found.severity)
        store.upsert_link(name, last_verified=payload["verifiedAt"], conditions=[ready])
    except Exception as exc:  # storage refusing or unreachable: the orchestrator retries transient errors
        return {"ok": False, "error": arm_error(exc, step=STEP, resource=name).to_json()}
    return {"ok": True, "result": {"records": len(records)}}


@bp.activity_trigger(input_name="payload")
@bp.durable_client_input(client_name="client")
async def remediate_link(payload: dict[str, Any], client: df.DurableOrchestrationClient) -> dict[str, Any]:
    """Start ``provision_link`` for a drifted link unless a run of it is active; say which happened. ``restartApp``
    false (the safe policy) makes that run leave alone what would restart the app."""
    from kubelink.spec import LinkSpec

    spec = LinkSpec.from_json(payload["spec"])
    instance_id = provision_instance_id(spec.name)
    run = {"spec": payload["spec"], "options": payload.get("options"), "restartApp": payload.get("restartApp", True)}
    try:
        _check_scopes(spec)
        if await instance_active(client, teardown_instance_id(spec.name)):  # a link being removed is not re-made
            return {"ok": True, "result": {"instanceId": instance_id, "started": False, "reason": "TearingDown"}}
        started = await start_singleton(client, PROVISION_ORCHESTRATOR, instance_id, run)
    except KubelinkError as error:
        return {"ok": False, "error": error.to_json()}
    except Exception as exc:
        return {"ok": False, "error": arm_error(exc, step="remediate", resource=spec.name).to_json()}
    if not started:  # a run of it is active (or won the race): that run remediates
        return {"ok": True, "result": {"instanceId": instance_id, "started": False, "reason": "AlreadyRunning"}}
    log.info("link %s drifted: started re-provisioning %s", spec.name, instance_id)
    return {"ok": True, "result": {"instanceId": instance_id, "started": True}}


def _check_scopes(spec: LinkSpec) -> None:
    """The scopes may have been narrowed since the link was created: never write outside them."""
    allowed = settings.allowed_scopes()
    refused = settings.check_scopes(spec, allowed)
    if refused:
        raise PermanentError(
            "ScopeNotAllowed", settings.scopes_refusal(refused, allowed), step="remediate", resource=spec.name
        )
