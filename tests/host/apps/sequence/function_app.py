"""Fixture: an HTTP starter and a three-step activity sequence with custom status."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["name"], req.params.get("id"), req.get_json() if body else None
    )
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    who = context.get_input()["who"]
    results = []
    for step in ("Tokyo", "Seattle", "London"):
        results.append((yield context.call_activity("say_hello", f"{who}@{step}")))
        context.set_custom_status({"done": len(results)})
    return results


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}!"
