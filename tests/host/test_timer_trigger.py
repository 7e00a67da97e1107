"""Timer triggers: %SETTING% schedules, run_on_startup, the schedule monitor and past_due across restarts."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

from tests.host.conftest import wait_status


def _records(tmp_path, count, host):
    path = tmp_path / "timer.jsonl"
    for _ in range(500):
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.02)
    raise AssertionError(f"expected {count} timer runs: {host.log_lines()}")


def test_schedule_from_setting_run_on_startup_and_past_due(start_host, clock, tmp_path):
    host = start_host("timer_trigger", DRIFT_SCHEDULE="0 */5 * * * *")
    first = _records(tmp_path, 1, host)[0]
    assert first == {
        "past_due": False,
        "status": {
            "Last": "0001-01-01T00:00:00",
            "Next": "2026-01-05T08:05:00+00:00",
            "LastUpdated": "0001-01-01T00:00:00",
        },
        "started": True,
    }
    assert wait_status(host, "drift-check")["output"] == "no drift"

    clock.advance(timedelta(minutes=4, seconds=59))
    host.wait_idle(1)
    assert len(_records(tmp_path, 1, host)) == 1
    clock.advance(timedelta(seconds=1))
    second = _records(tmp_path, 2, host)[1]
    assert second["past_due"] is False
    assert second["status"]["Next"] == "2026-01-05T08:05:00+00:00"
    assert second["started"] is True  # the previous run completed, so the singleton starts again

    host.stop()
    assert "DRIFT_SCHEDULE" not in os.environ  # settings are restored when the host stops
    clock.advance(timedelta(minutes=16))  # 08:10, 08:15 and 08:20 are missed while the host is down
    restarted = start_host("timer_trigger", DRIFT_SCHEDULE="0 */5 * * * *")
    third = _records(tmp_path, 3, restarted)[2]
    assert third["past_due"] is True
    assert third["status"]["Last"] == "2026-01-05T08:05:00+00:00"
    assert third["status"]["Next"] == "2026-01-05T08:10:00+00:00"
    assert any("firing (IsPastDue)" in line for line in restarted.log_lines())


def test_frequent_schedule_has_no_monitor(start_host, clock, tmp_path):
    host = start_host("timer_trigger", DRIFT_SCHEDULE="*/10 * * * * *")
    assert _records(tmp_path, 1, host)[0]["status"] == {}
    clock.advance(10)
    assert _records(tmp_path, 2, host)[1]["past_due"] is False
