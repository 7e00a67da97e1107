"""provision_link: the seed article's procedure, or today's regional one, as one deterministic, resumable plan.

Order (README, "What a run does"): pre-flight → service (+ wait for its private IP) → then, by ``integration``:

- ``gateway``: gateway (GatewaySubnet, public IP, the app's VNet declaration for its certificate, gateway with
  point-to-site in one PUT, polled between durable timers) → vnetIntegration (VPN package to the app);
- ``regional``: gateway and pointToSite are done at once with nothing to do (no gateway is read or written) →
  vnetIntegration (the delegated subnet, then the app's regional connection, which replaces a gateway-required
  one) → and, last, for a link leaving the gateway path, pointToSite: kubelink's root certificate for the app
  is removed from the gateway, which then serves the app no more;

→ appSetting (the private DNS zone, its VNet link and A record when ``dns`` is set; then the setting). Every
activity is idempotent, so re-running a converged link writes nothing, and re-running a failed one resumes
where it stopped. The pre-flight's warnings (the gateway path's retirements) reach customStatus and the record.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.app_setting import ensure_app_setting
from activities.dns import ensure_dns_link, ensure_dns_record, ensure_dns_zone
from activities.gateway import ensure_gateway, ensure_gateway_subnet, ensure_public_ip
from activities.peering import ensure_peerings, observe_peerings
from activities.preflight import preflight
from activities.private_link import (
    ensure_endpoint_subnet,
    ensure_private_endpoint,
    observe_private_endpoint,
    observe_private_link_service,
)
from activities.records import record_link_failed, record_link_ready
from activities.regional import connect_app_regional, ensure_app_routing, ensure_app_subnet, release_app_certificate
from activities.service import ensure_service, observe_service_ip
from activities.vnet_integration import connect_app_gateway, ensure_app_vnet_connection
from kubelink.desired.app_setting import setting_value
from kubelink.desired.regional import delegation_for, releases_gateway
from kubelink.errors import KubelinkError, PermanentError
from kubelink.options import RunOptions
from kubelink.progress import Progress, Step, combine_results
from orchestrators.flow import Activity, Flow, Outcome, StepFailed, call, sleep, wait_provisioned

if TYPE_CHECKING:
    pass

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def provision_link(context: df.DurableOrchestrationContext) -> Flow:
    run: dict[str, Any] = context.get_input()
    spec: dict[str, Any] = run["spec"]
    options = RunOptions.from_json(run.get("options"))
    # restartApp false (remediate: "safe"): the activities whose writes restart the app report instead of writing
    payload = {"spec": spec, "restartApp": run.get("restartApp", True)}
    progress = Progress(publish=context.set_custom_status)
    progress.say("Starting")
    warnings: list[str] | None = None  # known once the pre-flight has passed
    try:
        checked = yield from call(context, Step.PREFLIGHT, preflight, payload, options)
        warnings = list(checked.get("warnings") or [])
        if warnings:
            progress.say(f"Pre-flight passed.{_caution(warnings)}")
        private_ip = yield from _service(context, progress, payload, options)
        releases = False
        facts = checked.get("facts") or {}
        delegation = delegation_for(facts.get("appPlanTier"))
        if spec["integration"] == "privateLink":
            private_ip = yield from _private_link(context, progress, payload, options)
            yield from _regional(context, progress, {**payload, "value": private_ip}, options, False, delegation)
        elif spec["integration"] == "regional":
            from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

            releases = releases_gateway(LinkSpec.from_json(spec), bool(facts["appGatewayConnection"]))
            yield from _regional(context, progress, {**payload, "value": private_ip}, options, releases, delegation)
        else:
            yield from _gateway(context, progress, payload, options)
            yield from _vnet_integration(context, progress, payload, options)
        yield from _app_setting(context, progress, payload, private_ip, options)
        if releases:
            yield from _release_gateway(context, progress, payload, options)
    except StepFailed as failed:
        yield from _record_failure(context, progress, spec, failed.step, failed.error, warnings, options)
        raise _failure(failed.step, failed.error) from None
    except Exception as unexpected:  # an activity crashed: still report the step, never a stack of secrets
        step = progress.current or Step.PREFLIGHT
        error = PermanentError("InternalError", str(unexpected).splitlines()[0][:500], step=step)
        yield from _record_failure(context, progress, spec, step, error, warnings, options)
        raise _failure(step, error) from None
    output = progress.output(spec["name"], private_ip)
    progress.say(f"Link {spec['name']} is ready: the app reaches {private_ip} privately.{_caution(warnings)}")
    ready = {"spec": spec, "output": output, "warnings": warnings}
    try:  # the link is provisioned: a record that cannot be written after retries fails the run, saying so
        yield from call(context, Step.RECORD, record_link_ready, ready, options)
    except StepFailed as failed:
        raise _failure(failed.step, failed.error) from None
    return output


def _caution(warnings: list[str]) -> str:
    return f" Warning: {'; '.join(warnings)}." if warnings else ""


def _service(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    kube = payload["spec"]["kubernetes"]
    where = f"{kube.get('namespace', 'default')}/{kube['service']}"
    progress.start(Step.SERVICE, f"Ensuring internal load-balancer Service {where}")
    ensured = yield from call(context, Step.SERVICE, ensure_service, payload, options)
    deadline = context.current_utc_datetime + timedelta(seconds=options.service_ip_deadline_seconds)
    while True:
        observed = yield from call(context, Step.SERVICE, observe_service_ip, payload, options)
        if observed.get("ip"):
            break
        if context.current_utc_datetime >= deadline:
            warnings = "; ".join(observed.get("warnings") or []) or "no events"
            raise StepFailed(
                Step.SERVICE,
                PermanentError(
                    "ServiceIpTimeout",
                    f"Service {where} has no private IP after {options.service_ip_deadline_seconds:.0f} s ({warnings})",
                    step=Step.SERVICE,
                    resource=where,
                ),
            )
        progress.say(f"Waiting for Azure to give Service {where} a private IP")
        yield from sleep(context, options.poll_seconds)
    ip = str(observed["ip"])
    progress.finish(Step.SERVICE, ensured["result"], f"Service {where} has private IP {ip}")
    return ip


def _provisioned(
    context: df.DurableOrchestrationContext,
    step: Step,
    activity: Activity,
    resource: str,
    payload: dict[str, Any],
    options: RunOptions,
) -> Generator[Any, Any, Outcome]:
    """An ensure activity that may start a long-running write, and the wait for it to settle."""
    ensured = yield from call(context, step, activity, payload, options)
    if ensured.get("provisioningState") != "Succeeded":
        deadline = options.gateway_deadline_seconds
        yield from wait_provisioned(context, step, resource, payload, options, deadline, ensured.get("operation"))
    return ensured


def _when_gateway_idle(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    step: Step,
    activity: Activity,
    payload: dict[str, Any],
    options: RunOptions,
) -> Generator[Any, Any, Outcome]:
    """An activity that writes the gateway, called again after someone else's operation on it has settled."""
    gateway = payload["spec"]["gateway"]["name"]
    while True:
        ensured = yield from call(context, step, activity, payload, options)
        if ensured["result"] != "busy":
            return ensured
        progress.say(f"Gateway {gateway} is busy with another operation; waiting before writing to it")
        yield from wait_provisioned(context, step, "gateway", payload, options, options.gateway_deadline_seconds)


