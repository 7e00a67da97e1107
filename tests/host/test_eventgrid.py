"""The Event Grid webhook as the host's Event Grid extension serves it (local/host/eventgrid.py cites it)."""

from __future__ import annotations

import json
from typing import Any

import requests

EVENT: dict[str, Any] = {
    "id": "4db48cba-50a2-455a-93b4-de41a3b5b7f6",
    "topic": "/subscriptions/s",
    "subject": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app",
    "eventType": "Microsoft.Resources.ResourceWriteSuccess",
    "eventTime": "2026-01-05T08:00:01.5Z",
    "data": {"operationName": "Microsoft.Web/sites/write", "status": "Succeeded"},
    "dataVersion": "2",
    "metadataVersion": "1",
}


def _post(host, body, kind, function="on_event"):
    return requests.post(
        f"{host.url}/runtime/webhooks/eventgrid",
        params={"functionName": function},
        data=json.dumps(body),
        headers={"aeg-event-type": kind, "Content-Type": "application/json"},
        timeout=10,
    )


def test_validation_handshake_echoes_the_code(start_host):
    host = start_host("eventgrid")
    validation = {**EVENT, "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent"}
    validation["data"] = {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", "validationUrl": None}
    answer = _post(host, [validation], "SubscriptionValidation")
    assert answer.status_code == 200
    assert answer.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}


def test_each_event_of_a_batch_invokes_the_function_once(start_host, tmp_path):
    host = start_host("eventgrid")
    second = {**EVENT, "id": "second", "subject": EVENT["subject"] + "/config/appsettings"}
    assert _post(host, [EVENT, second], "Notification").status_code == 202
    seen = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sorted(e["id"] for e in seen) == [EVENT["id"], "second"]
    first = next(e for e in seen if e["id"] == EVENT["id"])
    assert first["subject"] == EVENT["subject"] and first["eventType"] == EVENT["eventType"]
    assert first["eventTime"].startswith("2026-01-05T08:00:01.5") and first["data"] == EVENT["data"]


def test_a_failed_invocation_answers_500_so_event_grid_redelivers(start_host):
    host = start_host("eventgrid")
    assert _post(host, [EVENT, {**EVENT, "subject": "fail"}], "Notification").status_code == 500


def test_unknown_function_unsubscribe_and_unknown_header(start_host):
    host = start_host("eventgrid")
    missing = _post(host, [EVENT], "Notification", function="nope")
    assert missing.status_code == 404 and "cannot find function: 'nope'" in missing.text
    assert _post(host, [EVENT], "Notification", function="hello").status_code == 404  # not an Event Grid trigger
    assert _post(host, [EVENT], "Unsubscribe").status_code == 202
    assert _post(host, [EVENT], "Something").status_code == 400
