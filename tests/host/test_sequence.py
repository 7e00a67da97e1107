"""A sequence started through an HTTP starter (the real DurableOrchestrationClient) and polled like a client."""

from __future__ import annotations

import json

import requests

from tests.host.conftest import poll


def test_http_start_then_poll_status_url_until_done(start_host):
    host = start_host("sequence")
    response = requests.post(f"{host.url}/api/orchestrators/sequence", json={"who": "ann"})

    assert response.status_code == 202
    assert response.headers["Retry-After"] == "10"
    body = response.json()
    assert set(body) == {
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "rewindPostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    }
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert body["statusQueryGetUri"].startswith(f"{host.url}/runtime/webhooks/durabletask/instances/{body['id']}?")
    assert "taskHub=SequenceHub&connection=Storage" in body["statusQueryGetUri"]
    assert len(body["id"]) == 32

    done = poll(body["statusQueryGetUri"], lambda r: r.status_code == 200)
    status = done.json()
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello ann@Tokyo!", "Hello ann@Seattle!", "Hello ann@London!"]
    assert status["customStatus"] == {"done": 3}
    # Started by the Python client: the input is a JSON string holding JSON (SDK issue #195).
    assert json.loads(status["input"]) == {"who": "ann"}
    assert "historyEvents" not in status


def test_show_history_matches_the_extension_view(start_host):
    host = start_host("sequence")
    instance_id = host.start_orchestration("sequence", {"who": "cy"})
    host.wait_for(instance_id)
    url = f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}"

    plain = requests.get(url, params={"showHistory": "true"}).json()["historyEvents"]
    assert [e["EventType"] for e in plain] == [
        "ExecutionStarted",
        "TaskCompleted",
        "TaskCompleted",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    assert plain[1]["FunctionName"] == "say_hello"
    assert "Result" not in plain[1] and "ScheduledTime" in plain[1]
    assert plain[-1]["OrchestrationStatus"] == "Completed"

    full = requests.get(url, params={"showHistory": "True", "showHistoryOutput": "True", "showInput": "false"}).json()
    assert full["input"] is None
    assert full["historyEvents"][1]["Result"] == "Hello cy@Tokyo!"
    assert "Input" not in full["historyEvents"][1]
    assert full["historyEvents"][-1]["Result"] == ["Hello cy@Tokyo!", "Hello cy@Seattle!", "Hello cy@London!"]


def test_recorded_history_replays_through_the_sdk(start_host):
    """``host.history`` is the raw DTFx history: feeding it back to the SDK reproduces the final state."""
    host = start_host("sequence")
    instance_id = host.start_orchestration("sequence", {"who": "di"})
    host.wait_for(instance_id)
    history = host.history(instance_id)
    assert history[0]["EventType"] == 12 and history[1]["EventType"] == 0

    handle = host.functions["sequence"].fn
    context = {
        "history": [{**e, "IsPlayed": True} for e in history if e["EventType"] != 1],
        "input": json.loads(history[1]["Input"]),
        "instanceId": instance_id,
        "isReplaying": True,
        "parentInstanceId": None,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
    }
    state = json.loads(handle(json.dumps(context)))
    assert state["isDone"] is True
    assert state["output"] == ["Hello di@Tokyo!", "Hello di@Seattle!", "Hello di@London!"]
    assert [a["functionName"] for a in state["actions"][0]] == ["say_hello"] * 3


def test_log_line_per_function_run_with_instance_id(start_host):
    host = start_host("sequence")
    instance_id = host.start_orchestration("sequence", {"who": "ed"})
    host.wait_for(instance_id)
    lines = host.log_lines()
    activity = [line for line in lines if "Executed 'Functions.say_hello'" in line]
    assert len(activity) == 3
    assert all(line.endswith(f"instance={instance_id}") and "(Succeeded, Id=" in line for line in activity)
    assert activity[0].startswith("2026-01-05T08:00:00Z ")
