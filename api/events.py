"""The Event Grid trigger: ARM's events about a resource a link depends on verify that link at once.

Azure Resource Manager publishes every successful write, delete and action of the subscription to an Event
Grid system topic, whose subscription delivers them here (README "Drift", "Within seconds: ARM's events"). Per event:

1. ``kubelink.events.arm_change`` drops what cannot concern a link (other event types, actions that only
   read — a verification's own ``config/appsettings/list`` among them) without any I/O.
2. One Table query of the event index (``LinkStore.links_depending_on``) names the links whose spec uses the
   resource: an event about anything else ends there.
3. Each such link is verified through the singleton rule (``verify-link-{name}``), with
   ``settleSeconds``: the verification waits that long on a durable timer before it reads, so a burst of
   events makes one verification. An event that finds it still settling is covered by the reads to come
   (its custom status leaves ``settle`` only in the episode that schedules them, after the write this
   event reports); one that finds it reading is handed over (``resourceChanged``) and the run verifies again.

kubelink's own writes: every write kubelink makes is part of the link's provisioning or teardown run
(verification only reads; remediation starts a provisioning run), so an event is dropped when one of those
runs is active, or the event happened before the run recorded its end (``last_run_ended``, stamped to the
microsecond by the recording activity after the run's last write; the status API's ``lastUpdatedTime`` is
whole seconds, too coarse to tell the run's last write from someone else's right after it, so it is only the
fallback for a run that ended without recording). That run reads every resource and records the link's state
itself; a foreign change made during the run, after the run read that resource, is left to the sweep.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from adapters import settings
from adapters.runs import BUSY, VERIFY_ORCHESTRATOR, start_singleton
from adapters.store import LinkStore
from kubelink.events import ArmChange, arm_change
from kubelink.names import provision_instance_id, teardown_instance_id, verify_instance_id
from kubelink.options import RunOptions
from orchestrators.verify_link import RESOURCE_CHANGED, SETTLING

bp = df.Blueprint()
log = logging.getLogger(__name__)


@bp.event_grid_trigger(arg_name="event")
@bp.durable_client_input(client_name="client")
async def resource_changed(event: func.EventGridEvent, client: df.DurableOrchestrationClient) -> None:
    """One ARM event: verify every link that depends on the resource it names."""
    when = _aware(event.event_time) if event.event_time else None
    change = arm_change(event.event_type, event.subject, when, event.get_json(), event_id=event.id)
    if change is None:
        return
    store = LinkStore.from_env()
    names = await asyncio.to_thread(store.links_depending_on, change.resource)
    for name in names:
        outcome = await verify_for_change(client, store, name, change)
        log.info(
            "ARM event %s (%s on %s) for link %s: %s", change.event_id, change.operation, change.resource, name, outcome
        )


async def verify_for_change(
    client: df.DurableOrchestrationClient, store: LinkStore, name: str, change: ArmChange
) -> str:
    """Start (or hand the change to) the link's verification; returns what was done, for the log."""
    from kubelink.spec import LinkSpec  # pydantic: loaded on first use, not at cold start

    record = await asyncio.to_thread(store.get_link, name)
    if record is None or not record.last_provisioned:
        return "not provisioned yet: nothing to verify"
    if settings.check_scopes(LinkSpec.from_json(record.spec), settings.allowed_scopes()):
        return "outside KUBELINK_ALLOWED_SCOPES: ignored"
    if record.last_run_ended and change.event_time <= datetime.fromisoformat(record.last_run_ended):
        return "it happened before its last run recorded its end (that run's own write, or seen by it)"
    for own in (provision_instance_id(name), teardown_instance_id(name)):
        writer = await client.get_status(own)
        if writer and writer.runtime_status in BUSY:
            return f"its run {own} is active and covers it"
        if writer and writer.last_updated_time and change.event_time <= _aware(writer.last_updated_time):
            return f"it happened before its run {own} last changed state (that run's own write, or seen by it)"
    instance_id = verify_instance_id(name)
    run: dict[str, Any] = {
        "name": name,
        "options": RunOptions.for_poll_seconds(settings.poll_seconds()).to_json(),
        "settleSeconds": settings.event_settle_seconds(),
        "change": change.to_json(),
    }
    for _ in range(2):  # a verification that ends between the refused start and the hand-over: start again
        if await start_singleton(client, VERIFY_ORCHESTRATOR, instance_id, run):
            await asyncio.to_thread(store.upsert_link, name, verify_instance=instance_id)
            return f"verification {instance_id} started"
        running = await client.get_status(instance_id)
        if isinstance(running.custom_status, dict) and running.custom_status.get("step") == SETTLING:
            return f"verification {instance_id} has not read yet: it will see this change"
        try:
            await client.raise_event(instance_id, RESOURCE_CHANGED, change.to_json())
        except Exception:
            continue
        return f"handed to the running verification {instance_id}"
    return f"verification {instance_id} neither started nor took the change; the sweep will see it"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
