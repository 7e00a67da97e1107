"""Fixture: monitor loop on durable timers, retry, fan-out/fan-in, sub-orchestration and continue_as_new."""

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
_lock = threading.Lock()
_running = {"now": 0, "max": 0}


def _count(name: str) -> int:
    """Append to a per-name file under HOST_TEST_DIR (from local.settings.json) and return the call number."""
    path = Path(os.environ["HOST_TEST_DIR"]) / f"{name}.count"
    with _lock:
        calls = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(calls))
    return calls


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["name"], req.params.get("id"), payload)
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext):
    """Poll ``check`` every 30 s until it reports ready; report progress in custom status."""
    polls = 0
    while True:
        state = yield context.call_activity("check", context.get_input()["ready_after"])
        polls += 1
        context.set_custom_status({"polls": polls, "state": state})
        if state == "ready":
            return {"polls": polls, "finished": context.current_utc_datetime.isoformat()}
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=30))


@app.activity_trigger(input_name="readyafter")
def check(readyafter: int) -> str:
    return "ready" if _count("check") >= readyafter else "pending"


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=3)
    result = yield context.call_activity_with_retry("flaky", options, context.get_input())
    after = yield context.call_activity("say", "after")
    return [result, after]


@app.activity_trigger(input_name="failures")
def flaky(failures: int) -> str:
    attempt = _count("flaky")
    if attempt <= failures:
        raise ValueError(f"attempt {attempt} failed")
    return f"succeeded on attempt {attempt}"


@app.activity_trigger(input_name="text")
def say(text: str) -> str:
    return text


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    items = context.get_input()
    results = yield context.task_all([context.call_activity("work", item) for item in items])
    child = yield context.call_sub_orchestrator("child", {"values": [r["value"] for r in results]})
    return {**child, "max_parallel": max(r["parallel"] for r in results)}


@app.activity_trigger(input_name="item")
def work(item: int) -> dict:
    with _lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    time.sleep(0.05)
    with _lock:
        parallel = _running["max"]
        _running["now"] -= 1
    return {"value": item * 10, "parallel": parallel}


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext):
    return {"sum": sum(context.get_input()["values"]), "parent": context.parent_instance_id}


@app.orchestration_trigger(context_name="context")
def eternal(context: df.DurableOrchestrationContext):
    """Count up to ``limit`` one minute at a time, one generation per step."""
    state = context.get_input()
    if state["n"] >= state["limit"]:
        return state
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    yield context.call_activity("say", f"generation {state['n']}")
    context.continue_as_new({"n": state["n"] + 1, "limit": state["limit"]})
