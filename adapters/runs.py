"""The Durable runs kubelink starts, and the one rule they share: at most one active run per instance id.

``POST /api/links``, ``POST /api/links/{name}/verify``, ``DELETE /api/links/{name}``, the drift timer and
remediation all start runs under fixed ids (``link-{name}``, ``verify-link-{name}``, ``teardown-link-{name}``,
``verify-sweep``); a link has at most one of its own runs active at a time (``active_run``). The status check
and the start are two calls, so a start refused because another caller won the race counts as "already running" too.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

PROVISION_ORCHESTRATOR = "provision_link"
VERIFY_ORCHESTRATOR = "verify_link"
SWEEP_ORCHESTRATOR = "verify_sweep"
TEARDOWN_ORCHESTRATOR = "teardown_link"
#: the drift timer's one sweep at a time
SWEEP_INSTANCE_ID = "verify-sweep"

#: everything but the terminal states: the Durable extension refuses to start an id in these (NonRunningStates)
BUSY = frozenset(
    {
        df.OrchestrationRuntimeStatus.Running,
        df.OrchestrationRuntimeStatus.Pending,
        df.OrchestrationRuntimeStatus.Suspended,
        df.OrchestrationRuntimeStatus.ContinuedAsNew,
    }
)


async def instance_active(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return bool(status) and status.runtime_status in BUSY


async def start_singleton(
    client: df.DurableOrchestrationClient, orchestrator: str, instance_id: str, run: dict[str, Any]
) -> bool:
    """Start ``orchestrator`` as ``instance_id`` unless a run of it is active; True when this call started it."""
    if await instance_active(client, instance_id):
        return False
    try:
        await client.start_new(orchestrator, instance_id, run)
    except Exception:
        if await instance_active(client, instance_id):
            return False
        raise
    return True


async def active_run(client: df.DurableOrchestrationClient, instance_ids: list[str]) -> str | None:
    """The first of ``instance_ids`` (a link's provisioning, verification, teardown) that is active, if any."""
    for instance_id in instance_ids:
        if await instance_active(client, instance_id):
            return instance_id
    return None
