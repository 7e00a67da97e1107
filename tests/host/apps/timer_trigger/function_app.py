"""Fixture: a timer trigger on a %SETTING% schedule, run on startup, starting a singleton orchestration."""

import json
import os
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(arg_name="timer", schedule="%DRIFT_SCHEDULE%", run_on_startup=True)
@app.durable_client_input(client_name="client")
async def drift_timer(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    existing = await client.get_status("drift-check")
    started = False
    if not existing or existing.runtime_status not in (
        df.OrchestrationRuntimeStatus.Running,
        df.OrchestrationRuntimeStatus.Pending,
    ):
        await client.start_new("drift_check", "drift-check", None)
        started = True
    record = {"past_due": timer.past_due, "status": getattr(timer, "schedule_status", None), "started": started}
    with (Path(os.environ["HOST_TEST_DIR"]) / "timer.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")


@app.orchestration_trigger(context_name="context")
def drift_check(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("measure", None))


@app.activity_trigger(input_name="unused")
def measure(unused: None) -> str:
    return "no drift"
