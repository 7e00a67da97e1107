"""Fixture: an activity that raises, caught in one orchestrator and fatal in another."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def fatal(context: df.DurableOrchestrationContext):
    yield context.call_activity("explode", "boom")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def tolerant(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("explode", "bang")
    except Exception as error:
        return {"caught": str(error).split(" \n ")[0]}
    return None


@app.orchestration_trigger(context_name="context")
def raises(context: df.DurableOrchestrationContext):
    yield context.call_activity("explode", None)
    return None


@app.orchestration_trigger(context_name="context")
def bad_output(context: df.DurableOrchestrationContext):
    context.set_custom_status("about to fail")
    if context.get_input() == "raise":
        raise RuntimeError("orchestrator gave up")
    return {"never": set()}
    yield


@app.activity_trigger(input_name="message")
def explode(message: str) -> None:
    if message is None:
        return None
    raise ValueError(message)


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("fatal", None, "child-of-parent")
    except Exception as error:
        return {"child_failed": str(error).split(" \n ")[0]}
    return None


@app.orchestration_trigger(context_name="context")
def typo(context: df.DurableOrchestrationContext):
    yield context.call_activity("no_such_activity", None)
    return "unreachable"
