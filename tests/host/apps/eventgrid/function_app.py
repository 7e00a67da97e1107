"""Fixture: an Event Grid trigger that appends each event it is given to ``$HOST_TEST_DIR/events.jsonl``;
an event whose subject is ``fail`` raises, as a failing function would."""

import json
import os

import azure.functions as func

app = func.FunctionApp()


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    if event.subject == "fail":
        raise RuntimeError("told to fail")
    record = {
        "id": event.id,
        "subject": event.subject,
        "eventType": event.event_type,
        "eventTime": event.event_time.isoformat() if event.event_time else None,
        "topic": event.topic,
        "data": event.get_json(),
    }
    with open(os.path.join(os.environ["HOST_TEST_DIR"], "events.jsonl"), "a") as out:
        out.write(json.dumps(record) + "\n")


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hi")
