"""The drift timer: start a verification sweep on ``KUBELINK_VERIFY_SCHEDULE``, one sweep at a time.

The schedule is the host's ``%KUBELINK_VERIFY_SCHEDULE%`` expression when that app setting is set, so the
Functions host resolves and validates it (a bad value disables this timer only, never the app); when it
is unset the timer runs every 15 minutes, the documented default (a ``%SETTING%`` has no default of its
own, and an unresolved one stops the function from loading).

Singleton: the sweep always runs under the fixed id ``verify-sweep``; a tick that finds it still active
lets it finish. The status check and the start are two calls (docs/durable.md §4 calls this
"attempts to ensure"), so a start refused because another won the race is treated the same way.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func

from adapters import settings
from adapters.runs import SWEEP_INSTANCE_ID, SWEEP_ORCHESTRATOR, start_singleton
from adapters.store import LinkStore
from kubelink.options import RunOptions

bp = df.Blueprint()
log = logging.getLogger(__name__)


def verify_schedule_expression() -> str:
    """``%KUBELINK_VERIFY_SCHEDULE%`` when the setting is set, else the default NCRONTAB (read at indexing)."""
    if os.environ.get(settings.VERIFY_SCHEDULE, "").strip():
        return f"%{settings.VERIFY_SCHEDULE}%"
    return settings.DEFAULT_VERIFY_SCHEDULE


@bp.timer_trigger(arg_name="timer", schedule=verify_schedule_expression(), run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def verify_links_on_schedule(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Start the sweep unless the previous one is still running."""
    sweep = {
        "concurrency": settings.verify_concurrency(),
        "options": RunOptions.for_poll_seconds(settings.poll_seconds()).to_json(),
    }
    if await start_singleton(client, SWEEP_ORCHESTRATOR, SWEEP_INSTANCE_ID, sweep):
        log.info("Started verification sweep %s (concurrency %s)", SWEEP_INSTANCE_ID, sweep["concurrency"])
    else:
        log.info("Verification sweep %s is still running; this tick leaves it alone", SWEEP_INSTANCE_ID)
    purged = await asyncio.to_thread(purge_expired_drift)
    if purged:
        log.info("Purged the drift history of torn-down links %s", ", ".join(purged))


def purge_expired_drift(now: datetime | None = None) -> list[str]:
    """Torn-down links' drift history older than ``KUBELINK_DRIFT_RETENTION_DAYS`` goes, on the drift timer's tick."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.drift_retention_days())
    return LinkStore.from_env().purge_removed(cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"))
