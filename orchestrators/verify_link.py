"""verify_link: re-check one provisioned link, read-only, and record what drifted.

The checks are provisioning's own observe → diff, run without writing (``verify_link_config``), plus the
connectivity probe through the app when ``probe.path`` is set. Differences become drift records; the
link's ``Ready`` condition and ``lastVerified`` are updated. With ``remediate: true`` a drifted link is
handed back to provisioning under its usual singleton id (``remediate_link``), and the records say so.

A verification never fails its orchestration: an error while checking is recorded on the link as
``Ready`` Unknown, so one unreachable link cannot abort a sweep's ``task_all``.

Started by an ARM event (``api/events.py``), it first waits ``settleSeconds`` on a durable timer, so the
burst of events one change makes is verified once: an event that finds it still settling is covered by
the reads to come. One that finds it reading may report a change those reads missed: it is handed over as
``resourceChanged``, and the run then verifies again (as new) before it ends.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from activities.drift import record_verification, remediate_link
from activities.probe import probe_link
from activities.verify import verify_link_config
from kubelink.drift import (
    DriftRecord,
    ProbeOutcome,
    checked_drift,
    mark_remediated,
    remediable,
    remediation_policy,
)
from kubelink.errors import PermanentError
from kubelink.options import RunOptions
from kubelink.progress import Step
from orchestrators.flow import Flow, StepFailed, call

bp = df.Blueprint()

#: the external event ``api/events.py`` raises for a change a running verification may not have seen
RESOURCE_CHANGED = "resourceChanged"
#: the custom status step while an event-started verification waits for the rest of a burst
SETTLING = "settle"


@bp.orchestration_trigger(context_name="context")
def verify_link(context: df.DurableOrchestrationContext) -> Flow:
    run: dict[str, Any] = context.get_input()
    name: str = run["name"]
    options = RunOptions.from_json(run.get("options"))
    settle = float(run.get("settleSeconds") or 0)
    if settle:
        _status(context, name, SETTLING, f"ARM reported a change; waiting {settle:g} s for the rest of it")
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=settle))
    detected_at = context.current_utc_datetime.strftime("%Y-%m-%dT%H:%M:%SZ")
    _status(context, name, "config", f"Checking link {name} against Azure and Kubernetes (read-only)")
    try:
        checked = yield from call(context, Step.VERIFY, verify_link_config, {"name": name}, options)
        link: dict[str, Any] = checked["result"]
        probe: ProbeOutcome | None = None
        if link["spec"].get("probe"):
            _status(context, name, "probe", f"Probing the private path through app {link['spec']['app']['name']}")
            probed = yield from call(context, Step.PROBE, probe_link, {"spec": link["spec"]}, options)
            probe = ProbeOutcome.from_json(probed["result"])
    except StepFailed as failed:
        return (yield from _record_error(context, name, detected_at, failed.step, failed.error.to_json(), options))
    except Exception as crashed:  # an activity crashed: say so on the link, keep the sweep going
        return (
            yield from _record_error(context, name, detected_at, "verify", _internal_error(crashed, "verify"), options)
        )
    records = checked_drift(name, detected_at, link["checks"], probe)
    remediation: dict[str, Any] | None = None
    policy = remediation_policy(link["spec"].get("remediate"))
    if remediable(records, policy):
        _status(context, name, "remediate", f"Link {name} drifted; re-provisioning it ({policy} remediation)")
        # the safe policy re-provisions without the writes that restart the app; those drifts are only reported
        fix = {"spec": link["spec"], "options": run.get("options"), "restartApp": policy == "all"}
        try:
            started = yield from call(context, Step.REMEDIATE, remediate_link, fix, options)
        except StepFailed as failed:  # the drift is still worth recording, just not as remediated
            remediation = {"error": failed.error.to_json()}
        except Exception as crashed:
            remediation = {"error": _internal_error(crashed, "remediate")}
        else:
            remediation = started["result"]
            records = mark_remediated(records, policy)
    yield from call(
        context,
        Step.RECORD,
        record_verification,
        {"name": name, "verifiedAt": detected_at, "records": [r.to_json() for r in records]},
        options,
    )
    if (yield from _changed_meanwhile(context)):
        context.continue_as_new({**run, "settleSeconds": settle})
        return None
    _status(context, name, "done", _summary(name, records))
    return {
        "name": name,
        "verifiedAt": detected_at,
        "ready": not records,
        "drift": [r.to_json() for r in records],
        "probe": probe.to_json() if probe else None,
        "remediation": remediation,
    }


def _changed_meanwhile(context: df.DurableOrchestrationContext) -> Flow:
    """Whether ``api/events.py`` handed this run a change its reads may have missed (it hands over only
    changes made after the settling wait ended); one look, without waiting."""
    changed = context.wait_for_external_event(RESOURCE_CHANGED)
    now = context.create_timer(context.current_utc_datetime)
    winner = yield context.task_any([changed, now])
    if winner is now:
        return False
    now.cancel()
    return True


def _record_error(
    context: df.DurableOrchestrationContext,
    name: str,
    verified_at: str,
    step: str,
    error: dict[str, Any],
    options: RunOptions,
) -> Flow:
    _status(context, name, "failed", f"Verification of {name} could not finish ({step}): {error['message']}")
    with suppress(StepFailed):  # best effort: the verification's own output still says what went wrong
        yield from call(
            context,
            Step.RECORD,
            record_verification,
            {"name": name, "verifiedAt": verified_at, "error": error},
            options,
        )
    return {"name": name, "verifiedAt": verified_at, "ready": None, "error": error}


def _internal_error(crashed: Exception, step: str) -> dict[str, Any]:
    """A crashed activity's first line only: its traceback stays in the function logs."""
    return PermanentError("InternalError", str(crashed).splitlines()[0][:500], step=step).to_json()


def _summary(name: str, records: list[DriftRecord]) -> str:
    if not records:
        return f"Link {name} matches its provisioned state"
    fields = ", ".join(f"{r.field} ({r.kind})" for r in records)
    suffix = "; re-provisioning started" if any(r.remediated for r in records) else ""
    return f"Link {name} drifted: {fields}{suffix}"


def _status(context: df.DurableOrchestrationContext, name: str, step: str, message: str) -> None:
    context.set_custom_status({"link": name, "step": step, "message": message})