def _gateway(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    gateway = payload["spec"]["gateway"]["name"]
    progress.start(Step.GATEWAY, "Ensuring GatewaySubnet and the gateway's public IP")
    results = []
    for step_activity, resource in ((ensure_gateway_subnet, "gatewaySubnet"), (ensure_public_ip, "publicIp")):
        ensured = yield from _provisioned(context, Step.GATEWAY, step_activity, resource, payload, options)
        results.append(ensured["result"])
    progress.say("Declaring the VNet on the app to obtain its certificate")
    connection = yield from call(context, Step.VNET_INTEGRATION, ensure_app_vnet_connection, payload, options)
    progress.results[Step.VNET_INTEGRATION] = connection["result"]
    ensured = yield from _when_gateway_idle(context, progress, Step.GATEWAY, ensure_gateway, payload, options)
    results.append(ensured["result"])
    if ensured.get("provisioningState") != "Succeeded":
        started = context.current_utc_datetime
        progress.states[Step.POINT_TO_SITE] = "running"  # its configuration rides in the same gateway PUT
        progress.say(f"Gateway {gateway} is being provisioned with point-to-site (20-60 minutes in Azure)")
        deadline = options.gateway_deadline_seconds
        operation = ensured.get("operation")
        yield from wait_provisioned(context, Step.GATEWAY, "gateway", payload, options, deadline, operation)
        minutes = (context.current_utc_datetime - started).total_seconds() / 60
        progress.say(f"Gateway {gateway} succeeded after {minutes:.1f} min")
    progress.finish(Step.GATEWAY, combine_results(results), f"Gateway {gateway} is Succeeded")
    progress.finish(
        Step.POINT_TO_SITE, ensured["pointToSite"], f"Point-to-site on {gateway} trusts the app's certificate"
    )


def _vnet_integration(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    app = payload["spec"]["app"]["name"]
    progress.start(Step.VNET_INTEGRATION, f"Handing the VPN client package to app {app}")
    connected = yield from call(context, Step.VNET_INTEGRATION, connect_app_gateway, payload, options)
    declared = progress.results.get(Step.VNET_INTEGRATION, "unchanged")
    result = combine_results([declared, connected["result"]])
    progress.finish(Step.VNET_INTEGRATION, result, f"App {app} is connected to the VNet through the gateway")


def _regional(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    payload: dict[str, Any],
    options: RunOptions,
    releases: bool,
    delegation: str,
) -> Flow:
    """``gateway`` and ``pointToSite`` are done with nothing to do ('unchanged'), except that a link leaving the
    gateway path keeps ``pointToSite`` pending for the release at the end."""
    spec = payload["spec"]
    app, vnet, subnet = spec["app"]["name"], spec["network"]["virtualNetwork"], spec["app"]["subnet"]
    progress.finish(Step.GATEWAY, "unchanged", "Regional integration needs no VPN gateway")
    if not releases:
        progress.finish(Step.POINT_TO_SITE, "unchanged", "Regional integration needs no point-to-site configuration")
    progress.start(
        Step.VNET_INTEGRATION,
        f"Regional integration needs no VPN gateway: ensuring subnet {subnet['name']} ({subnet['prefix']}) "
        f"delegated to {delegation}",
    )
    peered = progress.results.get(Step.VNET_INTEGRATION, "unchanged")  # the private endpoint's, on that path
    if spec["app"].get("virtualNetwork") and spec["integration"] == "regional":
        peered = yield from _peerings(context, progress, payload, options)
    subnet_step = (Step.VNET_INTEGRATION, ensure_app_subnet)
    ensured = yield from _provisioned(context, *subnet_step, "appSubnet", payload, options)
    replacing = " in place of its gateway-required connection" if releases else ""
    progress.say(f"Connecting app {app} to virtual network {vnet} through subnet {subnet['name']}{replacing}")
    connected = yield from call(context, Step.VNET_INTEGRATION, connect_app_regional, payload, options)
    # outside RFC 1918 the private address needs route all (README "Outbound routing"); else nothing is written
    routed = yield from call(context, Step.VNET_INTEGRATION, ensure_app_routing, payload, options)
    progress.finish(
        Step.VNET_INTEGRATION,
        combine_results([peered, ensured["result"], connected["result"], routed["result"]]),
        f"App {app} is connected to virtual network {vnet} through subnet {subnet['name']} (regional integration)",
    )


def _private_link(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    """The Private Link Service AKS makes from the Service's annotations (waited for), the endpoint subnet and the
    private endpoint in the app's VNet, and the wait for the connection's approval; returns the endpoint's IP."""
    spec = payload["spec"]
    pls, own = f"kubelink-{spec['name']}", spec["app"]["virtualNetwork"]["name"]
    progress.finish(Step.GATEWAY, "unchanged", "The private-link path needs no VPN gateway")
    progress.finish(Step.POINT_TO_SITE, "unchanged", "The private-link path needs no point-to-site configuration")
    progress.start(Step.VNET_INTEGRATION, f"Waiting for AKS to make Private Link Service {pls} for the Service")
    deadline = context.current_utc_datetime + timedelta(seconds=options.service_ip_deadline_seconds)
    while True:
        seen: Outcome = yield from call(context, Step.VNET_INTEGRATION, observe_private_link_service, payload, options)
        if seen.get("id"):
            break
        if context.current_utc_datetime >= deadline:
            events = "; ".join(seen.get("warnings") or []) or "no Warning events"
            error = PermanentError(
                "PrivateLinkServiceTimeout",
                f"AKS made no Private Link Service {pls} after {options.service_ip_deadline_seconds:.0f} s "
                f"(the Service's events: {events})",
                step=Step.VNET_INTEGRATION,
            )
            raise StepFailed(Step.VNET_INTEGRATION, error)
        yield from sleep(context, options.poll_seconds)
    progress.say(f"Ensuring the private endpoint's subnet and private endpoint kubelink-{spec['name']} in {own}")
    subnet = yield from _provisioned(
        context, Step.VNET_INTEGRATION, ensure_endpoint_subnet, "endpointSubnet", payload, options
    )
    with_service = {**payload, "serviceId": seen["id"]}
    endpoint = yield from _provisioned(
        context, Step.VNET_INTEGRATION, ensure_private_endpoint, "privateEndpoint", with_service, options
    )
    deadline = context.current_utc_datetime + timedelta(seconds=options.service_ip_deadline_seconds)
    while True:
        state: Outcome = yield from call(context, Step.VNET_INTEGRATION, observe_private_endpoint, payload, options)
        if state.get("status") == "Approved" and state.get("ip"):
            break
        if state.get("status") == "Rejected" or context.current_utc_datetime >= deadline:
            code = "PrivateEndpointRejected" if state.get("status") == "Rejected" else "PrivateEndpointPending"
            error = PermanentError(code, str(state.get("message")), step=Step.VNET_INTEGRATION)
            raise StepFailed(Step.VNET_INTEGRATION, error)
        progress.say(f"Waiting for the connection to {pls} to be approved ({state.get('status')})")
        yield from sleep(context, options.poll_seconds)
    progress.results[Step.VNET_INTEGRATION] = combine_results([subnet["result"], endpoint["result"]])
    progress.say(f"Private endpoint kubelink-{spec['name']} is Approved at {state['ip']}")
    return str(state["ip"])


def _peerings(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    """Both sides of the peering between the app's VNet and the cluster's, then the wait for ``Connected``."""
    spec = payload["spec"]
    own, vnet = spec["app"]["virtualNetwork"]["name"], spec["network"]["virtualNetwork"]
    progress.say(f"Peering the app's virtual network {own} with the cluster's {vnet}, both ways")
    ensured: Outcome = yield from call(context, Step.VNET_INTEGRATION, ensure_peerings, payload, options)
    deadline = context.current_utc_datetime + timedelta(seconds=options.peering_deadline_seconds)
    while True:
        seen: Outcome = yield from call(context, Step.VNET_INTEGRATION, observe_peerings, payload, options)
        if seen["connected"]:
            return str(ensured["result"])
        states = " and ".join(f"{side} {state}" for side, state in zip((own, vnet), seen["states"], strict=True))
        if context.current_utc_datetime >= deadline:
            error = PermanentError(
                "PeeringNotConnected",
                f"the peering between {own} and {vnet} is not Connected after "
                f"{options.peering_deadline_seconds:.0f} s (peerings of {states})",
                step=Step.VNET_INTEGRATION,
            )
            raise StepFailed(Step.VNET_INTEGRATION, error)
        progress.say(f"Waiting for the peering to be Connected (peerings of {states})")
        yield from sleep(context, options.poll_seconds)


def _app_setting(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    payload: dict[str, Any],
    private_ip: str,
    options: RunOptions,
) -> Flow:
    from kubelink.spec import LinkSpec

    spec = payload["spec"]
    link = LinkSpec.from_json(spec)
    setting, value = link.app.setting, setting_value(link, private_ip)
    results = []
    if spec.get("dns"):
        zone, vnet = spec["dns"]["zone"], spec["network"]["virtualNetwork"]
        progress.start(Step.APP_SETTING, f"Ensuring private DNS zone {zone} linked to virtual network {vnet}")
        for activity, resource in ((ensure_dns_zone, "dnsZone"), (ensure_dns_link, "dnsLink")):
            ensured = yield from _provisioned(context, Step.APP_SETTING, activity, resource, payload, options)
            results.append(ensured["result"])
        record = {**payload, "value": private_ip}
        named = yield from call(context, Step.APP_SETTING, ensure_dns_record, record, options)
        results.append(named["result"])
        progress.say(f"Setting {setting} = {value} (its A record names {private_ip}) on the app")
    else:
        progress.start(Step.APP_SETTING, f"Setting {setting} = {private_ip} on the app")
    ensured = yield from call(context, Step.APP_SETTING, ensure_app_setting, {**payload, "value": value}, options)
    results.append(ensured["result"])
    progress.finish(Step.APP_SETTING, combine_results(results), f"App setting {setting} holds {value}")


def _release_gateway(
    context: df.DurableOrchestrationContext, progress: Progress, payload: dict[str, Any], options: RunOptions
) -> Flow:
    """Last, when the app no longer uses the gateway: its update takes minutes in Azure, and nothing waits on it."""
    app, gateway = payload["spec"]["app"]["name"], payload["spec"]["gateway"]["name"]
    progress.start(
        Step.POINT_TO_SITE, f"Removing app {app}'s root certificate from gateway {gateway}, unused since the move"
    )
    released = yield from _when_gateway_idle(
        context, progress, Step.POINT_TO_SITE, release_app_certificate, payload, options
    )
    if released.get("provisioningState") != "Succeeded":
        deadline = options.gateway_deadline_seconds
        yield from wait_provisioned(
            context, Step.POINT_TO_SITE, "gateway", payload, options, deadline, released.get("operation")
        )
    progress.finish(
        Step.POINT_TO_SITE,
        released["result"],
        f"Gateway {gateway} no longer trusts app {app}'s certificate; the gateway itself stays (it may serve others)",
    )


def _record_failure(
    context: df.DurableOrchestrationContext,
    progress: Progress,
    spec: dict[str, Any],
    step: str,
    error: KubelinkError,
    warnings: list[str] | None,
    options: RunOptions,
) -> Flow:
    progress.fail(step, f"Step {step} failed: {error.code}: {error.message}")
    failed = {"spec": spec, "step": step, "error": error.to_json(), "warnings": warnings}
    with suppress(StepFailed):  # best effort: the run's Failed output says the same
        yield from call(context, Step.RECORD, record_link_failed, failed, options)


def _failure(step: str, error: KubelinkError) -> Exception:
    """The Failed status's ``output``: machine-readable step, code and message (no secrets ever reach it)."""
    return Exception(
        json.dumps({"step": step, "code": error.code, "message": error.message, "resource": error.resource})
    )
