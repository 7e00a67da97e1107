"""verify_link and verify_sweep replayed by the local host's real Durable engine, over stub activities.

The stubs (apps/stubbed) answer by link name, so each orchestration path is exercised without Azure:
healthy, drifted, unreachable, remediated, unreadable, throttled once; and the sweep's bounded fan-out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelink.options import RunOptions
from local.host import LocalHost

APP = Path(__file__).parent / "apps" / "stubbed"
FAST = RunOptions(poll_seconds=0.1, retry_first_seconds=0.1, retry_max_seconds=0.2, retry_attempts=2).to_json()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Callable[..., LocalHost]]:
    hosts: list[LocalHost] = []

    def start(*links: str) -> LocalHost:
        settings = tmp_path / "local.settings.json"
        values = {"HOST_TEST_DIR": str(tmp_path), "STUB_LINKS": ",".join(links)}
        settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
        started = LocalHost(APP, port=0, state_dir=tmp_path / "state", settings_file=settings, log_stream=io.StringIO())
        hosts.append(started.start())
        return started

    yield start
    for started in hosts:
        started.stop()


def calls(tmp_path: Path, activity: str) -> list[dict[str, Any]]:
    path = tmp_path / f"{activity}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def verify(started: LocalHost, name: str) -> dict[str, Any]:
    instance = started.start_orchestration("verify_link", {"name": name, "options": FAST}, f"verify-link-{name}")
    status = started.wait_for(instance, timeout=20)
    assert status["runtimeStatus"] == "Completed", status
    output: dict[str, Any] = status["output"]
    return output


def test_healthy_link_records_no_drift_and_is_ready(host: Callable[..., LocalHost], tmp_path: Path) -> None:
    output = verify(host(), "healthy-1")
    assert output["ready"] is True and output["drift"] == [] and output["probe"]["status"] == 200
    (recorded,) = calls(tmp_path, "record_verification")
    assert recorded["records"] == [] and recorded["verifiedAt"] == output["verifiedAt"]
    assert calls(tmp_path, "remediate_link") == []


def test_changed_setting_is_one_config_record_not_remediated(host: Callable[..., LocalHost], tmp_path: Path) -> None:
    output = verify(host(), "drifted-1")
    (record,) = output["drift"]
    assert record == {
        "link": "drifted-1",
        "detectedAt": output["verifiedAt"],
        "kind": "config",
        "resource": "/subscriptions/s/resourceGroups/apps-rg/providers/Microsoft.Web/sites/demo/config/appsettings",
        "field": "appSettings.PrivateAddress",
        "expected": "10.240.16.25",
        "actual": "10.240.16.99",
        "remediated": False,
        "restartsApp": True,  # an app-setting write restarts the app
        "ownership": None,  # the fake check rows carry no ownership label
    }
    assert calls(tmp_path, "record_verification")[0]["records"] == [record]
    assert calls(tmp_path, "remediate_link") == []


def test_failed_probe_is_a_connectivity_record(host: Callable[..., LocalHost]) -> None:
    (record,) = verify(host(), "unreachable-1")["drift"]
    assert (record["kind"], record["field"], record["expected"], record["actual"]) == (
        "connectivity",
        "status",
        200,
        502,
    )


def test_remediate_true_reprovisions_and_records_say_so(host: Callable[..., LocalHost], tmp_path: Path) -> None:
    output = verify(host(), "fixme-1")
    assert output["remediation"] == {"instanceId": "link-fixme-1", "started": True}
    assert [r["remediated"] for r in output["drift"]] == [True]
    assert calls(tmp_path, "record_verification")[0]["records"][0]["remediated"] is True
    (started,) = calls(tmp_path, "remediate_link")
    assert started["spec"]["name"] == "fixme-1" and started["options"] == FAST


def test_unreadable_link_is_recorded_as_an_error_not_a_failed_run(
    host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    output = verify(host(), "broken-1")
    assert output["ready"] is None and output["error"]["code"] == "AuthorizationFailed"
    (recorded,) = calls(tmp_path, "record_verification")
    assert recorded["error"]["code"] == "AuthorizationFailed" and "records" not in recorded


def test_throttled_read_is_retried_after_a_durable_timer(host: Callable[..., LocalHost], tmp_path: Path) -> None:
    assert verify(host(), "flaky-1")["ready"] is True
    assert len(calls(tmp_path, "verify_link_config")) == 2


def test_sweep_verifies_every_link_with_bounded_concurrency(host: Callable[..., LocalHost], tmp_path: Path) -> None:
    links = [f"healthy-{i}" for i in range(7)] + ["drifted-1", "unreachable-1", "broken-1", "fixme-1"]
    started = host(*links)
    instance = started.start_orchestration("verify_sweep", {"concurrency": 3, "options": FAST}, "verify-sweep")
    status = started.wait_for(instance, timeout=60)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"] == {"links": 11, "healthy": 7, "drifted": 3, "failed": 1}
    verified = sorted(c["name"] for c in calls(tmp_path, "record_verification"))
    assert verified == sorted(links)
    assert 1 < int((tmp_path / "max_running").read_text()) <= 3
    assert [c["spec"]["name"] for c in calls(tmp_path, "remediate_link")] == ["fixme-1"]


def test_sweep_with_no_links_completes_empty(host: Callable[..., LocalHost]) -> None:
    started = host()
    instance = started.start_orchestration("verify_sweep", {"concurrency": 3, "options": FAST}, "verify-sweep")
    status = started.wait_for(instance, timeout=20)
    assert status["output"] == {"links": 0, "healthy": 0, "drifted": 0, "failed": 0}
