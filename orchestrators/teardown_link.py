"""teardown_link: remove what kubelink made for one link, in the reverse order of provisioning, and nothing else.

Order: the app setting → the app's VNet integration (and a delegated subnet this link created; then the peerings of
the app's own VNet with the cluster's, or the private endpoint and its subnet, that this link created) → kubelink's root
certificate for the app on the gateway (kept while another app trusts the same data) → the private DNS record, zone
link and zone this link created → the Service (deleted if kubelink created it, else given back its fields) → with
``deleteSharedResources`` only, the gateway, its public IP and GatewaySubnet when kubelink created them and nothing
else uses them → the link record (its drift history stays for ``KUBELINK_DRIFT_RETENTION_DAYS``).

Every activity reads before it removes, so the run is idempotent and resumable: the host killed mid-teardown
replays to where it was, a second DELETE finds its work done, and a resource deleted by hand is simply absent.
The input is ``{"name", "spec", "ownership", "deleteSharedResources", "sharedWith", "options"}`` (the record's spec
and ownership, and ``{part: [links]}``, the other links using its gateway, peering or private endpoint, read by the
HTTP starter: ``kubelink.sharing``).
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from activities.regional import release_app_certificate
from activities.teardown import (
    disconnect_app,
    record_link_removed,
    record_teardown_failed,
    release_service,
    remove_app_setting,
    remove_app_subnet,
    remove_dns,
    remove_peerings,
    remove_private_endpoint,
    remove_shared_gateway,
)
from kubelink.desired.regional import releases_gateway
from kubelink.errors import KubelinkError, PermanentError
from kubelink.options import RunOptions
from kubelink.ownership import Ownership
from kubelink.progress import Progress, Step
from kubelink.sharing import GATEWAY
from orchestrators.flow import Activity, Flow, StepFailed, call, sleep, wait_provisioned

bp = df.Blueprint()

TEARDOWN_STEPS = ("appSetting", "vnetIntegration", "pointToSite", "dns", "service", "gateway")


@bp.orchestration_trigger(context_name="context")
def teardown_link(context: df.DurableOrchestrationContext) -> Flow:
    run: dict[str, Any] = context.get_input()
    spec: dict[str, Any] = run["spec"]
    name = spec["name"]
    options = RunOptions.from_json(run.get("options"))
    # a run started before ``sharedWith`` named its gateway's other links ``otherLinks``: it resumes knowing them
    shared_with: dict[str, list[str]] = run.get("sharedWith") or {GATEWAY: list(run.get("otherLinks") or [])}
    payload = {"spec": spec, "ownership": run.get("ownership") or {}, "sharedWith": shared_with}
    progress = Progress(publish=context.set_custom_status, steps=TEARDOWN_STEPS)
    ledger: dict[str, list[Any]] = {"removed": [], "restored": [], "kept": []}
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    parsed = LinkSpec.from_json(spec)
    uses_gateway = spec["integration"] == "gateway" or releases_gateway(parsed, False)
    try:
        yield from _step(context, progress, ledger, "appSetting", remove_app_setting, payload, options)
        disconnected = yield from _step(context, progress, ledger, "vnetIntegration", disconnect_app, payload, options)
        if spec["app"].get("subnet"):  # regional integration, on its own or behind a private endpoint
            yield from _step(context, progress, ledger, "vnetIntegration", remove_app_subnet, payload, options)
        if spec["integration"] == "privateLink":
            yield from _step(context, progress, ledger, "vnetIntegration", remove_private_endpoint, payload, options)
        elif spec["integration"] == "regional" and spec["app"].get("virtualNetwork"):
            yield from _step(context, progress, ledger, "vnetIntegration", remove_peerings, payload, options)
        if uses_gateway:
            thumbprint = {"certThumbprint": disconnected.get("certThumbprint")}
            yield from _release_certificate(context, progress, ledger, {**payload, **thumbprint}, options)
        yield from _step(context, progress, ledger, "dns", remove_dns, payload, options)
        yield from _step(context, progress, ledger, "service", release_service, payload, options)
        if uses_gateway and run.get("deleteSharedResources"):
            yield from _step(context, progress, ledger, "gateway", remove_shared_gateway, payload, options)
        elif uses_gateway:
            users = {"sharedWith": shared_with[GATEWAY]} if shared_with.get(GATEWAY) else {}
            for resource in (parsed.gateway_id, parsed.public_ip_id, parsed.gateway_subnet_id):
                ledger["kept"].append(
                    {"resource": resource, "reason": "shared: kept unless deleteSharedResources=true", **users}
                )
    except StepFailed as failed:
        yield from _record_failure(context, progress, spec, failed.step, failed.error, options)
        raise _failure(failed.step, failed.error) from None
    except Exception as unexpected:
        step = progress.current or "appSetting"
        error = PermanentError("InternalError", str(unexpected).splitlines()[0][:500], step=step)
        yield from _record_failure(context, progress, spec, step, error, options)
        raise _failure(step, error) from None
    for step in TEARDOWN_STEPS:
        if progress.states[step] != "done":
            progress.finish(step, "unchanged", f"Nothing to remove in {step}")
    removed_at = context.current_utc_datetime.strftime("%Y-%m-%dT%H:%M:%SZ")
    removal = {"spec": spec, "removedAt": removed_at, "handOver": _hand_over(run, ledger["kept"])}
    yield from call(context, Step.RECORD, record_link_removed, removal, options)
    progress.say(
        f"Link {name} is torn down: {len(ledger['removed'])} removed, {len(ledger['restored'])} restored, "
        f"{len(ledger['kept'])} kept"
    )
    return {"name": name, **ledger, "removedAt": removed_at}


def _hand_over(run: dict[str, Any], kept: list[dict[str, Any]]) -> dict[str, list[str]]:
    """``{link: [ids]}``: what this link created and kept because other links still use it, for those links' records
    (so the last one out can remove it)."""
    created = Ownership.from_json(run.get("ownership"))
    hand_over: dict[str, list[str]] = {}
    for item in kept:
        if created.created_here(item["resource"]):
            for other in item.get("sharedWith") or []:
                if item["resource"] not in hand_over.setdefault(other, []):
                    hand_over[other].append(item["resource"])
    return hand_over


def _step(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    ledger: dict[str, list[Any]],
    step: str,
    activity: Activity,
    payload: dict[str, Any],
    options: RunOptions,
) -> Flow:
    """Call a teardown activity until it has nothing pending (a long delete it started), between durable timers."""
    progress.start(step, f"Tearing down what the link made in {step}")
    changed_before = len(ledger["removed"]) + len(ledger["restored"])
    deadline = context.current_utc_datetime + timedelta(seconds=options.gateway_deadline_seconds)
    while True:
        done = yield from call(context, step, activity, payload, options)
        for key, items in (("removed", done["removed"]), ("restored", done["restored"])):
            ledger[key].extend(item for item in items if item not in ledger[key])
        given_back = {r.lower() for r in (*ledger["removed"], *ledger["restored"])}  # earlier in the run: not "kept"
        kept = [k for k in done["kept"] if k not in ledger["kept"] and k["resource"].lower() not in given_back]
        ledger["kept"].extend(kept)
        if not done["pending"]:
            break
        if context.current_utc_datetime >= deadline:
            message = f"{step}: a delete still running after {options.gateway_deadline_seconds:.0f} s"
            raise StepFailed(step, PermanentError("DeadlineExceeded", f"{message}; DELETE the link again", step=step))
        progress.say(f"Waiting for Azure to finish a delete in {step}")
        yield from sleep(context, options.poll_seconds)
    changed = len(ledger["removed"]) + len(ledger["restored"]) > changed_before
    progress.finish(step, "updated" if changed else "unchanged", f"{step}: torn down")
    return done


def _release_certificate(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    ledger: dict[str, list[Any]],
    payload: dict[str, Any],
    options: RunOptions,
) -> Flow:
    """The app's root certificate, read-modify-write, once the gateway is idle; kept while another app trusts it."""
    gateway = payload["spec"]["gateway"]["name"]
    progress.start("pointToSite", f"Releasing the app's root certificate on gateway {gateway}")
    while True:
        released = yield from call(context, "pointToSite", release_app_certificate, payload, options)
        if released["result"] != "busy":
            break
        progress.say(f"Gateway {gateway} is busy with another operation; waiting before writing to it")
        yield from wait_provisioned(
            context, "pointToSite", "gateway", payload, options, options.gateway_deadline_seconds
        )
    if released.get("provisioningState") not in (None, "Succeeded"):
        deadline = options.gateway_deadline_seconds
        yield from wait_provisioned(
            context, "pointToSite", "gateway", payload, options, deadline, released.get("operation")
        )
    from kubelink.spec import LinkSpec

    gateway_id = LinkSpec.from_json(payload["spec"]).gateway_id
    for item in released["changes"]:
        name = item["field"].rsplit("[", 1)[-1].rstrip("]")
        ledger["removed"].append(f"{gateway_id}/vpnClientRootCertificates/{name}")
    for user in released.get("sharedWith") or []:
        ledger["kept"].append({"resource": gateway_id, "reason": f"root certificate still trusted by app {user}"})
    progress.finish("pointToSite", released["result"], f"Gateway {gateway} no longer trusts the app for this link")


def _record_failure(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    spec: dict[str, Any],
    step: str,
    error: KubelinkError,
    options: RunOptions,
) -> Flow:
    progress.fail(step, f"Teardown step {step} failed: {error.code}: {error.message}")
    failed = {"spec": spec, "step": step, "error": error.to_json()}
    with suppress(StepFailed):  # best effort: the run's own output still says what went wrong
        yield from call(context, Step.RECORD, record_teardown_failed, failed, options)


def _failure(step: str, error: KubelinkError) -> Exception:
    return Exception(
        json.dumps({"step": step, "code": error.code, "message": error.message, "resource": error.resource})
    )
