"""External events (buffered), task_any timeouts with timer cancel, activity failures and non-determinism."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.host.conftest import events


def test_event_wins_the_race_and_cancels_the_timeout(start_host):
    host = start_host("timeouts")
    links = requests.post(f"{host.url}/api/start/approval/ap-1").json()
    host.wait_for("ap-1", statuses=("Running",))
    host.wait_idle(5)

    # The real client raises through the SDK (double-encoded JSON, SDK #295) via an HTTP function.
    assert requests.post(f"{host.url}/api/approve/ap-1", json={"by": "ops"}).status_code == 202
    status = host.wait_for("ap-1")
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"approved": '{"by": "ops"}'}
    assert events(host, "ap-1")[2:4] == [("TimerCreated", 0), ("OrchestratorCompleted", -1)]
    assert links["sendEventPostUri"].endswith("/raiseEvent/{eventName}?taskHub=HostTests&connection=Storage")


def test_timeout_fires_when_no_event_arrives(start_host, clock):
    host = start_host("timeouts")
    requests.post(f"{host.url}/api/start/approval/ap-2")
    host.wait_idle(5)
    clock.advance(timedelta(minutes=59))
    host.wait_idle(5)
    assert host.status("ap-2")["runtimeStatus"] == "Running"
    clock.advance(timedelta(minutes=1))
    status = host.wait_for("ap-2")
    assert status["output"] == {"approved": None, "timed_out_at": "2026-01-05T09:00:00+00:00"}


def test_raw_http_event_is_buffered_until_awaited(start_host):
    host = start_host("timeouts")
    instance_id = host.start_orchestration("two_events", instance_id="ev-1")
    url = f"{host.url}/runtime/webhooks/durabletask/instances/{instance_id}/raiseEvent/Go"
    host.wait_idle(5)
    # Both arrive before the second wait_for_external_event: the second one is buffered in order.
    assert requests.post(url, json={"n": 1}).status_code == 202
    assert requests.post(url, json={"n": 2}).status_code == 202
    status = host.wait_for(instance_id)
    assert status["output"] == [{"n": 1}, {"n": 2}]
    assert requests.post(url, json={"n": 3}).status_code == 410


def test_raise_event_requires_json_content(start_host):
    host = start_host("timeouts")
    host.start_orchestration("two_events", instance_id="ev-2")
    base = f"{host.url}/runtime/webhooks/durabletask/instances"
    bad_type = requests.post(f"{base}/ev-2/raiseEvent/Go", data="1", headers={"Content-Type": "text/plain"})
    assert bad_type.status_code == 400
    assert bad_type.json() == {"Message": "Only application/json request content is supported"}
    bad_json = requests.post(f"{base}/ev-2/raiseEvent/Go", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["Message"] == "Invalid JSON content"
    assert requests.post(f"{base}/nope/raiseEvent/Go", json=1).status_code == 404


def test_unhandled_activity_failure_fails_the_orchestration(start_host):
    host = start_host("failures")
    instance_id = host.start_orchestration("fatal", instance_id="f-1")
    status = host.wait_for(instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'fatal' failed: Activity function 'explode' failed: ValueError: boom \n {"
    )
    url = f"{host.url}/runtime/webhooks/durabletask/instances/f-1"
    assert requests.get(url).status_code == 200
    assert requests.get(url, params={"returnInternalServerErrorOnFailure": "true"}).status_code == 500
    failed = next(e for e in host.history(instance_id) if e["EventType"] == 6)
    assert failed["Reason"] == "Activity function 'explode' failed: ValueError: boom"
    assert "Traceback" in failed["Details"]
    assert any("Executed 'Functions.explode' (Failed" in line for line in host.log_lines())


def test_caught_activity_failure_is_an_ordinary_exception(start_host):
    host = start_host("failures")
    status = host.wait_for(host.start_orchestration("tolerant"))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"caught": "Activity function 'explode' failed: ValueError: bang"}


def test_orchestrator_exception_and_unserializable_output(start_host):
    host = start_host("failures")
    raised = host.wait_for(host.start_orchestration("bad_output", "raise"))
    assert raised["runtimeStatus"] == "Failed"
    assert raised["output"] == "Orchestrator function 'bad_output' failed: orchestrator gave up"
    assert raised["customStatus"] == "about to fail"
    unserializable = host.wait_for(host.start_orchestration("bad_output", "return"))
    assert unserializable["output"] == (
        "Orchestrator function 'bad_output' failed: Object of type set is not JSON serializable"
    )


def test_non_determinism_fails_the_instance_like_dtfx(start_host, tmp_path):
    host = start_host("nondeterministic")
    instance_id = host.start_orchestration("flip", instance_id="nd-1")
    host.wait_idle(5)
    assert host.status(instance_id)["runtimeStatus"] == "Running"

    (tmp_path / "switch").write_text("on")  # the code path changes under an in-flight instance
    host.raise_event(instance_id, "Continue", True)
    status = host.wait_for(instance_id)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == (
        "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task "
        "with sequence number 0 named 'step_a', but the current orchestration replay instead scheduled an activity "
        "task named 'step_b' with this sequence number.  Was a change made to the orchestrator code after this "
        "instance had already started running?"
    )
    # As in DTFx, the failing episode's history gains the ExecutionCompleted(Failed) after the replayed events.
    assert host.history(instance_id)[-2]["OrchestrationStatus"] == 3


def test_failed_sub_orchestration_reaches_the_parent(start_host):
    host = start_host("failures")
    status = host.wait_for(host.start_orchestration("parent", instance_id="p-1"))
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {
        "child_failed": "Orchestrator function 'fatal' failed: Activity function 'explode' failed: ValueError: boom"
    }
    assert host.status("child-of-parent")["runtimeStatus"] == "Failed"


def test_unknown_activity_waits_forever_like_the_extension(start_host):
    host = start_host("failures")
    instance_id = host.start_orchestration("typo")
    host.wait_idle(5)
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    assert any("The function 'no_such_activity' doesn't exist" in line for line in host.log_lines())


def test_start_and_wait_returns_the_output(start_host):
    host = start_host("failures")
    url = f"{host.url}/runtime/webhooks/durabletask/orchestrators/tolerant"
    response = requests.post(url, params={"timeout": "5", "pollingInterval": "0.05"})
    assert response.status_code == 200
    assert response.json() == {"caught": "Activity function 'explode' failed: ValueError: bang"}
