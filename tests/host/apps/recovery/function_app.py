"""Fixture for kill-and-restart: step1, a blocking step2 (released by a file) and a 2 s durable timer."""

import os
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _log(line: str) -> None:
    with (Path(os.environ["HOST_TEST_DIR"]) / "calls.log").open("a") as f:
        f.write(line + "\n")


@app.route(route="start/{id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new("recoverable", req.route_params["id"], {"n": 1})
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def recoverable(context: df.DurableOrchestrationContext):
    one = yield context.call_activity("step1", context.get_input()["n"])
    two = yield context.call_activity("step2", one)
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=2))
    three = yield context.call_activity("step3", two)
    return [one, two, three]


@app.activity_trigger(input_name="n")
def step1(n: int) -> int:
    _log("step1")
    return n + 1


@app.activity_trigger(input_name="n")
def step2(n: int) -> int:
    _log("step2 start")
    release = Path(os.environ["HOST_TEST_DIR"]) / "release"
    while not release.exists():
        time.sleep(0.02)
    _log("step2 done")
    return n + 1


@app.activity_trigger(input_name="n")
def step3(n: int) -> int:
    _log("step3")
    return n + 1
