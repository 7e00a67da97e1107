"""Fixture: which activity runs first depends on a switch file, which a test flips between episodes."""

import os
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def flip(context: df.DurableOrchestrationContext):
    switch = Path(os.environ["HOST_TEST_DIR"]) / "switch"
    first = "step_b" if switch.exists() else "step_a"  # deliberately non-deterministic
    yield context.call_activity(first, None)
    yield context.wait_for_external_event("Continue")
    return first


@app.activity_trigger(input_name="unused")
def step_a(unused: None) -> str:
    return "a"


@app.activity_trigger(input_name="unused")
def step_b(unused: None) -> str:
    return "b"
