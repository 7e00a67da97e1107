"""verify_sweep: verify every provisioned link, at most ``concurrency`` at a time.

The timer trigger starts it under the fixed id ``verify-sweep`` (one sweep at a time). Each execution
verifies one batch (``task_all`` over ``verify_link`` sub-orchestrations: no ``*_with_retry`` inside a
fan-out, SDK issue #603) and then continues as new with the rest, so the history replayed per episode
stays one batch long however many links there are (docs/durable.md §5, eternal loops).
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.verify import list_verifiable_links
from kubelink.options import RunOptions
from kubelink.progress import Step
from orchestrators.flow import Flow, call
from orchestrators.verify_link import verify_link

bp = df.Blueprint()

DEFAULT_CONCURRENCY = 10


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
    batch = links[done : done + concurrency]
    context.set_custom_status(
        {"verified": done, "links": len(links), **tally, "message": f"Verifying links {done + 1}-{done + len(batch)}"}
    )
    if batch:
        verifications = [
            context.call_sub_orchestrator(
                verify_link, {"name": name, "options": sweep.get("options")}, f"{context.instance_id}:{name}"
            )
            for name in batch
        ]
        try:
            results: list[dict[str, Any]] = yield context.task_all(verifications)
        except Exception:  # verify_link records its own errors; only a crash of it lands here
            tally["failed"] += len(batch)
        else:
            for result in results:
                outcome = "failed" if result.get("ready") is None else "healthy" if result["ready"] else "drifted"
                tally[outcome] += 1
    done += len(batch)
    if done < len(links):
        context.continue_as_new(
            {"links": links, "done": done, "tally": tally, "concurrency": concurrency, "options": sweep.get("options")}
        )
        return None
    summary = {"links": len(links), **tally}
    context.set_custom_status({"verified": done, **summary, "message": f"Verified {len(links)} links"})
    return summary
