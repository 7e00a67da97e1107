"""The activity contract the orchestrators rely on, applied once for every activity.

In: a plain dict ``{"spec": <LinkSpec JSON>, ...}``; the spec is rebuilt here, at the edge. Out: a plain
dict, ``{"ok": true, ...}`` or ``{"ok": false, "error": <KubelinkError JSON>}``. A platform failure (Azure,
Kubernetes, the network) is *returned* as an error that says whether retrying can help, so the
orchestrator decides with durable timers; anything else is a bug and raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from activities.arm import start
from kubelink.desired import ArmState
from kubelink.diff import ResourceChange
from kubelink.errors import KubelinkError
from kubelink.progress import combine_results

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

log = logging.getLogger("kubelink.activities")

Payload = Mapping[str, Any]
Body = Callable[["LinkSpec", Payload], dict[str, Any]]


def run_activity(
    step: str, payload: Payload, body: Body, *, resource: Callable[[LinkSpec], str] | None = None
) -> dict[str, Any]:
    """Run ``body`` under the contract; ``resource`` names what a Kubernetes error is about (ARM errors name
    their request path themselves)."""
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    spec = LinkSpec.from_json(payload["spec"])
    try:
        return {"ok": True, **body(spec, payload)}
    except Exception as exc:
        from adapters.clients import arm_error, is_platform_error

        if not isinstance(exc, KubelinkError) and not is_platform_error(exc):
            raise
        error = arm_error(exc, step=step, resource=resource(spec) if resource else None)
        error.step = error.step or step
        log.warning(
            "link %s, step %s: %s %s: %s",
            spec.name,
            step,
            "transient" if error.transient else "permanent",
            error.code,
            error.message,
        )
        return {"ok": False, "error": error.to_json()}


@contextmanager
def explained(step: str, addition: str) -> Iterator[None]:
    """A platform error raised inside keeps the platform's own code and message, followed by ``addition``: what
    kubelink knows about it that Azure does not say."""
    try:
        yield
    except Exception as exc:
        from adapters.clients import arm_error, is_platform_error

        if not isinstance(exc, KubelinkError) and not is_platform_error(exc):
            raise
        error = arm_error(exc, step=step)
        error.message = f"{error.message} ({addition})"
        raise error from None


def outcome(*changes: ResourceChange) -> dict[str, Any]:
    """``result`` and ``changes`` of a step that wrote (or would write) ``changes``' resources, and ``created``: the
    resources it creates, which the orchestrator adds to the link record's ``ownership`` (teardown's evidence
    where ARM holds no tag, as on subnets and App Service connections)."""
    existing = {c.resource.lower() for c in changes if c.exists}  # a new part (point-to-site) of an existing whole
    return {
        "result": combine_results(c.result for c in changes),
        "changes": [item.to_json() for c in changes for item in c.changes],
        "created": list(
            dict.fromkeys(c.resource for c in changes if not c.exists and c.resource.lower() not in existing)
        ),
    }


def restart_allowed(payload: Payload) -> bool:
    """False when a run must not restart the app (``remediate: "safe"``): see ``deferred``."""
    return bool(payload.get("restartApp", True))


def deferred(change: ResourceChange) -> dict[str, Any]:
    """The answer of an activity that would restart the app but may not: nothing written, the fields left to the
    user in ``deferred`` (they stay drift, reported)."""
    return {**outcome(change), "result": "unchanged", "created": [], "deferred": [i.field_text for i in change.changes]}


def started(change: ResourceChange, state: ArmState, begin: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """``outcome(change)``, with the resource's long-running write (``begin(*args)``) started only when it differs,
    and what the orchestrator waits on: ``provisioningState`` (and the write's ``operation``)."""
    if not change.changes:
        return {**outcome(change), "provisioningState": state.provisioning_state}
    return {**outcome(change), **start(begin, *args)}
