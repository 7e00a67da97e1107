"""provision_link: the seed article's procedure as one deterministic, resumable plan.

Order (PRODUCT.md): pre-flight → service (+ wait for its private IP) → gateway (GatewaySubnet, public IP,
the app's VNet declaration for its certificate, gateway with point-to-site in one PUT, polled between
durable timers) → vnetIntegration (VPN package to the app) → appSetting. Every activity is idempotent,
so re-running a converged link writes nothing, and re-running a failed one resumes where it stopped.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from kubelink.errors import KubelinkError, PermanentError
from kubelink.options import RunOptions
from kubelink.progress import Progress, combine_results
from orchestrators.flow import Flow, StepFailed, call, sleep, wait_provisioned

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def provision_link(context: df.DurableOrchestrationContext) -> Flow:
    run: dict[str, Any] = context.get_input()
    spec: dict[str, Any] = run["spec"]
    options = RunOptions.from_json(run.get("options"))
    payload = {"spec": spec}
    progress = Progress()
    context.set_custom_status(progress.custom_status())
    try:
        yield from call(context, "preflight", "preflight", payload, options)
        private_ip = yield from _service(context, progress, payload, options)
        yield from _gateway(context, progress, payload, options)
        yield from _vnet_integration(context, progress, payload, options)
        yield from _app_setting(context, progress, payload, private_ip, options)
    except StepFailed as failed:
        yield from _record_failure(context, progress, spec, failed.step, failed.error)
        raise _failure(failed.step, failed.error) from None
    except Exception as unexpected:  # an activity crashed: still report the step, never a stack of secrets
        step = progress.current or "preflight"
        error = PermanentError("InternalError", str(unexpected).splitlines()[0][:500], step=step)
        yield from _record_failure(context, progress, spec, step, error)
        raise _failure(step, error) from None
    output = progress.output(spec["name"], private_ip)
    progress.say(f"Link {spec['name']} is ready: the app reaches {private_ip} privately")
    context.set_custom_status(progress.custom_status())
    yield context.call_activity("record_link_ready", {"spec": spec, "output": output})
    return output


def _service(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    kube = payload["spec"]["kubernetes"]
    where = f"{kube.get('namespace', 'default')}/{kube['service']}"
    progress.start("service", f"Ensuring internal load-balancer Service {where}")
    context.set_custom_status(progress.custom_status())
    ensured = yield from call(context, "service", "ensure_service", payload, options)
    deadline = context.current_utc_datetime + timedelta(seconds=options.service_ip_deadline_seconds)
    while True:
        observed = yield from call(context, "service", "observe_service_ip", payload, options)
        if observed.get("ip"):
            break
        if context.current_utc_datetime >= deadline:
            warnings = "; ".join(observed.get("warnings") or []) or "no events"
            raise StepFailed(
                "service",
                PermanentError(
                    "ServiceIpTimeout",
                    f"Service {where} has no private IP after {options.service_ip_deadline_seconds:.0f} s ({warnings})",
                    step="service",
                    resource=where,
                ),
            )
        progress.say(f"Waiting for Azure to give Service {where} a private IP")
        context.set_custom_status(progress.custom_status())
        yield from sleep(context, options.poll_seconds)
    ip: str = observed["ip"]
    progress.finish("service", ensured["result"], f"Service {where} has private IP {ip}")
    context.set_custom_status(progress.custom_status())
    return ip


def _gateway(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    gateway = payload["spec"]["gateway"]["name"]
    progress.start("gateway", "Ensuring GatewaySubnet and the gateway's public IP")
    context.set_custom_status(progress.custom_status())
    deadline = options.gateway_deadline_seconds
    results = []
    for step_activity, resource in (("ensure_gateway_subnet", "gatewaySubnet"), ("ensure_public_ip", "publicIp")):
        ensured = yield from call(context, "gateway", step_activity, payload, options)
        results.append(ensured["result"])
        if ensured.get("provisioningState") != "Succeeded":
            yield from wait_provisioned(
                context, "gateway", resource, payload, options, deadline, ensured.get("operation")
            )
    progress.say("Declaring the VNet on the app to obtain its certificate")
    context.set_custom_status(progress.custom_status())
    connection = yield from call(context, "vnetIntegration", "ensure_app_vnet_connection", payload, options)
    progress.results["vnetIntegration"] = connection["result"]
    while True:
        ensured = yield from call(context, "gateway", "ensure_gateway", payload, options)
        if ensured["result"] != "busy":
            break
        progress.say(f"Gateway {gateway} is busy with another operation; waiting before writing to it")
        context.set_custom_status(progress.custom_status())
        yield from wait_provisioned(context, "gateway", "gateway", payload, options, deadline)
    results.append(ensured["result"])
    if ensured.get("provisioningState") != "Succeeded":
        started = context.current_utc_datetime
        progress.say(f"Gateway {gateway} is being provisioned with point-to-site (20-60 minutes in Azure)")
        progress.states["pointToSite"] = "running"  # its configuration rides in the same gateway PUT
        context.set_custom_status(progress.custom_status())
        yield from wait_provisioned(context, "gateway", "gateway", payload, options, deadline, ensured.get("operation"))
        minutes = (context.current_utc_datetime - started).total_seconds() / 60
        progress.say(f"Gateway {gateway} succeeded after {minutes:.1f} min")
    progress.finish("gateway", combine_results(results), f"Gateway {gateway} is Succeeded")
    progress.finish("pointToSite", ensured["pointToSite"], f"Point-to-site on {gateway} trusts the app's certificate")
    context.set_custom_status(progress.custom_status())


def _vnet_integration(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    app = payload["spec"]["app"]["name"]
    progress.start("vnetIntegration", f"Handing the VPN client package to app {app}")
    context.set_custom_status(progress.custom_status())
    connected = yield from call(context, "vnetIntegration", "connect_app_gateway", payload, options)
    declared = progress.results.get("vnetIntegration", "unchanged")
    result = combine_results([declared, connected["result"]])
    progress.finish("vnetIntegration", result, f"App {app} is connected to the VNet through the gateway")
    context.set_custom_status(progress.custom_status())


def _app_setting(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    payload: dict[str, Any],
    private_ip: str,
    options: RunOptions,
) -> Flow:
    setting = payload["spec"]["app"].get("setting", "PrivateAddress")
    progress.start("appSetting", f"Setting {setting} = {private_ip} on the app")
    context.set_custom_status(progress.custom_status())
    ensured = yield from call(context, "appSetting", "ensure_app_setting", {**payload, "value": private_ip}, options)
    progress.finish("appSetting", ensured["result"], f"App setting {setting} holds {private_ip}")
    context.set_custom_status(progress.custom_status())


def _record_failure(
    context: df.DurableOrchestrationContext, progress: Progress, spec: dict[str, Any], step: str, error: KubelinkError
) -> Flow:
    progress.fail(step, f"Step {step} failed: {error.code}: {error.message}")
    context.set_custom_status(progress.custom_status())
    yield context.call_activity("record_link_failed", {"spec": spec, "step": step, "error": error.to_json()})


def _failure(step: str, error: KubelinkError) -> Exception:
    """The Failed status's ``output``: machine-readable step, code and message (no secrets ever reach it)."""
    return Exception(
        json.dumps({"step": step, "code": error.code, "message": error.message, "resource": error.resource})
    )
