"""Drift from ARM's events, end to end: the sandbox publishes every write to the host's Event Grid trigger.

Someone else's write to a resource the link depends on becomes a drift record with no sweep and no verify
request; a burst of writes is verified once; kubelink's own writes, reads by action and writes to resources
no link uses start nothing. The host is subscribed for this module only (the other drift tests verify on
request and must not race an event-started verification).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.mgmt.web.models import StringDictionary

from local.supervisor import World
from tests.verify.conftest import Kubelink
from tests.verify.test_drift_world import APP, GROUP, NAME, SETTING, SPEC, converge

VERIFY_INSTANCE = f"verify-link-{NAME}"


@pytest.fixture(scope="module")
def subscribed(drift_world: World, kubelink: Kubelink) -> Iterator[Kubelink]:
    drift_world.subscribe_host_to_events()
    try:
        yield kubelink
    finally:
        drift_world.unsubscribe_host_from_events()


def delivered(kubelink: Kubelink) -> int:
    (subscription,) = kubelink.http.get(f"{kubelink.arm}/_sandbox/eventSubscriptions", timeout=30).json()["value"]
    assert subscription["failed"] == 0, subscription
    return int(subscription["delivered"])


def settled(kubelink: Kubelink, before: int, timeout: float = 30) -> int:
    """Wait until the sandbox has delivered events beyond ``before`` and has none pending (each delivery
    answers only once the trigger has run); returns the new count."""
    deadline = time.monotonic() + timeout
    while True:
        (subscription,) = kubelink.http.get(f"{kubelink.arm}/_sandbox/eventSubscriptions", timeout=30).json()["value"]
        if subscription["delivered"] > before and subscription["pending"] == 0:
            return int(subscription["delivered"])
        assert time.monotonic() < deadline, f"no event delivered: {subscription}"
        time.sleep(0.1)


def verification(kubelink: Kubelink) -> dict[str, Any] | None:
    """The link's verification run (the status API's payload, its input decoded), or None when there is none."""
    uri = kubelink.instance_status_uri(VERIFY_INSTANCE)
    response = kubelink.http.get(uri, params={"showInput": "true"}, timeout=30)
    if response.status_code not in (200, 202):
        return None
    status: dict[str, Any] = response.json()
    if isinstance(status.get("input"), str):  # the Python client's start_new sends it JSON-encoded
        status["input"] = json.loads(status["input"])
    return status


def sweep_started(kubelink: Kubelink) -> bool:
    return kubelink.http.get(kubelink.instance_status_uri("verify-sweep"), timeout=30).status_code != 404


def set_setting(kubelink: Kubelink, value: str) -> None:
    web = kubelink.web()
    settings = dict(web.web_apps.list_application_settings(GROUP, APP).properties)
    web.web_apps.update_application_settings(GROUP, APP, StringDictionary(properties={**settings, SETTING: value}))


def wait_drift(kubelink: Kubelink, seen: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        records = kubelink.get(f"/api/links/{NAME}/drift")["value"]
        if len(records) > seen:
            return list(records)
        assert time.monotonic() < deadline, "no drift record appeared"
        time.sleep(0.2)


def test_someone_elses_write_is_drift_with_no_sweep_and_no_verify_request(subscribed: Kubelink) -> None:
    kubelink = subscribed
    converge(kubelink, remediate=False)
    seen = len(kubelink.get(f"/api/links/{NAME}/drift")["value"])
    verify_requests = host_log(kubelink).count("Functions.verify_link_now")
    set_setting(kubelink, "10.9.9.9")
    records = wait_drift(kubelink, seen)
    newest = records[0]
    assert (newest["resource"], newest["field"]) == (f"{SPEC.app_id}/config/appsettings", f"appSettings.{SETTING}")
    assert newest["actual"] == "10.9.9.9" and newest["remediated"] is False
    kubelink.follow(kubelink.instance_status_uri(VERIFY_INSTANCE))  # its drift is recorded before it ends
    run = verification(kubelink)
    assert run is not None and run["runtimeStatus"] == "Completed", run
    assert run["input"]["change"]["resource"] == SPEC.app_id.lower()
    assert run["input"]["change"]["operation"] == "Microsoft.Web/sites/config/write"
    assert not sweep_started(kubelink)
    assert host_log(kubelink).count("Functions.verify_link_now") == verify_requests
    # kubelink's own write (the run puts the setting back) is an event too, and starts nothing
    count = delivered(kubelink)
    converge(kubelink, remediate=False)
    settled(kubelink, count)
    time.sleep(1.5)  # longer than the settle time: a verification started by that event would show by now
    assert verification(kubelink) == run


def test_a_burst_of_writes_is_verified_once(subscribed: Kubelink) -> None:
    kubelink = subscribed
    converge(kubelink, remediate=False)
    seen = len(kubelink.get(f"/api/links/{NAME}/drift")["value"])
    for value in ("10.9.9.1", "10.9.9.2", "10.9.9.3"):
        set_setting(kubelink, value)
    wait_drift(kubelink, seen)
    run = kubelink.follow(kubelink.instance_status_uri(VERIFY_INSTANCE)).status
    assert run["runtimeStatus"] == "Completed" and run["output"]["ready"] is False, run
    records = kubelink.get(f"/api/links/{NAME}/drift")["value"]
    new = records[: len(records) - seen]
    assert len({r["detectedAt"] for r in new}) == 1, new  # one verification
    assert [r["actual"] for r in new if r["field"] == f"appSettings.{SETTING}"] == ["10.9.9.3"]  # after the last
    converge(kubelink, remediate=False)


def host_log(kubelink: Kubelink) -> str:
    return (kubelink.world.state_dir / "logs" / "host.log").read_text()


def test_reads_by_action_and_unrelated_resources_start_nothing(subscribed: Kubelink) -> None:
    kubelink = subscribed
    converge(kubelink, remediate=False)
    count = settled(kubelink, delivered(kubelink) - 1)
    time.sleep(1.5)
    before = verification(kubelink)
    web = kubelink.web()
    web.web_apps.list_application_settings(GROUP, APP)  # an action on the link's own app, that only reads
    other = dict(web.web_apps.list_application_settings(GROUP, "kubelink-linux").properties)
    web.web_apps.update_application_settings(
        GROUP, "kubelink-linux", StringDictionary(properties={**other, "Unrelated": "1"})
    )
    settled(kubelink, count + 1)
    time.sleep(1.5)
    assert verification(kubelink) == before
