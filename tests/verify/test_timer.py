"""The drift timer: its schedule expression, and one sweep at a time under the fixed id ``verify-sweep``."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.verify_timer import verify_schedule_expression
from local.host import LocalHost, ManualClock

APP = Path(__file__).parent / "apps" / "stubbed"


def test_schedule_is_the_hosts_setting_expression_when_set_else_hourly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBELINK_VERIFY_SCHEDULE", "0 */5 * * * *")
    assert verify_schedule_expression() == "%KUBELINK_VERIFY_SCHEDULE%"
    monkeypatch.setenv("KUBELINK_VERIFY_SCHEDULE", " ")
    assert verify_schedule_expression() == "0 0 * * * *"
    monkeypatch.delenv("KUBELINK_VERIFY_SCHEDULE")
    assert verify_schedule_expression() == "0 0 * * * *"


def test_a_tick_during_a_sweep_leaves_it_alone_and_the_next_one_starts_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the default schedule: the function module may be imported before the host applies settings."""
    caplog.set_level(logging.INFO, logger="api.verify_timer")
    clock = ManualClock(datetime(2026, 1, 5, 8, 0, 1, tzinfo=UTC))
    values = {
        "HOST_TEST_DIR": str(tmp_path),
        "STUB_LINKS": "slow-1,healthy-1,drifted-1",
        "KUBELINK_VERIFY_CONCURRENCY": "2",
        "KUBELINK_POLL_SECONDS": "1",
    }
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    with LocalHost(
        APP, port=0, state_dir=tmp_path / "state", settings_file=settings, clock=clock, log_stream=io.StringIO()
    ) as host:
        _wait(lambda: any("Timer 'verify_links_on_schedule'" in line for line in host.log_lines()))
        clock.advance(timedelta(minutes=60))  # 09:00 (the default schedule, hourly): the first tick starts the sweep
        _wait(lambda: host.status("verify-sweep") is not None)
        clock.advance(timedelta(minutes=60))  # 10:00: slow-1 still being verified
        _wait(lambda: any("still running" in r.getMessage() for r in caplog.records))
        first = host.wait_for("verify-sweep", timeout=20)
        assert first["runtimeStatus"] == "Completed"
        assert first["output"] == {"links": 3, "healthy": 2, "drifted": 1, "failed": 0}
        assert first["input"] and json.loads(first["input"])["concurrency"] == 2
        clock.advance(timedelta(minutes=60))  # 11:00: the sweep is done, so a new one starts
        _wait(lambda: len((tmp_path / "verify_fleet.jsonl").read_text().splitlines()) == 2)
        assert sum("Started verification sweep" in r.getMessage() for r in caplog.records) == 2


def _wait(condition: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
