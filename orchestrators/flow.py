"""Deterministic building blocks shared by the link orchestrators.

Only activity calls, durable timers and ``current_utc_datetime``: no I/O, no clock, no environment.
Retries are a manual loop of activity + timer instead of ``call_activity_with_retry`` (SDK issue #603,
and so that Azure's ``Retry-After`` and the transient/permanent split drive the backoff).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any, NotRequired, TypedDict, cast

import azure.durable_functions as df
from azure.functions.decorators.function_app import FunctionBuilder

from activities.gateway import observe_provisioning
from activities.records import record_link_ownership
from kubelink.errors import KubelinkError, PermanentError
from kubelink.options import RunOptions
from kubelink.progress import Step, StepResult

Flow = Generator[Any, Any, Any]
#: an activity function itself (the v2 model's ``call_activity`` takes it, so a renamed activity cannot be missed)
Activity = FunctionBuilder


class Outcome(TypedDict):
    """What an activity of the contract (``activities/contract.py``) answers once it succeeded; the keys beyond
    ``ok`` are there for the activities that have them."""

    ok: bool
    result: NotRequired[Any]
    changes: NotRequired[list[dict[str, Any]]]
    provisioningState: NotRequired[str | None]
    operation: NotRequired[str | None]
    pointToSite: NotRequired[StepResult]
    ip: NotRequired[str | None]
    warnings: NotRequired[list[str]]
    facts: NotRequired[dict[str, Any]]
    connected: NotRequired[bool]
    states: NotRequired[list[str]]
    id: NotRequired[str | None]
    status: NotRequired[str | None]
    message: NotRequired[str]
    #: a failed long-running operation's own error (``observe_provisioning``), not a failure of the call
    error: NotRequired[dict[str, Any] | None]
    #: ownership (``contract.outcome``): resources the activity created, owned fields of a Service first adopted
    created: NotRequired[list[str]]
    adopted: NotRequired[dict[str, Any]]
    #: teardown (``activities/teardown.py``)
    removed: NotRequired[list[str]]
    restored: NotRequired[list[str]]
    kept: NotRequired[list[dict[str, str]]]
    pending: NotRequired[bool]
    sharedWith: NotRequired[list[str]]
    certThumbprint: NotRequired[str | None]
    #: fields an activity left alone because writing them would restart the app (``remediate: "safe"``)
    deferred: NotRequired[list[str]]


#: provisioning states after which a resource will not change by itself
TERMINAL_STATES = frozenset({"Succeeded", "Failed", "Canceled"})


class StepFailed(Exception):
    """Ends a run: carries the step and the platform's own error."""

    def __init__(self, step: str, error: KubelinkError) -> None:
        super().__init__(error.message)
        self.step = step
        self.error = error


def sleep(context: df.DurableOrchestrationContext, seconds: float) -> Flow:
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))


def call(
    context: df.DurableOrchestrationContext, step: str, activity: Activity, payload: dict[str, Any], options: RunOptions
) -> Generator[Any, Any, Outcome]:
    """Call an activity of the activity contract; retry transient errors with backoff, fail on permanent ones."""
    for attempt in range(options.retry_attempts + 1):
        result: dict[str, Any] = yield context.call_activity(activity, payload)
        if result.get("ok"):
            if result.get("created") or result.get("adopted"):
                # what the activity created or first changed goes on the link record at once (teardown's evidence)
                mark = {"spec": payload["spec"], "created": result.get("created"), "adopted": result.get("adopted")}
                yield from call(context, Step.RECORD, record_link_ownership, mark, options)
            return cast(Outcome, result)
        error = KubelinkError.from_json(result["error"])
        if not error.transient or attempt == options.retry_attempts:
            raise StepFailed(step, error)
        yield from sleep(context, options.retry_delay(attempt, error.retry_after))
    raise AssertionError("unreachable")


def wait_provisioned(
    context: df.DurableOrchestrationContext,
    step: str,
    resource: str,
    payload: dict[str, Any],
    options: RunOptions,
    deadline_seconds: float,
    operation: str | None = None,
) -> Flow:
    """Poll ``observe_provisioning`` between durable timers until the resource settles or the deadline passes.

    ``operation`` is the write's Azure-AsyncOperation URL: ARM puts a failure's code and message there, not on
    the resource, so it is what lets a failed gateway report Azure's own words."""
    deadline = context.current_utc_datetime + timedelta(seconds=deadline_seconds)
    observe = {**payload, "resource": resource, "operation": operation, "step": step}
    while True:
        observed = yield from call(context, step, observe_provisioning, observe, options)
        state = observed.get("provisioningState")
        if state == "Succeeded":
            return observed
        if state in TERMINAL_STATES:
            error = observed.get("error") or {}
            raise StepFailed(
                step,
                PermanentError(
                    error.get("code") or f"Provisioning{state}",
                    error.get("message") or f"{resource} ended in provisioning state {state}",
                    step=step,
                    resource=resource,
                ),
            )
        if context.current_utc_datetime >= deadline:
            raise StepFailed(
                step,
                PermanentError(
                    "DeadlineExceeded",
                    f"{resource} still {state} after {deadline_seconds:.0f} s; it may still finish in Azure — "
                    "POST the link again to resume",
                    step=step,
                    resource=resource,
                ),
            )
        yield from sleep(context, options.poll_seconds)
