"""``provision_link``'s branches, driven at the generator level with a scripted context (as the Durable Functions
samples' ``samples-v2/function_chaining/tests`` do): every activity call, timer and custom status is seen, and each
activity answers from a script, so deadlines and retries are reached in microseconds, without a host.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelink.options import RunOptions
from kubelink.validation import parse_link_spec
from orchestrators.provision_link import provision_link
from tests.example import example_link

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OPTIONS = RunOptions(
    poll_seconds=10, service_ip_deadline_seconds=60, gateway_deadline_seconds=300, retry_first_seconds=5
)
Answer = Callable[[dict[str, Any], int], dict[str, Any]]


@dataclass
class Timer:
    fire_at: datetime


@dataclass
class ActivityCall:
    name: str
    payload: dict[str, Any]


@dataclass
class ScriptedContext:
    """The parts of ``DurableOrchestrationContext`` the orchestrators use; a timer moves the clock to its fire time."""

    run: dict[str, Any]
    current_utc_datetime: datetime = START
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def get_input(self) -> dict[str, Any]:
        return self.run

    def call_activity(self, activity: Any, payload: dict[str, Any]) -> ActivityCall:
        name = activity if isinstance(activity, str) else activity._function._name
        return ActivityCall(name, json.loads(json.dumps(payload)))  # what crosses the boundary is JSON

    def create_timer(self, fire_at: datetime) -> Timer:
        return Timer(fire_at)

    def set_custom_status(self, status: dict[str, Any]) -> None:
        self.statuses.append(json.loads(json.dumps(status)))


@dataclass
class Run:
    calls: list[ActivityCall]
    timers: list[Timer]
    context: ScriptedContext
    output: Any = None
    failure: dict[str, Any] | None = None

    def names(self) -> list[str]:
        return [c.name for c in self.calls]


def ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def error(code: str, *, transient: bool, retry_after: float | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": code, "message": f"{code} happened", "transient": transient, "retryAfter": retry_after},
    }


def converged(*, integration: str = "gateway") -> dict[str, Answer]:
    """Answers of a world where every resource exists and matches."""
    unchanged = ok(result="unchanged", changes=[], provisioningState="Succeeded")
    return {
        "preflight": lambda p, n: ok(facts={"appGatewayConnection": integration == "gateway"}, warnings=[]),
        "ensure_service": lambda p, n: ok(result="unchanged", changes=[], ip="10.240.16.25"),
        "observe_service_ip": lambda p, n: ok(ip="10.240.16.25", warnings=[]),
        "ensure_gateway_subnet": lambda p, n: unchanged,
        "ensure_public_ip": lambda p, n: unchanged,
        "ensure_app_vnet_connection": lambda p, n: ok(result="unchanged", changes=[]),
        "ensure_gateway": lambda p, n: {**unchanged, "pointToSite": "unchanged"},
        "connect_app_gateway": lambda p, n: ok(result="unchanged", changes=[]),
        "ensure_app_subnet": lambda p, n: unchanged,
        "connect_app_regional": lambda p, n: ok(result="unchanged", changes=[]),
        "ensure_app_routing": lambda p, n: ok(result="unchanged", changes=[]),
        "release_app_certificate": lambda p, n: unchanged,
        "ensure_app_setting": lambda p, n: ok(result="unchanged", changes=[]),
        "observe_provisioning": lambda p, n: ok(provisioningState="Succeeded", error=None),
        "record_link_ready": lambda p, n: ok(),
        "record_link_failed": lambda p, n: ok(),
    }


def drive(spec: dict[str, Any], answers: dict[str, Answer]) -> Run:
    """Run the orchestrator generator to its end, answering each yielded task from ``answers``."""
    context = ScriptedContext({"spec": parse_link_spec(json.dumps(spec)).to_json(), "options": OPTIONS.to_json()})
    generator: Generator[Any, Any, Any] = provision_link._function._func.orchestrator_function(context)
    run = Run([], [], context)
    counts: dict[str, int] = {}
    try:
        task = next(generator)
        while True:
            if isinstance(task, Timer):
                run.timers.append(task)
                context.current_utc_datetime = task.fire_at
                task = generator.send(None)
                continue
            run.calls.append(task)
            counts[task.name] = counts.get(task.name, 0) + 1
            try:
                answer = answers[task.name](task.payload, counts[task.name])
            except RuntimeError as crashed:  # a failed activity task raises inside the orchestrator
                task = generator.throw(crashed)
            else:
                task = generator.send(answer)
    except StopIteration as finished:
        run.output = finished.value
    except Exception as failed:
        run.failure = json.loads(str(failed))
    return run


def test_converged_gateway_link_calls_every_step_in_order_and_reports_unchanged() -> None:
    run = drive(example_link(), converged())
    assert run.names() == [
        "preflight",
        "ensure_service",
        "observe_service_ip",
        "ensure_gateway_subnet",
        "ensure_public_ip",
        "ensure_app_vnet_connection",
        "ensure_gateway",
        "connect_app_gateway",
        "ensure_app_setting",
        "record_link_ready",
    ]
    assert run.output == {
        "name": "orders-api",
        "privateAddress": "10.240.16.25",
        "steps": dict.fromkeys(("service", "gateway", "pointToSite", "vnetIntegration", "appSetting"), "unchanged"),
    }
    assert run.timers == []
    assert run.context.statuses[-1]["steps"] == dict.fromkeys(run.output["steps"], "done")


def test_service_ip_timeout_fails_the_service_step_with_its_events_once_the_deadline_passes() -> None:
    answers = converged()
    answers["observe_service_ip"] = lambda p, n: ok(ip=None, warnings=["SyncLoadBalancerFailed: subnet is full"])
    run = drive(example_link(), answers)
    assert run.failure is not None
    assert (run.failure["step"], run.failure["code"]) == ("service", "ServiceIpTimeout")
    assert "SyncLoadBalancerFailed: subnet is full" in run.failure["message"]
    polls = run.names().count("observe_service_ip")
    assert polls == OPTIONS.service_ip_deadline_seconds / OPTIONS.poll_seconds + 1  # one look at the deadline
    assert all(b.fire_at - a.fire_at == timedelta(seconds=10) for a, b in zip(run.timers, run.timers[1:], strict=False))
    assert run.names()[-1] == "record_link_failed"
    recorded = run.calls[-1].payload
    assert (recorded["step"], recorded["error"]["code"]) == ("service", "ServiceIpTimeout")
    assert run.context.statuses[-1]["steps"]["service"] == "failed"


def test_gateway_deadline_ends_the_run_with_deadline_exceeded_and_says_it_may_still_finish() -> None:
    answers = converged()
    answers["ensure_gateway"] = lambda p, n: ok(
        result="created", pointToSite="created", changes=[], provisioningState="Updating", operation="https://op/1"
    )
    answers["observe_provisioning"] = lambda p, n: ok(provisioningState="Updating", error=None)
    run = drive(example_link(), answers)
    assert run.failure is not None
    assert (run.failure["step"], run.failure["code"], run.failure["resource"]) == (
        "gateway",
        "DeadlineExceeded",
        "gateway",
    )
    assert "POST the link again" in run.failure["message"]
    assert run.context.current_utc_datetime - START >= timedelta(seconds=OPTIONS.gateway_deadline_seconds)
    assert "connect_app_gateway" not in run.names()
    observed = [c.payload for c in run.calls if c.name == "observe_provisioning"]
    assert {o["operation"] for o in observed} == {"https://op/1"}  # the failure's own error is read from there


def test_a_failed_gateway_operation_reports_azures_code_and_message() -> None:
    answers = converged()
    answers["ensure_gateway"] = lambda p, n: ok(
        result="created", pointToSite="created", changes=[], provisioningState="Updating", operation="https://op/2"
    )
    failure = {"code": "ZoneCapacityExhausted", "message": "No capacity in zone 2"}
    answers["observe_provisioning"] = lambda p, n: ok(provisioningState="Failed", error=failure)
    run = drive(example_link(), answers)
    assert run.failure == {"step": "gateway", "resource": "gateway", **failure}


def test_transient_errors_back_off_honouring_retry_after_then_succeed() -> None:
    answers = converged()
    answers["ensure_app_setting"] = lambda p, n: (
        error("TooManyRequests", transient=True, retry_after=42) if n == 1 else ok(result="updated", changes=[])
    )
    run = drive(example_link(), answers)
    assert run.failure is None and run.output["steps"]["appSetting"] == "updated"
    (timer,) = run.timers
    assert timer.fire_at - START == timedelta(seconds=42)  # Retry-After beat the 5 s first backoff


def test_a_permanent_error_fails_at_once_with_the_platforms_code() -> None:
    answers = converged()
    answers["ensure_public_ip"] = lambda p, n: error("AuthorizationFailed", transient=False)
    run = drive(example_link(), answers)
    assert run.failure is not None and (run.failure["step"], run.failure["code"]) == ("gateway", "AuthorizationFailed")
    assert run.names().count("ensure_public_ip") == 1 and run.timers == []


def test_a_table_storage_blip_after_a_finished_run_is_retried_not_a_failure() -> None:
    answers = converged()
    answers["record_link_ready"] = lambda p, n: error("ServiceUnavailable", transient=True) if n < 3 else ok()
    run = drive(example_link(), answers)
    assert run.failure is None and run.output["privateAddress"] == "10.240.16.25"
    assert run.names().count("record_link_ready") == 3


def test_regional_link_touches_no_gateway_and_a_move_releases_the_certificate_last() -> None:
    subnet = {"name": "apps", "prefix": "10.240.32.0/26"}
    regional = example_link(integration="regional", app={**example_link()["app"], "subnet": subnet})
    fresh = drive({k: v for k, v in regional.items() if k != "gateway"}, converged(integration="regional"))
    assert not any("gateway" in name for name in fresh.names())
    assert fresh.output["steps"]["pointToSite"] == "unchanged"
    moving = drive(regional, converged(integration="gateway"))  # the app still has its gateway-required connection
    assert moving.names()[-2:] == ["release_app_certificate", "record_link_ready"]
    assert moving.names().index("connect_app_regional") < moving.names().index("ensure_app_setting")


@pytest.mark.parametrize("crash_in", ["ensure_service", "connect_app_gateway"])
def test_a_crashed_activity_is_reported_on_its_step_without_a_traceback(crash_in: str) -> None:
    answers = converged()

    def crash(payload: dict[str, Any], n: int) -> dict[str, Any]:
        raise RuntimeError("boom\nTraceback: secret-looking detail")

    answers[crash_in] = crash
    context_step = {"ensure_service": "service", "connect_app_gateway": "vnetIntegration"}[crash_in]
    run = drive(example_link(), answers)
    assert run.failure is not None
    assert (run.failure["step"], run.failure["code"], run.failure["message"]) == (context_step, "InternalError", "boom")


def private_link_link() -> dict[str, Any]:
    body = example_link()
    sub = body["subscriptionId"]
    body["integration"] = "privateLink"
    body.pop("gateway", None)
    body["kubernetes"]["aksCluster"] = (
        f"/subscriptions/{sub}/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/m"
    )
    body["app"]["virtualNetwork"] = {"resourceGroup": "apps-rg", "name": "apps-vnet"}
    body["app"]["subnet"] = {"name": "apps", "prefix": "10.50.1.0/26"}
    body["privateLink"] = {"endpointSubnet": {"name": "pe", "prefix": "10.50.2.0/27"}}
    return body


def private_link_answers() -> dict[str, Answer]:
    answers = converged(integration="regional")
    answers["observe_private_link_service"] = lambda p, n: ok(id="/pls/kubelink-orders-api", warnings=[])
    answers["ensure_endpoint_subnet"] = lambda p, n: ok(result="unchanged", changes=[], provisioningState="Succeeded")
    answers["ensure_private_endpoint"] = lambda p, n: ok(result="unchanged", changes=[], provisioningState="Succeeded")
    answers["observe_private_endpoint"] = lambda p, n: ok(status="Approved", ip="10.50.2.4", message="")
    return answers


def test_private_link_sets_the_endpoints_ip_and_never_peers() -> None:
    answers = private_link_answers()
    run = drive(private_link_link(), answers)
    assert run.failure is None, run.failure
    assert run.output["privateAddress"] == "10.50.2.4"
    assert "ensure_peerings" not in run.names() and "ensure_gateway" not in run.names()
    setting = next(c.payload for c in run.calls if c.name == "ensure_app_setting")
    assert setting["value"] == "10.50.2.4"
    endpoint = next(c.payload for c in run.calls if c.name == "ensure_private_endpoint")
    assert endpoint["serviceId"] == "/pls/kubelink-orders-api"


def test_a_private_link_service_that_never_comes_fails_with_the_services_events() -> None:
    answers = private_link_answers()
    answers["observe_private_link_service"] = lambda p, n: ok(
        id=None, warnings=["SyncLoadBalancerFailed: no node group"]
    )
    run = drive(private_link_link(), answers)
    assert run.failure is not None
    assert (run.failure["step"], run.failure["code"]) == ("vnetIntegration", "PrivateLinkServiceTimeout")
    assert "SyncLoadBalancerFailed: no node group" in run.failure["message"]
    assert "ensure_private_endpoint" not in run.names()


def test_a_pending_connection_is_reported_after_the_deadline_and_a_rejected_one_at_once() -> None:
    answers = private_link_answers()
    answers["observe_private_endpoint"] = lambda p, n: ok(
        status="Pending", ip="10.50.2.4", message="owner must approve"
    )
    pending = drive(private_link_link(), answers)
    assert pending.failure is not None and pending.failure["code"] == "PrivateEndpointPending"
    assert pending.failure["message"] == "owner must approve"
    answers["observe_private_endpoint"] = lambda p, n: ok(status="Rejected", ip="10.50.2.4", message="rejected")
    rejected = drive(private_link_link(), answers)
    assert rejected.failure is not None and rejected.failure["code"] == "PrivateEndpointRejected"
    assert rejected.names().count("observe_private_endpoint") == 1
