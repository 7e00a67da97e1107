"""verify_sweep: the safety net behind ARM's events — verify every provisioned link, reading as a fleet.

The timer trigger starts it under the fixed id ``verify-sweep`` (one sweep at a time), hourly by default:
drift is found within seconds from ARM's events (``api/events.py``); the sweep catches what no event
reports (the Service lives in Kubernetes) and anything an event missed.

Each execution hands ``CHUNK`` links to ``verify_fleet`` (activities/fleet.py), which reads each shared
resource once and verifies ``concurrency`` links at a time in a sliding window, paced on ARM's throttling
headers, leaving each link's records as ``verify_link`` would. Links that met a transient error are given
to it again after a durable timer (``Retry-After`` wins when longer), recorded as failed on the last
attempt; drifted links with ``remediate: true`` go through ``verify_link``, which remediates. Then it
continues as new with the rest, so the history replayed per episode stays one chunk long (docs/durable.md
§5, eternal loops).
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.fleet import verify_fleet
from activities.verify import list_verifiable_links
from kubelink.options import RunOptions
from kubelink.progress import Step
from orchestrators.flow import Flow, StepFailed, call, sleep

bp = df.Blueprint()

DEFAULT_CONCURRENCY = 10
#: links per ``verify_fleet`` call: its names in and out stay small in the history
CHUNK = 1000


@bp.orchestration_trigger(context_name="context")
def verify_sweep(context: df.DurableOrchestrationContext) -> Flow:
    sweep: dict[str, Any] = context.get_input() or {}
    options = RunOptions.from_json(sweep.get("options"))
    concurrency = max(1, int(sweep.get("concurrency") or DEFAULT_CONCURRENCY))
    tally: dict[str, int] = sweep.get("tally") or {"healthy": 0, "drifted": 0, "failed": 0}
    links: list[str] | None = sweep.get("links")
    if links is None:
        listed = yield from call(context, Step.VERIFY, list_verifiable_links, {}, options)
        links = list(listed["result"])
    done: int = sweep.get("done", 0)
    chunk = links[done : done + CHUNK]
    context.set_custom_status(
        {"verified": done, "links": len(links), **tally, "message": f"Verifying links {done + 1}-{done + len(chunk)}"}
    )
    verified_at = context.current_utc_datetime.strftime("%Y-%m-%dT%H:%M:%SZ")
    pending, remediate = chunk, []
    for attempt in range(options.retry_attempts + 1):
        if not pending:
            break
        final = attempt == options.retry_attempts
        fleet = {"names": pending, "verifiedAt": verified_at, "concurrency": concurrency, "final": final}
        try:
            verified = yield from call(context, Step.VERIFY, verify_fleet, fleet, options)
        except StepFailed:  # the store itself refused: those links could not be verified
            tally["failed"] += len(pending)
            break
        result: dict[str, Any] = verified["result"]
        for outcome in ("healthy", "drifted", "failed"):
            tally[outcome] += len(result[outcome])
        remediate += result["remediate"]
        pending = result["retry"]
        if pending and not final:
            yield from sleep(context, options.retry_delay(attempt, result["retryAfter"]))
    if remediate:
        yield from _remediate(context, remediate, sweep.get("options"), tally)
    done += len(chunk)
    if done < len(links):
        context.continue_as_new(
            {"links": links, "done": done, "tally": tally, "concurrency": concurrency, "options": sweep.get("options")}
        )
        return None
    summary = {"links": len(links), **tally}
    context.set_custom_status({"verified": done, **summary, "message": f"Verified {len(links)} links"})
    return summary


def _remediate(
    context: df.DurableOrchestrationContext, names: list[str], options: dict[str, Any] | None, tally: dict[str, int]
) -> Flow:
    """Drifted links that ask for remediation: verified again by ``verify_link``, which remediates (no
    ``*_with_retry`` inside a fan-out, SDK issue #603)."""
    verifications = [
        context.call_sub_orchestrator(
            "verify_link", {"name": name, "options": options}, f"{context.instance_id}:{name}"
        )
        for name in names
    ]
    try:
        results: list[dict[str, Any]] = yield context.task_all(verifications)
    except Exception:  # verify_link records its own errors; only a crash of it lands here
        tally["failed"] += len(names)
        return
    for result in results:
        tally["failed" if result.get("ready") is None else "healthy" if result["ready"] else "drifted"] += 1
