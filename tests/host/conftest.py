"""Fixtures: start a fixture app (tests/host/apps/<name>) on a free port with a manual clock and temp state."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from local.host import LocalHost, ManualClock

APPS = Path(__file__).parent / "apps"
START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def start_host(tmp_path: Path, clock: ManualClock) -> Iterator[Callable[..., LocalHost]]:
    """``start_host("durable", SETTING=value)``: settings go to a local.settings.json, as Core Tools reads them."""
    hosts: list[LocalHost] = []

    def start(app: str, *, state: Path | None = None, **values: str) -> LocalHost:
        settings = tmp_path / "local.settings.json"
        settings.write_text(json.dumps({"IsEncrypted": False, "Values": {"HOST_TEST_DIR": str(tmp_path), **values}}))
        host = LocalHost(
            APPS / app,
            port=0,
            state_dir=state or tmp_path / "state",
            settings_file=settings,
            clock=clock,
            log_stream=io.StringIO(),
        )
        hosts.append(host.start())
        return host

    yield start
    for host in hosts:
        host.stop()


def poll(url: str, until: Callable[[requests.Response], bool], timeout: float = 10.0) -> requests.Response:
    """GET ``url`` until ``until(response)``; the last response is in the assertion message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url, timeout=5)
        except requests.ConnectionError:  # not listening yet
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.05)
            continue
        if until(response):
            return response
        assert time.monotonic() < deadline, f"gave up on {url}: {response.status_code} {response.text}"
        time.sleep(0.02)


def wait_status(host: LocalHost, instance_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
    return host.wait_for(instance_id, timeout=timeout, statuses=statuses or ("Completed", "Failed", "Terminated"))


def wait_custom_status(host: LocalHost, instance_id: str, expected: Any, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = host.status(instance_id)
        if status is not None and status["customStatus"] == expected:
            return status
        assert time.monotonic() < deadline, f"{instance_id}: {status}"
        time.sleep(0.02)


def events(host: LocalHost, instance_id: str) -> list[tuple[str, Any]]:
    """The recorded history as (EventType name, id) pairs, for asserting DTFx's id allocation."""
    from local.host.history import EVENT_NAMES

    out = []
    for event in host.history(instance_id):
        name = EVENT_NAMES[event["EventType"]]
        key = event.get("TaskScheduledId", event.get("TimerId", event["EventId"]))
        out.append((name, key))
    return out
