"""Fixture: task_any of an external event against a timeout timer (cancelled when the event wins)."""

from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="start/{name}/{id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], req.route_params["id"], None)
    return client.create_check_status_response(req, instance_id)


@app.route(route="approve/{id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def approve(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await client.raise_event(req.route_params["id"], "Approval", req.get_json())
    return func.HttpResponse(status_code=202)


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    answer = context.wait_for_external_event("Approval")
    winner = yield context.task_any([answer, deadline])
    if winner == answer:
        deadline.cancel()
        return {"approved": answer.result}
    return {"approved": None, "timed_out_at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def two_events(context: df.DurableOrchestrationContext):
    first = yield context.wait_for_external_event("Go")
    second = yield context.wait_for_external_event("Go")
    return [first, second]
