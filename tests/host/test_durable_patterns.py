"""Monitor loop on durable timers, retry (DTFx RetryInterceptor ids), fan-out/fan-in + sub-orchestration, eternal."""

from __future__ import annotations

import json
from datetime import timedelta

import requests

from local.host.history import parse_time
from tests.host.conftest import START, events, poll, wait_custom_status


def _start(host, name, payload, instance_id=None):
    params = {"id": instance_id} if instance_id else {}
    response = requests.post(f"{host.url}/api/start/{name}", json=payload, params=params)
    assert response.status_code == 202, response.text
    return response.json()


def test_monitor_polls_on_durable_timers_driven_by_the_clock(start_host, clock):
    host = start_host("durable")
    links = _start(host, "monitor", {"ready_after": 3}, "monitor-1")
    wait_custom_status(host, "monitor-1", {"polls": 1, "state": "pending"})

    running = requests.get(links["statusQueryGetUri"])
    assert running.status_code == 202
    assert running.headers["Retry-After"] == "5"
    assert running.headers["Location"] == links["statusQueryGetUri"]
    assert running.json()["runtimeStatus"] == "Running"

    clock.advance(timedelta(seconds=29))
    assert host.wait_idle(5)
    assert host.status("monitor-1")["customStatus"]["polls"] == 1  # the timer is not due yet
    clock.advance(timedelta(seconds=1))
    wait_custom_status(host, "monitor-1", {"polls": 2, "state": "pending"})
    clock.advance(timedelta(seconds=30))

    done = poll(links["statusQueryGetUri"], lambda r: r.status_code == 200).json()
    assert done["runtimeStatus"] == "Completed"
    assert done["output"] == {"polls": 3, "finished": (START + timedelta(seconds=60)).isoformat()}

    history = host.history("monitor-1")
    fired = [e for e in history if e["EventType"] == 11]
    assert len(fired) == 2
    for event in fired:  # the episode that delivers TimerFired starts at or after FireAt
        index = history.index(event)
        started = max(i for i in range(index) if history[i]["EventType"] == 12)
        assert parse_time(history[started]["Timestamp"]) >= parse_time(event["FireAt"])


def test_retry_follows_dtfx_ids_and_backoff(start_host, clock, tmp_path):
    host = start_host("durable")
    _start(host, "retrying", 2, "retry-1")
    host.wait_idle(5)
    assert (tmp_path / "flaky.count").read_text() == "1"
    clock.advance(5)
    host.wait_idle(5)
    assert (tmp_path / "flaky.count").read_text() == "2"
    clock.advance(5)
    status = host.wait_for("retry-1")

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["succeeded on attempt 3", "after"]
    scheduling = [(name, key) for name, key in events(host, "retry-1") if name in ("TaskScheduled", "TimerCreated")]
    assert scheduling == [
        ("TaskScheduled", 0),
        ("TimerCreated", 1),
        ("TaskScheduled", 2),
        ("TimerCreated", 3),
        ("TaskScheduled", 4),
        ("TaskScheduled", 5),
    ]
    timers = [e for e in host.history("retry-1") if e["EventType"] == 10]
    assert [parse_time(t["FireAt"]) for t in timers] == [START + timedelta(seconds=5), START + timedelta(seconds=10)]


def test_retry_exhausted_fails_after_the_dummy_timer(start_host, clock):
    host = start_host("durable")
    _start(host, "retrying", 5, "retry-2")
    for _ in range(2):
        host.wait_idle(5)
        clock.advance(5)
    status = host.wait_for("retry-2")

    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'retrying' failed: Activity function 'flaky' failed: ValueError: attempt 3 failed"
    )
    timers = [e for e in host.history("retry-2") if e["EventType"] == 10]
    # Two back-off timers, then DTFx's immediate "dummy" timer after the last attempt.
    assert [e["EventId"] for e in timers] == [1, 3, 5]
    assert parse_time(timers[-1]["FireAt"]) == START + timedelta(seconds=10)


def test_fan_out_fan_in_with_sub_orchestration_and_bounded_concurrency(start_host):
    host = start_host("durable")
    _start(host, "fan_out", list(range(6)), "fan-1")
    status = host.wait_for("fan-1")

    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["sum"] == 150
    assert status["output"]["parent"] == "fan-1"
    assert status["output"]["max_parallel"] <= 2  # host.json maxConcurrentActivityFunctions
    names = events(host, "fan-1")
    assert [key for name, key in names if name == "TaskScheduled"] == [0, 1, 2, 3, 4, 5]
    assert ("SubOrchestrationInstanceCreated", 6) in names
    child_id = next(e["InstanceId"] for e in host.history("fan-1") if e["EventType"] == 7)
    assert host.status(child_id)["runtimeStatus"] == "Completed"


def test_continue_as_new_keeps_only_the_latest_generation(start_host, clock):
    host = start_host("durable")
    _start(host, "eternal", {"n": 0, "limit": 3}, "eternal-1")
    for _ in range(3):
        host.wait_idle(5)
        clock.advance(timedelta(minutes=1))
    status = host.wait_for("eternal-1")

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"n": 3, "limit": 3}
    assert json.loads(status["input"]) == {"n": 3, "limit": 3}
    history = host.history("eternal-1")
    assert [e["EventType"] for e in history] == [12, 0, 1, 13]
